"""Excel .xlsx workbooks read a sheet at a time by openpyxl; the header row found below any title rows."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from audit.errors import InputFileError
from audit.extract.source import CODES, TEXT, Source, first_line

_HEADER_SEARCH_ROWS = 20  # title rows above the header are skipped



@dataclass
class XlsxSource(Source):
    """The first sheet (or ``--sheet``) of an .xlsx workbook; line numbers are the sheet's row numbers."""

    located_by = "row"

    sheet: str = ""
    header_row: int = 1

    @classmethod
    def open(cls, path: Path, sheet: str | None, header_hint) -> XlsxSource:
        wb = _open_workbook(path)
        try:
            ws = _worksheet(wb, sheet, path)
            name = ws.title
            rows = _xlsx_call(
                path, lambda: list(ws.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True))
            )
        finally:
            wb.close()
        filled = [
            (i + 1, [_cell_text(v).strip() for v in row])
            for i, row in enumerate(rows)
            if any(_cell_text(v).strip() for v in row)
        ]
        if not filled:
            raise InputFileError(path, f"sheet {name!r} is empty")
        chosen = next(((r, names) for r, names in filled if header_hint and header_hint(names)), filled[0])
        row, names = chosen
        blank = [_column_letter(i) for i, n in enumerate(names) if not n]
        source = cls(path, names, sheet=name, header_row=row)
        if blank:
            shown = ", ".join(blank[:6]) + (", ..." if len(blank) > 6 else "")
            source.header_note = (
                f"the header (sheet {name!r} row {row}) has blank cells in columns {shown}: "
                "merged header cells? Each column needs its own name in one header row"
            )
        return source

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        index = {c: self.header.index(c) for c in columns}
        wb = _open_workbook(self.path)
        try:
            ws = _worksheet(wb, self.sheet, self.path)
            rows = ws.iter_rows(min_row=self.header_row + 1, values_only=True)
            line = self.header_row
            while True:
                block = _xlsx_call(self.path, lambda: list(itertools.islice(rows, chunk_rows)))
                if not block:
                    break
                n = len(block)
                data = {}
                for c, j in index.items():  # per column: openpyxl hands over Python values cell by cell
                    values = [_cell_text(r[j]) if j < len(r) else "" for r in block]
                    arr = pa.array(values, type=TEXT)
                    data[c] = arr.dictionary_encode().cast(CODES) if c in dictionary else arr
                yield pa.table(data), np.arange(line + 1, line + 1 + n, dtype=np.int64), None
                line += n
        finally:
            wb.close()


def _open_workbook(path: Path):
    import openpyxl

    return _xlsx_call(path, lambda: openpyxl.load_workbook(path, read_only=True, data_only=True))


def _xlsx_call(path: Path, fn):
    """Call into openpyxl; whatever it raises on a damaged workbook becomes one clear message.

    A damaged .xlsx can fail anywhere below openpyxl (zipfile, zlib, XML parsers, its
    own readers) with almost any exception type, so every exception from the call is
    taken to mean an unreadable workbook; ``fn`` is only ever a thin call into openpyxl.
    """
    try:
        return fn()
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        raise InputFileError(
            path, f"not a readable .xlsx workbook ({type(exc).__name__}: {first_line(exc)})"
        ) from None


def _worksheet(wb, sheet: str | None, path: Path):
    if sheet is None or sheet == "":
        return wb.worksheets[0]
    if sheet in wb.sheetnames:
        return wb[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(wb.sheetnames):
        return wb.worksheets[int(sheet) - 1]
    raise InputFileError(path, f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")


def _cell_text(value) -> str:
    """A cell as extract text: whole numbers without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)
