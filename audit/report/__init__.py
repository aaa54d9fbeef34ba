"""Writers for a run's results, one module per output format (imported when that format is asked for)."""

from __future__ import annotations

import importlib
import os
import tempfile
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
    """Write ``result`` as ``fmt`` to ``output`` (standard output when None).

    A file is written under a temporary name in the same folder and renamed when complete, so an interrupted
    or failed run never leaves a file that looks finished (nor spoils the one a previous run wrote)."""
    module, writer = FORMATS[fmt]
    write = getattr(importlib.import_module(f"audit.report.{module}"), writer)
    if output is None:
        _written(write, result, fmt, None, None)
        return
    output = Path(output)
    fd, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    os.close(fd)
    part = Path(name)
    os.chmod(part, 0o666 & ~_umask())  # mkstemp's file is private; a report gets the mode a new file would
    try:
        _written(write, result, fmt, part, output)
        os.replace(part, output)
    finally:
        part.unlink(missing_ok=True)


def _written(write, result: RunResult, fmt: str, path: Path | None, output: Path | None) -> None:
    try:
        write(result, path)
    except BrokenPipeError:  # the reader of standard output stopped reading: not a failure of the report
        raise
    except OSError as exc:
        raise UserError(f"{output or 'standard output'}: cannot write the {fmt} report ({exc.strerror or exc})") \
            from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
