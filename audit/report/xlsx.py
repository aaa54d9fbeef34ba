"""The run as an Excel workbook: Summary, Findings, Rejected and Rules sheets.

Every sheet has a bold, frozen header row, an autofilter and column widths to
fit; every text cell goes through ``audit.report.safety`` (no formula can run).
The file is deterministic: fixed document dates and zip entry times.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from audit import __version__
from audit.pipeline import RunResult
from audit.report.output import write_bytes
from audit.report.safety import spreadsheet_text
from audit.report.xlsx_groups import add_group_sheets, add_top_rules

MAX_ROWS = 1_048_575  # Excel's limit, less the header row
MAX_WIDTH = 60
_WIDTH_ROWS = 2000  # rows a column's width is worked out from
FIXED_TIME = dt.datetime(2000, 1, 1)  # document dates: the same bytes for the same input
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="005EB8")
_SEVERITY_FONT = {"error": Font(color="B42318", bold=True), "warning": Font(color="A15C07"),
                  "info": Font(color="175CD3")}


def _column_values(s: pd.Series) -> list:
    """One column as cell values, worked out per column (and per distinct text), not per cell."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return [None if pd.isna(v) else v for v in s.dt.date.astype(object)]  # dates get a date format
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return [None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in s.astype(object)]
    values = s.astype(object)
    present = values.notna().to_numpy()
    safe = {v: _cell(v) for v in pd.unique(values[present])}
    return [safe[v] if ok else None for v, ok in zip(values.tolist(), present)]


def _cell(value):
    """A value of a text (object) column: numbers stay numbers, anything else is made-safe text."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.date() if isinstance(value, (pd.Timestamp, dt.datetime)) else value
    return spreadsheet_text(str(value))


def _widths(frame: pd.DataFrame) -> list[float]:
    out = []
    for col in frame.columns:
        head = frame[col].head(_WIDTH_ROWS)
        sample = head.astype(object).where(head.notna(), "").astype(str)
        longest = max([len(str(col)), *sample.str.len().tolist()]) if len(sample) else len(str(col))
        out.append(min(MAX_WIDTH, max(8, longest + 2)))
    return out


def _sheet(wb: Workbook, title: str, frame: pd.DataFrame, severity_col: str | None = None,
           rows: int | None = None, more: Iterable[pd.DataFrame] = ()) -> None:
    """A sheet of ``frame`` and then the frames of ``more`` (``rows`` in all; the widths from the first
    frame), up to Excel's ``MAX_ROWS``, written a frame at a time."""
    ws = wb.create_sheet(title)
    for i, width in enumerate(_widths(frame), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    n_rows = min(len(frame) if rows is None else rows, MAX_ROWS)
    last_col = get_column_letter(max(1, len(frame.columns)))
    ws.auto_filter.ref = f"A1:{last_col}{n_rows + 1}"
    if severity_col in frame.columns and n_rows:
        col = get_column_letter(list(frame.columns).index(severity_col) + 1)
        for severity, font in _SEVERITY_FONT.items():
            ws.conditional_formatting.add(f"{col}2:{col}{n_rows + 1}",
                                          CellIsRule(operator="equal", formula=[f'"{severity}"'], font=font))
    header = []
    for col in frame.columns:
        cell = WriteOnlyCell(ws, value=spreadsheet_text(str(col)))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    left = n_rows
    for part in itertools.chain([frame], more):
        head = part.head(left)
        for row in zip(*(_column_values(head[c]) for c in head.columns)):  # writing is row by row by nature
            ws.append(row)
        left -= len(head)
        if not left:
            break


def _summary(result: RunResult) -> pd.DataFrame:
    s = result.summary()
    audited = s["episodes_audited"]
    rows = [
        ("Source", s["source"]),
        ("Episodes read", s["episodes_read"]),
        ("Episodes audited", s["episodes_audited"]),
        ("Episodes uncoded (see Uncoded)", s["episodes_uncoded"]),
        ("Episodes rejected (see Rejected)", s["episodes_rejected"]),
        ("Read = audited + uncoded + rejected",
         "yes" if s["episodes_read"] == audited + s["episodes_uncoded"] + s["episodes_rejected"] else "NO"),
        ("Episodes without an end date", s["episodes_without_end_date"]),
        ("Rules", s["rules"]),
        ("Findings", s["findings"]),
        ("Errors", s["errors"]),
        ("Warnings", s["warnings"]),
        ("Info", s["info"]),
        ("Episodes with findings", s["episodes_with_findings"]),
        ("Findings per 1,000 episodes audited", round(1000 * s["findings"] / audited, 2) if audited else 0),
    ]
    if s.get("redacted"):
        rows.append(("Episode ids", "redacted (keyed pseudonyms)"))
    if "baseline" in s:
        b = s["baseline"]
        rows += [("Baseline file", b["file"]), ("Findings in the baseline (not listed)", b["matched"]),
                 ("Baseline entries no longer found", b["stale"])]
    if s["findings"] > MAX_ROWS:
        rows.append(("Note", f"the Findings sheet holds the first {MAX_ROWS} findings; use CSV or Parquet for all"))
    rows += [("Note", note) for note in s["notes"]]
    rows.append(("Written by", f"coding-audit {__version__}"))
    return pd.DataFrame(rows, columns=["Measure", "Value"], dtype=object)


def _rules(result: RunResult) -> pd.DataFrame:
    per_rule = result.by_rule()
    audited = result.episodes_audited
    per_rule["per_1000_episodes"] = (1000 * per_rule["findings"] / audited).round(2) if audited else 0.0
    return per_rule


def _deterministic(data: bytes) -> bytes:
    """The same workbook bytes for the same content: fixed zip times, fixed document dates."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if item.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                                 rb"\g<1>2000-01-01T00:00:00Z\g<3>", src.read(item.filename))
                dst.writestr(info, content)
                continue
            with src.open(item) as part, dst.open(info, "w") as copy:  # a sheet may be large: in pieces
                shutil.copyfileobj(part, copy, 1 << 20)
    return out.getvalue()


def workbook_bytes(result: RunResult) -> bytes:
    """The workbook as bytes."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "coding-audit"
    wb.properties.created = FIXED_TIME
    _sheet(wb, "Summary", _summary(result))
    frames = result.all_findings.frames()  # a batch of findings at a time: never all of them in memory
    first = [next(frames)]
    while sum(map(len, first)) < _WIDTH_ROWS and (following := next(frames, None)) is not None:
        first.append(following)  # the widths come from the first rows, as many as there are in one piece
    head = pd.concat(first, ignore_index=True) if len(first) > 1 else first[0]
    _sheet(wb, "Findings", head, severity_col="severity", rows=result.summary()["findings"], more=frames)
    _sheet(wb, "Rejected", result.rejected)
    _sheet(wb, "Uncoded", result.uncoded)
    _sheet(wb, "Rules", _rules(result), severity_col="severity")
    add_top_rules(wb, _rules(result), _sheet)  # with their charts (audit.report.xlsx_groups)
    add_group_sheets(wb, result, _sheet)
    buffer = io.BytesIO()
    wb.save(buffer)
    return _deterministic(buffer.getvalue())


def write(result: RunResult, output: Path | None) -> None:
    write_bytes(workbook_bytes(result), output)
