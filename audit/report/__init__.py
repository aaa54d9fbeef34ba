"""Writers for a run's results, one module per output format."""

from __future__ import annotations

from pathlib import Path

from audit.pipeline import RunResult
from audit.report import jsonout, table, tabular

FORMATS = {
    "table": table.write,
    "csv": tabular.write_csv,
    "json": jsonout.write,
}


def write_report(result: RunResult, fmt: str, output: Path | None) -> None:
    """Write ``result`` as ``fmt`` to ``output`` (standard output when None)."""
    FORMATS[fmt](result, output)
