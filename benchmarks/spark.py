"""The audit on Spark (``audit run --engine spark``, local[N]) against the single process and the pyarrow read
floor: the same file, the same run (variants interleaved in rounds), wall and CPU time, peak memory of the
process tree (the JVM and its Python workers included), ratios to the floor of the same round; the two
engines' findings CSVs compared byte for byte.

Usage::

    python benchmarks/spark.py benchmarks/data/hes_10m.parquet --master "local[2]" --repeat 1
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import hes
from benchmarks.run import engine_cmd, environment_line, measure, worker_cmd

SINGLE = "audit run {file} --format csv --output {out}"
SPARK = "audit run {file} --engine spark --spark-master {master} --format csv --output {out}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="a generated extract (benchmarks/generate.py): .parquet or .csv")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (each variant once a round)")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    best: dict[str, object] = {}
    ratios: dict[str, list[float]] = {"single": [], "spark": []}
    same = None
    with tempfile.TemporaryDirectory(prefix="audit-spark-bench-") as tmp:
        for _ in range(args.repeat):
            outs = {v: str(Path(tmp) / f"{v}.csv") for v in ("single", "spark")}
            cmds = {"floor": worker_cmd("floor", args.file, str(Path(tmp) / "floor.json"), "stream"),
                    "single": engine_cmd(SINGLE, args.file, outs["single"]),
                    "spark": engine_cmd(SPARK.replace("{master}", args.master), args.file, outs["spark"])}
            walls = {}
            for variant, cmd in cmds.items():
                run = measure(cmd, args.timeout)
                if run.returncode not in (0, 1):
                    print(f"{variant} failed ({run.returncode}): {run.stderr[-2000:]}", file=sys.stderr)
                    return 1
                walls[variant] = run.wall
                if variant not in best or run.wall < best[variant].wall:
                    best[variant] = run
            for v in ("single", "spark"):
                ratios[v].append(walls[v] / walls["floor"])
            same = filecmp.cmp(outs["single"], outs["spark"], shallow=False)
    episodes = hes.count_episodes(args.file)
    print(f"{Path(args.file).name}, Spark master {args.master}; {environment_line()}")
    print("| variant | wall s | CPU s | tree RSS MB | × floor (median of rounds) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for variant, run in best.items():
        ratio = "1.00" if variant == "floor" else f"{sorted(ratios[variant])[len(ratios[variant]) // 2]:.2f}"
        print(f"| {variant} | {run.wall:.1f} | {run.cpu:.1f} | {run.tree_rss_mb or run.peak_rss_mb:,.0f} | {ratio} |")
    print(f"findings CSV of Spark and the single process byte-equal: {same}" + (f"; {episodes:,} episodes"
                                                                                  if episodes else ""))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
