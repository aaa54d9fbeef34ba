"""Writers for a run's results, one module per output format."""

from __future__ import annotations

from pathlib import Path

from audit.errors import UserError
from audit.pipeline import RunResult
from audit.report import github, html, jsonout, junit, sarif, table, tabular, xlsx

FORMATS = {
    "table": table.write,
    "csv": tabular.write_csv,
    "json": jsonout.write,
    "jsonl": tabular.write_jsonl,
    "parquet": tabular.write_parquet,
    "xlsx": xlsx.write,
    "html": html.write,
    "junit": junit.write,
    "sarif": sarif.write,
    "github": github.write,
}


def write_report(result: RunResult, fmt: str, output: Path | None) -> None:
    """Write ``result`` as ``fmt`` to ``output`` (standard output when None)."""
    try:
        FORMATS[fmt](result, output)
    except OSError as exc:
        raise UserError(f"{output or 'standard output'}: cannot write the {fmt} report ({exc.strerror or exc})") \
            from None
