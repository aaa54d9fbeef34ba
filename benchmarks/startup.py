"""Start-up of the command line: ``audit --version`` and ``audit run`` of the sample, against their targets.

A gate on a trust's daily load is dominated by start-up, so the two commands CI runs most are timed here, from
process start to exit, in rounds (each command once a round, several rounds: this 2-core machine is shared and
its speed drifts), with the interpreter's own start-up and the import of pandas and pyarrow (what any run that
reads an extract needs) as floors measured in the same rounds. ``--imports`` lists what ``audit --version``
imports, heaviest first (``python -X importtime``).

The ``audit`` script run is the one installed beside this interpreter (a pyenv shim on ``PATH`` would add its
own 0.07 s of bash to every command).

Usage::

    python benchmarks/startup.py --rounds 10 --imports
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_episodes" / "hes_sample.csv"
VERSION_TARGET, RUN_TARGET = 0.3, 0.6


def audit_script() -> str:
    """The ``audit`` console script of this interpreter's environment (else the one on PATH)."""
    beside = Path(sys.executable).with_name("audit")
    return str(beside) if beside.exists() else (shutil.which("audit") or "audit")


def commands() -> list[tuple[str, list[str], float | None]]:
    """(label, command, target seconds or None for a floor) in the order each round runs them."""
    audit = audit_script()
    return [
        ("python -c pass", [sys.executable, "-c", "pass"], None),
        ("python -c 'import pandas, pyarrow'", [sys.executable, "-c", "import pandas, pyarrow"], None),
        ("audit --version", [audit, "--version"], VERSION_TARGET),
        ("audit run sample_episodes/hes_sample.csv", [audit, "run", str(SAMPLE)], RUN_TARGET),
    ]


def wall(cmd: list[str]) -> float:
    """Seconds from start to exit of one run (output discarded; exit 0 or 1, as a gate ends)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, cwd=REPO)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return elapsed


def measure(rounds: int) -> list[tuple[str, float | None, list[float]]]:
    """Each command's wall times, one a round; a first unmeasured run warms the file cache (and numba's)."""
    plan = commands()
    for _, cmd, _ in plan:
        wall(cmd)
    times: dict[str, list[float]] = {label: [] for label, _, _ in plan}
    for _ in range(rounds):
        for label, cmd, _ in plan:
            times[label].append(wall(cmd))
    return [(label, target, times[label]) for label, _, target in plan]


# Each command's floor: what any such command pays (the interpreter; the interpreter with pandas and pyarrow).
FLOOR_OF = {"audit --version": "python -c pass",
            "audit run sample_episodes/hes_sample.csv": "python -c 'import pandas, pyarrow'"}


def table(results: list[tuple[str, float | None, list[float]]]) -> str:
    """Markdown: command, median, fastest and slowest run, target and whether the median meets it, and the
    median by round of its time over its floor's (``FLOOR_OF``): the figure a busy machine moves least."""
    walls_of = {label: walls for label, _, walls in results}
    lines = ["| command | median s | fastest s | slowest s | target s | met | × floor by round |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    for label, target, walls in results:
        met = "floor" if target is None else ("yes" if statistics.median(walls) < target else "no")
        floor = walls_of.get(FLOOR_OF.get(label, ""))
        ratio = f"{statistics.median(w / f for w, f in zip(walls, floor)):.2f} ({FLOOR_OF[label]})" if floor \
            else "–"
        lines.append(f"| `{label}` | {statistics.median(walls):.2f} | {min(walls):.2f} | {max(walls):.2f} | "
                     f"{'–' if target is None else f'{target:.1f}'} | {met} | {ratio} |")
    return "\n".join(lines)


def imports(cmd: list[str] | None = None, top: int = 12) -> str:
    """The heaviest packages a command imports (``-X importtime``, cumulative ms of each top-level import)."""
    cmd = cmd or [sys.executable, "-X", "importtime", "-m", "audit", "--version"]
    err = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO,
                         env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stderr
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name[1:].startswith(" "):  # top level: one space after the bar
            rows.append((int(cumulative) / 1000, name.strip()))
    rows.sort(reverse=True)
    return "\n".join(f"{ms:8.1f} ms  {name}" for ms, name in rows[:top])


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; exit status 1 when a target is not met."""
    parser = argparse.ArgumentParser(description="Start-up of audit --version and audit run of the sample.")
    parser.add_argument("--rounds", type=int, default=10, help="runs of each command, in rounds")
    parser.add_argument("--imports", action="store_true", help="also list what audit --version imports")
    parser.add_argument("--results", help="append the table to this file")
    args = parser.parse_args(argv)
    results = measure(args.rounds)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    report = f"Start-up {stamp}, {os.cpu_count()} CPUs, {args.rounds} rounds, {audit_script()}\n\n{table(results)}"
    if args.imports:
        report += "\n\nImported by `audit --version` (cumulative, top level):\n\n```text\n" + imports() + "\n```"
    print(report)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(f"## {report}\n\n")
    return 0 if all(t is None or statistics.median(w) < t for _, t, w in results) else 1


if __name__ == "__main__":
    sys.exit(main())
