"""Open an extract file (CSV, Parquet or Excel .xlsx) as a stream of raw chunks.

A raw chunk holds the file's own columns (only those asked for) as text, code
and attribute columns dictionary-encoded (Arrow dictionaries in pandas, one per
column and chunk), dates kept as dates where the format has them,
with each row's line number (CSV line, sheet row, or Parquet row number) and,
for rows the format itself could not read (a CSV row with the wrong number of
fields), the reason. Blank rows are dropped and counted. The libraries do the
parsing: pyarrow for CSV and Parquet, openpyxl for .xlsx.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from audit.errors import InputFileError
from audit.extract.csvfile import CsvSource
from audit.extract.parquetfile import ParquetSource
from audit.extract.source import RawChunk, Source
from audit.extract.xlsxfile import XlsxSource

__all__ = ["CsvSource", "ParquetSource", "RawChunk", "Source", "XlsxSource", "open_source"]


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    header_hint: Callable[[list[str]], bool] | None = None,
) -> Source:
    """Open ``path`` by its content (not its name): Parquet, .xlsx, or (gzip-compressed) CSV text."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not an extract file")
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise InputFileError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not magic:
        raise InputFileError(path, "the file is empty")
    if magic.startswith(b"PAR1"):
        return ParquetSource.open(path)
    if magic.startswith(b"PK\x03\x04"):
        return XlsxSource.open(path, sheet, header_hint)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(path, "an old-style Excel .xls workbook: save it as .xlsx or CSV")
    return CsvSource.open(path, encoding, delimiter)
