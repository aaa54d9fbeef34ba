"""Benchmark the audit engine against a pyarrow read floor and a DuckDB peer on one or more HES extracts.

Each variant runs in its own subprocess; the parent measures wall time (process start to exit, imports
included), its CPU seconds (user + system, all its threads and any child processes), and two peaks of memory:
``ru_maxrss`` from ``os.wait4`` (the largest single process: the child or one it waited for) and, on
Linux, the peak of the whole process tree's summed RSS, sampled from /proc every 20 ms (a run that
starts child processes uses the memory of all of them). Variants:

  floor   read EPIKEY and the code columns with pyarrow, touching every batch
          (Parquet: ParquetFile.iter_batches with the code columns read as dictionaries, not pre-buffered;
          CSV: pyarrow.csv.open_csv streaming, or read_csv with --csv-reader read; codes typed as strings)
  duckdb  the four fixed rules as one DuckDB SQL query (benchmarks/duckdb_peer.py), counts checked against
          the extract's expected JSON
  engine  the engine command line end to end (default ``audit run {file} --format csv --output {out}``),
          its counts checked for every rule of the expected JSON (the four fixed rules and the national rules
          the coding errors break); skipped with a note when the command is not found
  engine-NAME  another engine command (``--engine-variant NAME=CMD``, repeatable), checked the same way: e.g.
          the same engine with another ruleset, in the same rounds; "engine / engine-NAME by round" compares them

An engine's findings are counted by a child process of their own: a child's ``ru_maxrss`` starts from the
parent's RSS when it is spawned (Linux records the old memory's peak at exec), so the parent stays small.

Usage::

    python benchmarks/run.py benchmarks/data/hes_1m.parquet --variants floor,duckdb,engine --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import hes

VARIANTS = ("floor", "duckdb", "engine")


def is_engine(variant: str) -> bool:
    """The engine variant or one of ``--engine-variant``'s (``engine-NAME``)."""
    return variant == "engine" or variant.startswith("engine-")
DEFAULT_ENGINE_CMD = "audit run {file} --format csv --output {out}"
FINDING_COLUMNS = {
    "episode": ("epikey", "episode_id", "episode", "episode_key", "record_id", "row_id", "id"),
    "rule": ("rule_id", "rule", "ruleid", "rule_code", "check_id", "check"),
    "severity": ("severity", "level", "sev"),
}


# --------------------------------------------------------------------------------------------- child workers
def floor_worker(path: str, csv_reader: str = "stream") -> dict:
    """Read the id and code columns with pyarrow, touching every batch."""
    import pyarrow as pa

    columns = [hes.ID_COLUMN] + hes.CODE_COLUMNS
    rows = nbytes = 0
    if hes.detect_format(path) == "parquet":
        import pyarrow.parquet as pq

        # As the engine reads: without pre-buffering, which would keep the whole file in memory
        # (apache/arrow#39808) and is no faster on a local file.
        parquet = pq.ParquetFile(path, read_dictionary=hes.CODE_COLUMNS, pre_buffer=False)
        for batch in parquet.iter_batches(columns=columns):
            rows += batch.num_rows
            nbytes += batch.nbytes
    else:
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in columns}
        )
        if csv_reader == "read":
            table = pacsv.read_csv(path, convert_options=convert)
            rows, nbytes = table.num_rows, table.nbytes
        else:
            for batch in pacsv.open_csv(path, convert_options=convert):
                rows += batch.num_rows
                nbytes += batch.nbytes
    return {"rows": rows, "bytes": nbytes}


def duckdb_worker(path: str) -> dict:
    """Run the DuckDB peer query and count its findings per rule."""
    from benchmarks import duckdb_peer

    found = duckdb_peer.findings(path)
    return {"findings": len(found), "counts": hes.counts_from_findings(found)}


