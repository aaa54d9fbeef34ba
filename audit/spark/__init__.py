"""The audit on Apache Spark: the same reader loops and chunk evaluation as the single process, per partition.

- ``audit_dataframe(df, rules, ...)``: a Spark DataFrame of episodes (any layout, the same column mapping) to a
  ``SparkAudit``: findings, rows set aside and uncoded episodes as DataFrames, the counts and the summary;
- ``run_spark_audit(path, rules, ...)``: ``audit run --engine spark``: a file, a folder of them or a catalogue
  table read by Spark, the ``RunResult`` every report takes;
- ``partition``: the worker's side (``mapInArrow``), ``frames``: the driver's, ``files``: reading extracts.

pyspark is imported only here and below, never by the command line's start-up.
"""

from __future__ import annotations

__all__ = ["SparkAudit", "audit_dataframe", "run_spark_audit", "spark_session"]
_LAZY = {"SparkAudit": "frames", "audit_dataframe": "frames", "run_spark_audit": "files",
         "spark_session": "files"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
