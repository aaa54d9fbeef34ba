"""Benchmark reading an extract from PostgreSQL against the server's own ``COPY ... TO`` of the same columns.

The generator's extract (``generate.py``, Parquet) is loaded into a table of a PostgreSQL server (a temporary
one, started in a temporary folder as the database tests do, or ``--url``), then each variant runs in its
own subprocess, ``--rounds`` times, in the same run; the parent takes the median wall time and each child
reports its CPU seconds and peak RSS. Variants:

  psql         the floor: ``COPY (SELECT <the extract's columns> FROM <table>) TO STDOUT (FORMAT csv)`` run by
               psql (libpq, in C) into /dev/null: the server's own export of the same columns
  copy         the same COPY through psycopg, every piece received in Python and dropped: the least a Python
               client does to get the rows (psycopg hands them over a row at a time)
  read         the engine's reader on the table: ``read_extract(URL, table=...)``, every batch made (COPY
               parsed by pyarrow, canonical episode frames, row checks, duplicate ids)
  audit        ``run_audit(URL, shipped rules, table=...)`` end to end (one evaluating worker)
  file         ``run_audit`` on the same episodes' Parquet file, for comparison
  cursor       the reader through a server-side cursor (SQLAlchemy ``stream_results``: what any other
               database gets), one round (it is slow)

The findings of ``audit`` and ``file`` are checked equal (their counts per rule).

Usage::

    python benchmarks/database.py --episodes 1m --rounds 3
    python benchmarks/database.py --episodes 1m --url postgresql://user@host/db --variants copy,read
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import hes

VARIANTS = ("psql", "copy", "read", "audit", "file", "cursor")
TABLE = "hes_episodes"
LOAD_BATCH = 131_072


def _psycopg_url(url: str) -> str:
    """A libpq connection string for psycopg from the SQLAlchemy URL (driver name dropped)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


# --------------------------------------------------------------------------------------------- loading
def load(url: str, parquet: Path, table: str = TABLE) -> int:
    """The Parquet file's episodes into ``table`` (dates as date, the rest text), by COPY FROM; rows loaded."""
    import io

    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    file = pq.ParquetFile(parquet)
    schema = file.schema_arrow
    kinds = {f.name: ("date" if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type) else "text")
             for f in schema}
    columns = ", ".join(f'"{name}" {kind}' for name, kind in kinds.items())
    rows = 0
    with psycopg.connect(_psycopg_url(url)) as conn:
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        conn.execute(f'CREATE TABLE "{table}" ({columns})')
        with conn.cursor() as cur, cur.copy(f'COPY "{table}" FROM STDIN (FORMAT csv)') as copy:
            for batch in file.iter_batches(batch_size=LOAD_BATCH):
                buffer = io.BytesIO()
                pacsv.write_csv(pa.Table.from_batches([batch]), buffer,
                                pacsv.WriteOptions(include_header=False, quoting_style="needed"))
                copy.write(buffer.getvalue())
                rows += batch.num_rows
        conn.execute(f'ANALYZE "{table}"')
    return rows


# --------------------------------------------------------------------------------------------- child workers
def _copy_statement(table: str, parquet: str) -> str:
    import pyarrow.parquet as pq

    names = ", ".join(f'"{n}"' for n in pq.ParquetFile(parquet).schema_arrow.names)
    return f'COPY (SELECT {names} FROM "{table}") TO STDOUT (FORMAT csv)'


def psql_worker(url: str, table: str, parquet: str) -> dict:
    import shutil

    psql = shutil.which("psql")
    if psql is None:
        raise RuntimeError("psql not found")
    with open(os.devnull, "wb") as sink:
        subprocess.run([psql, "-X", "-q", "-c", _copy_statement(table, parquet), _psycopg_url(url)], stdout=sink,
                       check=True)
    return {}


def copy_worker(url: str, table: str, parquet: str) -> dict:
    import psycopg

    received = 0
    with psycopg.connect(_psycopg_url(url)) as conn, conn.cursor() as cur:
        with cur.copy(_copy_statement(table, parquet)) as copy:
            for block in copy:
                received += len(block)
    return {"bytes": received}


def read_worker(url: str, table: str, parquet: str, cursor: bool = False) -> dict:
    from audit.extract import read_extract, sqlsource

    if cursor:
        sqlsource._copies = lambda engine: False
    episodes = rejected = 0
    for batch in read_extract(url, table=table):
        episodes += len(batch.episodes)
        rejected += len(batch.rejected)
    return {"episodes": episodes, "rejected": rejected}