def read_findings_csv(path: str | Path) -> hes.Counts | None:
    """Per-rule counts from an engine findings CSV, or None when its columns cannot be recognised."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        names = {name.strip().lower(): name for name in reader.fieldnames or ()}
        picked = {}
        for role, candidates in FINDING_COLUMNS.items():
            match = next((names[c] for c in candidates if c in names), None)
            if match is None:
                return None
            picked[role] = match
        return hes.counts_from_findings(
            ((row[picked["episode"]], row[picked["rule"]].strip(), row[picked["severity"]].strip())
             for row in reader),
            every_rule=True,
        )


# --------------------------------------------------------------------------------------------- measurement
@dataclass
class Run:
    """One measured subprocess run."""

    wall: float
    peak_rss_mb: float
    returncode: int
    stderr: str = ""
    timed_out: bool = False
    accepted: tuple[int, ...] = (0,)  # the engine exits 1 when it reports error findings: a success here
    cpu: float = 0.0  # user + system seconds, waited-for children included
    tree_rss_mb: float = 0.0  # peak of the process tree's summed RSS (0 where /proc is not available)

    @property
    def succeeded(self) -> bool:
        return not self.timed_out and self.returncode in self.accepted


@dataclass
class Result:
    """Best run of a variant on one file, with its check."""

    variant: str
    file: str
    episodes: int
    run: Run | None = None
    check: str = ""
    counts: hes.Counts | None = None
    ok: bool = True
    extra: dict = field(default_factory=dict)
    walls: list[float | None] = field(default_factory=list)  # each round's wall time (None: failed or not run)


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(pid: int) -> int:
    """Bytes resident in process ``pid`` and all its descendants (Linux /proc; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * _PAGE
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, ()))
    return total


def measure(cmd: list[str], timeout: float) -> Run:
    """Run `cmd`: wall time, CPU time and peak memory (kills it after `timeout` seconds)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        timed_out, finished = threading.Event(), threading.Event()
        peak = [0]

        def kill():
            timed_out.set()
            proc.kill()

        def sample():
            while not finished.wait(0.02):
                peak[0] = max(peak[0], tree_rss(proc.pid))

        timer = threading.Timer(timeout, kill)
        timer.start()
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            finished.set()
            sampler.join()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return Run(wall, usage.ru_maxrss / 1024, proc.returncode, stderr, timed_out.is_set(),
               cpu=usage.ru_utime + usage.ru_stime, tree_rss_mb=peak[0] / 2**20)


def best_of_rounds(plans: list[tuple[Result, list[str], tuple[int, ...]]], repeat: int, timeout: float) -> None:
    """Each plan's (result, command, accepted exit codes) fastest successful run of ``repeat``, run in rounds
    (every variant once, then again): this VM's speed drifts by 20-30% within the hour, and rounds give
    each variant, and so each ratio to the floor, the same minutes. A variant's first failure is kept."""
    for _ in range(repeat):
        for result, cmd, accepted in plans:
            if result.run is not None and not result.run.succeeded:
                result.walls.append(None)
                continue
            run = measure(cmd, timeout)
            run.accepted = accepted
            result.walls.append(run.wall if run.succeeded else None)
            if not run.succeeded or result.run is None or run.wall < result.run.wall:
                result.run = run


def round_ratios(result: Result, floor: Result | None) -> list[float]:
    """The variant's wall time over the floor's in each round both succeeded: a ratio of the same minutes."""
    if floor is None:
        return []
    return [w / f for w, f in zip(result.walls, floor.walls) if w is not None and f]


def ratio_spread(ratios: list[float]) -> str:
    """Rounds' ratios as "median (lowest-highest)" (the median alone when they agree), or "–" without any."""
    if not ratios:
        return "–"
    median = statistics.median(ratios)
    low, high = f"{min(ratios):.2f}", f"{max(ratios):.2f}"
    return f"{median:.2f}" if low == high else f"{median:.2f} ({low}-{high})"


def worker_cmd(variant: str, path: str, out: str, csv_reader: str) -> list[str]:
    """Command line re-invoking this script as a child worker."""
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        path,
        "--worker",
        variant,
        "--worker-out",
        out,
        "--csv-reader",
        csv_reader,
    ]


def engine_variant(text: str) -> tuple[str, str]:
    """``NAME=CMD`` of ``--engine-variant``."""
    name, sep, cmd = text.partition("=")
    if not sep or not name.strip() or not cmd.strip() or not name.strip().replace("-", "").isalnum():
        raise argparse.ArgumentTypeError(f"expected NAME=CMD (NAME letters, digits, '-'), got {text!r}")
    return name.strip(), cmd.strip()


def engine_cmd(template: str, path: str, out: str) -> list[str]:
    """The engine command line with {file} and {out} filled in."""
    return [token.format(file=path, out=out) for token in shlex.split(template)]


def describe_failure(run: Run) -> str:
    """Short note for a failed run: exit status and the last line of its stderr."""
    if run.timed_out:
        return f"TIMED OUT after {run.wall:.0f} s"
    last = run.stderr.strip().splitlines()[-1:] or ["no stderr"]
    return f"FAILED (exit {run.returncode}): {last[0][:160]}"


