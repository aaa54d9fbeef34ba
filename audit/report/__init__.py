"""Writers for a run's results, one module per output format (imported when that format is asked for)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from audit.errors import UserError

if TYPE_CHECKING:
    from audit.pipeline import RunResult

FORMATS = {  # format -> (module of audit.report, its writer)
    "table": ("table", "write"),
    "csv": ("tabular", "write_csv"),
    "json": ("jsonout", "write"),
    "jsonl": ("tabular", "write_jsonl"),
    "parquet": ("tabular", "write_parquet"),
    "xlsx": ("xlsx", "write"),
    "html": ("html", "write"),
    "junit": ("junit", "write"),
    "sarif": ("sarif", "write"),
    "github": ("github", "write"),
}


def write_report(result: RunResult, fmt: str, output: Path | None) -> None:
    """Write ``result`` as ``fmt`` to ``output`` (standard output when None)."""
    module, writer = FORMATS[fmt]
    write = getattr(importlib.import_module(f"audit.report.{module}"), writer)
    try:
        write(result, output)
    except OSError as exc:
        raise UserError(f"{output or 'standard output'}: cannot write the {fmt} report ({exc.strerror or exc})") \
            from None
