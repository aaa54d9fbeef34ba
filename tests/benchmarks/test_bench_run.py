"""Tests for benchmarks/run.py on a small extract (floor and DuckDB variants; engine skipped or faked)."""

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import run

HERE = Path(__file__).resolve().parent
RUN_PY = HERE.parents[1] / "benchmarks" / "run.py"


def _run(*args):
    return subprocess.run(
        [sys.executable, str(RUN_PY), *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_floor_and_duckdb_with_engine_missing(small_extract, tmp_path):
    pytest.importorskip("duckdb")
    results = tmp_path / "results.md"
    proc = _run(
        small_extract["parquet"],
        small_extract["csv"],
        "--variants",
        "floor,duckdb,engine",
        "--engine-cmd",
        "audit-not-installed-xyz run {file} --format csv --output {out}",
        "--results",
        results,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert ("| variant | file | episodes | wall s | episodes/s | CPU s | peak RSS MB | tree RSS MB | × floor "
            "| × floor by round | check |") in out
    for name in (small_extract["parquet"].name, small_extract["csv"].name):
        assert f"| floor | {name} | 5,000 |" in out
        assert f"| duckdb | {name} | 5,000 |" in out
    assert out.count("rows ok") == 2 and out.count("counts ok") == 2
    assert out.count("skipped: `audit-not-installed-xyz` not found") == 2
    assert results.read_text().startswith("## Benchmark")


def test_a_gzip_compressed_csv_is_benchmarked(small_extract, tmp_path):
    """National extracts often come as .csv.gz: the floor and the peer read them, counted and checked."""
    pytest.importorskip("duckdb")
    import gzip
    import shutil

    path = tmp_path / (small_extract["csv"].name + ".gz")
    path.write_bytes(gzip.compress(small_extract["csv"].read_bytes()))
    shutil.copy(run.hes.expected_path(small_extract["csv"]), tmp_path)
    proc = _run(path, "--variants", "floor,duckdb")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"| floor | {path.name} | 5,000 |" in proc.stdout
    assert proc.stdout.count("rows ok") == 1 and proc.stdout.count("counts ok") == 1


def test_engine_variant_with_stand_in_engine(small_extract):
    pytest.importorskip("duckdb")
    fake = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'fake_engine.py'))} {{file}} {{out}}"
    proc = _run(small_extract["parquet"], "--variants", "floor,engine", "--engine-cmd", fake, "--repeat", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    engine_row = next(line for line in proc.stdout.splitlines() if line.startswith("| engine |"))
    assert "counts ok" in engine_row


def test_another_engine_variant_runs_in_the_same_rounds(small_extract):
    """--engine-variant NAME=CMD: a second engine (e.g. another ruleset) checked the same way, compared by round."""
    pytest.importorskip("duckdb")
    fake = f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'fake_engine.py'))} {{file}} {{out}}"
    proc = _run(small_extract["parquet"], "--variants", "floor,engine", "--engine-cmd", fake,
                "--engine-variant", f"rules32={fake}", "--repeat", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    other = next(line for line in proc.stdout.splitlines() if line.startswith("| engine-rules32 |"))
    assert "counts ok" in other
    assert f"| engine / engine-rules32 | {small_extract['parquet'].name} |" in proc.stdout
    bad = _run(small_extract["parquet"], "--engine-variant", "no command")
    assert bad.returncode == 2 and "expected NAME=CMD" in bad.stderr


def test_failing_engine_is_reported(small_extract):
    proc = _run(
        small_extract["parquet"],
        "--variants",
        "engine",
        "--engine-cmd",
        f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(3)' {{file}} {{out}}",
    )
    assert proc.returncode == 1
    assert "FAILED (exit 3)" in proc.stdout


def test_read_findings_csv(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(
        "EPIKEY,Rule_ID,Severity\n1,IPG327-01,error\n1,IPG327-01,error\n2,HTG532-02,Warning\n"
        "3,OTHER-01,error\n"
    )
    counts = run.read_findings_csv(good)
    assert counts["IPG327-01"]["error"] == 1 and counts["HTG532-02"]["warning"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert run.read_findings_csv(bad) is None


def test_timeout_is_reported(small_extract):
    proc = _run(
        small_extract["parquet"],
        "--variants",
        "engine",
        "--timeout",
        "0.5",
        "--engine-cmd",
        f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(30)' {{file}} {{out}}",
    )
    assert proc.returncode == 1
    assert "TIMED OUT" in proc.stdout


def test_tree_rss_counts_child_processes():
    """The sampled tree RSS adds a process's children to its own (Linux /proc)."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system")
    script = ("import subprocess, sys, time; "
              "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        own = 0
        for _ in range(100):  # until the grandchild is running
            time.sleep(0.05)
            own = int(Path(f"/proc/{parent.pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            if run.tree_rss(parent.pid) > own * 1.5:
                break
        assert run.tree_rss(parent.pid) > own * 1.5
    finally:
        os.killpg(parent.pid, 9)  # the grandchild too
        parent.wait()


def _rounds(monkeypatch, walls: dict[str, list[float]], rounds: int, calls: list | None = None) -> dict:
    """``best_of_rounds`` over stand-in runs that take their wall times from ``walls`` in turn (9.0: a failed
    run); each variant's ``Result``."""

    def fake_measure(cmd, timeout):
        if calls is not None:
            calls.append(cmd[0])
        wall = walls[cmd[0]].pop(0)
        return run.Run(wall, 1.0, 2 if wall == 9.0 else 0)

    monkeypatch.setattr(run, "measure", fake_measure)
    results = {v: run.Result(v, "f", 1) for v in walls}
    run.best_of_rounds([(results[v], [v], (0,)) for v in walls], rounds, 10)
    return results


def test_variants_run_in_rounds_and_keep_their_best(monkeypatch):
    """Each variant once a round (the same minutes of the machine for every ratio); a failure is kept."""
    calls = []
    walls = {"floor": [3.0, 1.0, 2.0], "engine": [5.0, 6.0, 4.0], "duckdb": [1.0, 9.0, 9.0]}
    results = _rounds(monkeypatch, walls, 3, calls)
    assert calls == ["floor", "engine", "duckdb"] * 2 + ["floor", "engine"]  # duckdb failed in round 2
    assert results["floor"].run.wall == 1.0 and results["engine"].run.wall == 4.0
    assert not results["duckdb"].run.succeeded


def test_ratios_by_round_compare_runs_of_the_same_round(monkeypatch):
    """Each round's ratio is the variant's run over the floor's run of that round: median and range shown."""
    walls = {"floor": [2.0, 1.0, 4.0], "engine": [6.0, 4.0, 8.0], "duckdb": [1.0, 3.0, 2.0]}
    results = _rounds(monkeypatch, walls, 3)
    assert run.round_ratios(results["engine"], results["floor"]) == [3.0, 4.0, 2.0]
    table = run.results_table(list(results.values()))
    engine = next(line for line in table.splitlines() if line.startswith("| engine |"))
    assert "| 4.00 | 3.00 (2.00-4.00) |" in engine  # best 4.0 s over the best floor 1.0 s; rounds 3, 4, 2
    assert run.ratio_spread([]) == "–" and run.ratio_spread([1.5]) == "1.50" and run.ratio_spread([1.0, 1.0]) == "1.00"
    assert run.ratio_spread([1.0, 3.0]) == "2.00 (1.00-3.00)"


def test_a_failed_round_has_no_ratio(monkeypatch):
    results = _rounds(monkeypatch, {"floor": [1.0, 1.0], "engine": [3.0, 9.0]}, 2)  # the engine's second fails
    assert results["engine"].walls == [3.0, None]
    assert run.round_ratios(results["engine"], results["floor"]) == [3.0]