def audit_worker(url: str, table: str, parquet: str, from_file: bool = False) -> dict:
    from audit.pipeline import run_audit
    from audit.rules import load_rules

    result = (run_audit(parquet, load_rules(), workers=1) if from_file
              else run_audit(url, load_rules(), workers=1, table=table))
    tally = result.all_findings.tally()
    return {"episodes": result.episodes_read, "findings": int(tally["findings"].sum()),
            "by_rule": {r: int(n) for r, n in tally.groupby("rule_id")["findings"].sum().items()}}


WORKERS = {
    "psql": psql_worker,
    "copy": copy_worker,
    "read": read_worker,
    "cursor": lambda url, table, parquet: read_worker(url, table, parquet, cursor=True),
    "audit": audit_worker,
    "file": lambda url, table, parquet: audit_worker(url, table, parquet, from_file=True),
}


def child(variant: str, url: str, table: str, parquet: str) -> None:
    start = time.perf_counter()
    out = WORKERS[variant](url, table, parquet)
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]  # psql's too
    out |= {"seconds": time.perf_counter() - start, "cpu": sum(u.ru_utime + u.ru_stime for u in usage),
            "peak_rss_mb": max(u.ru_maxrss for u in usage) / 1024}
    print(json.dumps(out))


# --------------------------------------------------------------------------------------------- parent
def measure(variant: str, url: str, table: str, parquet: Path) -> dict:
    """One subprocess run of ``variant``: its report, plus the wall time from process start to exit."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", variant, "--url", url, "--table", table,
                           "--parquet", str(parquet)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    if done.returncode:
        raise RuntimeError(f"{variant} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"wall": time.perf_counter() - start}


def bench(url: str, table: str, parquet: Path, variants: list[str], rounds: int) -> dict:
    runs = {v: [] for v in variants}
    for _ in range(rounds):  # variants interleaved, round by round: drift hits all of them alike
        for v in variants:
            if v == "cursor" and runs[v]:
                continue
            runs[v].append(measure(v, url, table, parquet))
    summary = {}
    for v, results in runs.items():
        summary[v] = {
            "wall_median": statistics.median(r["wall"] for r in results),
            "in_process_median": statistics.median(r["seconds"] for r in results),
            "cpu_median": statistics.median(r["cpu"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "rounds": len(results),
            **{k: results[0][k] for k in ("episodes", "findings", "bytes", "rejected") if k in results[0]},
        }
    floor = next((summary[v]["wall_median"] for v in ("psql", "copy") if v in summary), None)
    if floor is not None:
        for v in summary:
            summary[v]["x_floor"] = summary[v]["wall_median"] / floor
    if "audit" in runs and "file" in runs:
        same = runs["audit"][0]["by_rule"] == runs["file"][0]["by_rule"]
        summary["audit"]["same_findings_as_file"] = same
        if not same:
            raise RuntimeError("the table and the file gave different findings")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=hes.parse_count, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data", default="benchmarks/data/", help="where the generated extract is (or goes)")
    parser.add_argument("--url", help="an existing server's SQLAlchemy URL (default: a temporary server)")
    parser.add_argument("--table", default=TABLE)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", dest="json_out", help="also write the results to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.url, args.table, args.parquet)
        return 0
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)} (known: {', '.join(VARIANTS)})")
    parquet = Path(args.data) / f"{hes.extract_stem(args.episodes)}.parquet"
    if not parquet.exists():
        from benchmarks.generate import write_extract

        print(f"generating {parquet} ...", file=sys.stderr)
        write_extract(args.episodes, args.seed, args.data, "parquet")
    if args.url:
        return _report(args, args.url, parquet, variants)
    from tests.database.server import bin_dir, temporary_server, url

    bindir = bin_dir()
    if bindir is None:
        parser.error("PostgreSQL is not installed (Debian: apt-get install postgresql), or give --url")
    with temporary_server(bindir, "-c shared_buffers=512MB") as server:
        return _report(args, url(server), parquet, variants)


def _report(args, url: str, parquet: Path, variants: list[str]) -> int:
    start = time.perf_counter()
    rows = load(url, parquet, args.table)
    print(f"loaded {rows:,} episodes into {args.table} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    summary = bench(url, args.table, parquet, variants, args.rounds)
    print(f"{'variant':<8} {'wall s':>8} {'x floor':>7} {'cpu s':>7} {'peak MB':>8} rounds")
    for v, s in summary.items():
        print(f"{v:<8} {s['wall_median']:>8.2f} {s.get('x_floor', float('nan')):>7.2f} {s['cpu_median']:>7.2f} "
              f"{s['peak_rss_mb']:>8.0f} {s['rounds']}")
    if "audit" in summary:
        print(f"audit findings {summary['audit']['findings']:,}, the same as the file's: "
              f"{summary['audit'].get('same_findings_as_file')}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"episodes": rows, "variants": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
