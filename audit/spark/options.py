"""``audit run``'s Spark options (``--engine``, ``--spark-master``, ``--findings-parquet``) and the runner they
choose; imports no pyspark (the command line's start-up does not grow)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

ENGINES = ("local", "spark")


def spark_options(f):
    """--engine local|spark, --spark-master URL, --findings-parquet DIR."""
    f = click.option("--findings-parquet", type=click.Path(path_type=Path, file_okay=False), default=None,
                     metavar="DIR", help="With --engine spark: Spark also writes the findings to DIR as "
                                         "Parquet (one file a partition).")(f)
    f = click.option("--spark-master", default=None, metavar="URL",
                     help="With --engine spark: the Spark master (local[2], spark://host:7077, ...); default: "
                          "the active session, else local[*].")(f)
    return click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                        help="local: this process; spark: Apache Spark reads the extract (CSV, Parquet, a "
                             "folder of them, or table:NAME) and audits it partition by partition, with the "
                             "same findings and reports.")(f)


def runner(inputs: dict, run_audit):
    """``run_audit``, or with --engine spark ``audit.spark.run_spark_audit`` taking the same arguments."""
    engine = inputs.get("engine") or "local"
    if engine == "local":
        for option in ("spark_master", "findings_parquet"):
            if inputs.get(option) is not None:
                raise click.UsageError(f"--{option.replace('_', '-')} needs --engine spark")
        return run_audit
    from audit.spark.files import run_spark_audit

    return functools.partial(run_spark_audit, spark_master=inputs.get("spark_master"),
                             findings_parquet=inputs.get("findings_parquet"))