def check_counts(result: Result, expected: dict | None, rules=None) -> None:
    """Compare a result's counts with the expected document (over `rules`, default all of its rules) and set
    its check text."""
    if result.counts is None:
        result.check = "findings not checked (output columns not recognised)"
    elif expected is None:
        result.check = "no expected JSON"
    else:
        problems = hes.compare_counts(result.counts, expected["rules"], rules)
        result.ok = not problems
        result.check = "counts ok" if not problems else "MISMATCH: " + "; ".join(problems)


def counted_by_child(findings_csv: str) -> hes.Counts | None:
    """``read_findings_csv`` in a child process, so that the parent's memory stays that of a small process."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), findings_csv, "--worker", "counts",
                        "--worker-out", out.name], check=True)
        return json.loads(Path(out.name).read_text())["counts"]


def bench_file(path: str, variants: list[str], args) -> list[Result]:
    """Measure every requested variant on one extract."""
    engines = {f"engine-{name}": cmd for name, cmd in args.engine_variants}
    expected = hes.load_expected(path)
    episodes = expected["episodes"] if expected else hes.count_episodes(path)
    results = []
    with tempfile.TemporaryDirectory(prefix="hes-bench-") as tmp:
        plans, outs = [], {}
        for variant in variants:
            result = Result(variant, path, episodes)
            results.append(result)
            # The engine's output is its findings CSV (the .csv lets a command infer the format).
            out = os.path.join(tmp, f"{variant}-findings.csv" if is_engine(variant) else f"{variant}.out")
            if is_engine(variant):
                cmd = engine_cmd(args.engine_cmd if variant == "engine" else engines[variant], path, out)
                if shutil.which(cmd[0]) is None:
                    result.check = f"skipped: `{cmd[0]}` not found on PATH (engine not installed)"
                    continue
            else:
                cmd = worker_cmd(variant, path, out, args.csv_reader)
            plans.append((result, cmd, (0, 1) if is_engine(variant) else (0,)))
            outs[variant] = out
        best_of_rounds(plans, args.repeat, args.timeout)
        for result, _, _ in plans:
            out = outs[result.variant]
            if not result.run.succeeded:
                result.ok, result.check = False, describe_failure(result.run)
                continue
            if result.variant == "floor":
                rows = json.loads(Path(out).read_text())["rows"]
                result.ok = rows == episodes
                result.check = "rows ok" if result.ok else f"MISMATCH: read {rows} rows, expected {episodes}"
            elif result.variant == "duckdb":
                result.counts = json.loads(Path(out).read_text())["counts"]
                check_counts(result, expected, hes.FIXED_RULES)  # the peer has the four fixed rules only
            else:
                if not os.path.exists(out):
                    result.check = "no findings file written"
                else:
                    result.counts = counted_by_child(out)
                    check_counts(result, expected)
    return results


# --------------------------------------------------------------------------------------------- reporting
def _row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def results_table(results: list[Result]) -> str:
    """Markdown table of timings: variant, file, episodes, wall, episodes/s, CPU, peak RSS (the process, and
    it with its children), ratio of the best runs to the floor's, the rounds' ratios, check."""
    floor_of = {r.file: r for r in results if r.variant == "floor" and r.run and r.run.succeeded}
    lines = [
        _row(["variant", "file", "episodes", "wall s", "episodes/s", "CPU s", "peak RSS MB", "tree RSS MB",
              "× floor", "× floor by round", "check"]),
        _row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---"]),
    ]
    for r in results:
        name = Path(r.file).name
        if r.run is None or not r.run.succeeded:
            lines.append(_row([r.variant, name, f"{r.episodes:,}", "–", "–", "–", "–", "–", "–", "–", r.check]))
            continue
        floor = floor_of.get(r.file)
        ratio = f"{r.run.wall / floor.run.wall:.2f}" if floor is not None else "–"
        lines.append(
            _row(
                [
                    r.variant,
                    name,
                    f"{r.episodes:,}",
                    f"{r.run.wall:.2f}",
                    f"{r.episodes / r.run.wall:,.0f}",
                    f"{r.run.cpu:.1f}",
                    f"{r.run.peak_rss_mb:,.0f}",
                    f"{r.run.tree_rss_mb:,.0f}" if r.run.tree_rss_mb else "–",
                    ratio,
                    ratio_spread(round_ratios(r, floor)),
                    r.check,
                ]
            )
        )
    return "\n".join(lines)


def engines_table(results: list[Result]) -> str:
    """Markdown: the engine's wall time over each other engine variant's, by round (same file, same rounds)."""
    lines = []
    for engine in (r for r in results if r.variant == "engine" and r.run and r.run.succeeded):
        for other in results:
            if other.file == engine.file and other.variant.startswith("engine-") and other.run \
                    and other.run.succeeded:
                lines.append(_row([f"engine / {other.variant}", Path(engine.file).name,
                                   ratio_spread(round_ratios(engine, other))]))
    if not lines:
        return ""
    return "\n".join([_row(["ratio", "file", "by round"]), _row(["---", "---", "---:"]), *lines])


def counts_table(results: list[Result]) -> str:
    """Markdown table of flagged episodes per rule: expected and per checked variant."""
    lines = []
    for path in dict.fromkeys(r.file for r in results):
        found = [r for r in results if r.file == path and r.counts is not None]
        expected = hes.load_expected(path)
        if not found and not expected:
            continue
        heads = (["expected"] if expected else []) + [r.variant for r in found]
        lines += [
            f"Flagged episodes per rule, {Path(path).name}:",
            "",
            _row(["rule", "severity"] + heads),
            _row(["---", "---"] + ["---:"] * len(heads)),
        ]
        rules = dict.fromkeys([*hes.FIXED_RULES, *(expected["rules"] if expected else ())])
        for rule in rules:
            for sev in hes.SEVERITIES:
                cells = ([expected["rules"].get(rule, {}).get(sev, 0)] if expected else []) + [
                    r.counts.get(rule, {}).get(sev, 0) if is_engine(r.variant) or rule in hes.FIXED_RULES
                    else "–"
                    for r in found
                ]
                if any(c not in (0, "–") for c in cells):
                    lines.append(_row([rule, sev] + [f"{c:,}" if c != "–" else c for c in cells]))
        lines.append("")
    return "\n".join(lines).rstrip()


def environment_line() -> str:
    """One line describing the machine and library versions."""
    parts = [f"{platform.machine()}", f"{os.cpu_count()} CPUs", f"Python {platform.python_version()}"]
    for module in ("pyarrow", "duckdb"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            pass
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; exit status 1 when a variant fails or a check does not match."""
    parser = argparse.ArgumentParser(description="Benchmark engine vs pyarrow floor vs DuckDB peer.")
    parser.add_argument("files", nargs="+", help="extract(s): .csv or .parquet")
    parser.add_argument(
        "--variants", default="floor,duckdb,engine", help="comma-separated: floor,duckdb,engine"
    )
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per variant, in rounds (each variant once a round); the best (fastest) is kept")
    parser.add_argument(
        "--engine-cmd",
        default=DEFAULT_ENGINE_CMD,
        help="engine command; {file} and {out} are replaced (default: %(default)s)",
    )
    parser.add_argument(
        "--engine-variant", dest="engine_variants", action="append", default=[], type=engine_variant,
        metavar="NAME=CMD", help="another engine command, run as variant engine-NAME in the same rounds "
                                 "(repeatable; {file} and {out} as in --engine-cmd)")
    parser.add_argument(
        "--csv-reader",
        choices=("stream", "read"),
        default="stream",
        help="floor for CSV: pyarrow.csv.open_csv streaming or read_csv (whole table)",
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per run before it is killed")
    parser.add_argument("--results", help="append the Markdown tables to this file")
    parser.add_argument("--worker", choices=("floor", "duckdb", "counts"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        path = args.files[0]
        workers = {"floor": partial(floor_worker, csv_reader=args.csv_reader), "duckdb": duckdb_worker,
                   "counts": lambda findings: {"counts": read_findings_csv(findings)}}
        payload = workers[args.worker](path)
        Path(args.worker_out).write_text(json.dumps(payload))
        return 0

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    variants += [f"engine-{name}" for name, _ in args.engine_variants]
    unknown = {v for v in variants if not v.startswith("engine-")} - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    missing = [f for f in args.files if not Path(f).exists()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")

    results = []
    for path in args.files:
        results += bench_file(path, variants, args)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    report = "\n\n".join(
        part
        for part in (
            f"Benchmark {stamp} — {environment_line()} — best of {args.repeat}",
            results_table(results),
            engines_table(results),
            counts_table(results),
        )
        if part
    )
    print(report)
    if args.results:
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        with open(args.results, "a", encoding="utf-8") as fh:
            fh.write(f"## {report}\n\n")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
