"""The sample workbook the auditor fills in, and its CSV twin.

The first sheet ("Sample") is one sampled episode a row: ``EPISODE_ID`` first, the episode's attributes under
the engine's default column names, its inclusion probability, stratum and the rules that flagged it, the
original codes in order (``ORIGINAL_DIAG_01``...: names the reader does not take for code columns), then
empty ``DIAG_01``... and ``OPERTN_01``... columns for the auditor's codes and an ``ERROR_TYPE`` and ``NOTE``
column. Filled in, the sheet reads back as a wide extract whose codes are the auditor's. The second sheet
says how to fill it in. Cell validation (a warning the auditor may override) flags a malformed ICD-10 or
OPCS-4 code as it is typed. Text cells go through ``audit.report.safety``; the bytes are deterministic.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from audit.codes import Kind
from audit.episodes import ID, code_columns

PROBABILITY = "INCLUSION_PROBABILITY"
STRATUM = "STRATUM"
FLAGGED_BY = "RULES_FLAGGED"
ERROR_TYPE = "ERROR_TYPE"
NOTE = "NOTE"
ORIGINAL = "ORIGINAL_"
WIDE = {Kind.DIAGNOSIS: "DIAG_", Kind.PROCEDURE: "OPERTN_"}
HEADERS = {"provider": "PROVIDER", "specialty": "SPECIALTY", "coder": "CODER", "start_date": "START_DATE",
           "end_date": "END_DATE", "sex": "SEX", "age": "AGE"}
MIN_AUDITOR_COLUMNS = 8
SPARE_COLUMNS = 4  # auditor's columns beyond the most codes an original episode has

# Excel formulas for the cell validation ({c}: the cell); blank passes. ICD-10: a letter, two digits, then at
# most four of "." (one, fourth), digits, X, "-" (filler) and a dagger/asterisk sign. OPCS-4: a letter other
# than I, two digits, then nothing, a digit, or a dot and a digit; "-" and "&" are the OPCS-4 placeholders.
_CATEGORY = "CODE(UPPER({c}))>=65,CODE(UPPER({c}))<=90,ISNUMBER(--MID({c},2,1)),ISNUMBER(--MID({c},3,1))"
_ICD10_TAIL = ",".join(f'OR(LEN({{c}})<{k},ISNUMBER(FIND(MID({{c}},{k},1),"{chars}")))'
                       for k, chars in ((4, ".0123456789Xx-*†"), (5, "0123456789Xx-*†DdAa"),
                                        (6, "0123456789-*†DdAa"), (7, "*†DdAa")))
ICD10_RULE = (f'OR(LEN(TRIM({{c}}))=0,AND(LEN({{c}})>=3,LEN({{c}})<=7,{_CATEGORY},{_ICD10_TAIL},'
              'LEN({c})-LEN(SUBSTITUTE({c},".",""))<=1))')
OPCS4_RULE = (f'OR(LEN(TRIM({{c}}))=0,{{c}}="-",{{c}}="&",AND({_CATEGORY},UPPER(LEFT({{c}},1))<>"I",'
              'OR(LEN({c})=3,AND(LEN({c})=4,ISNUMBER(--MID({c},4,1))),'
              'AND(LEN({c})=5,MID({c},4,1)=".",ISNUMBER(--MID({c},5,1))))))')

INSTRUCTIONS = [
    "How to fill in this coding audit sample",
    "",
    "1. Each row of the Sample sheet is one sampled episode. Re-code it from the case notes in the DIAG_01... "
    "(ICD-10) and OPERTN_01... (OPCS-4) columns: the primary diagnosis in DIAG_01, the main procedure in "
    "OPERTN_01, the others in order after them. Add columns DIAG_nn / OPERTN_nn if you need more.",
    "2. The original coding is in the ORIGINAL_... columns: do not change them, nor EPISODE_ID.",
    "3. A cell turns the code down with a warning when it is not a well-formed code; you may keep it.",
    "4. ERROR_TYPE (optional): the error type from your error key (wrong code, omitted, unnecessary, "
    "sequencing, ...); NOTE: anything else.",
    "5. Leave DIAG_01 blank for an episode you have not re-coded yet: it is listed, not scored.",
    "6. INCLUSION_PROBABILITY is the chance the episode had of being sampled: 'audit score' weights the "
    "scores back to the whole extract with it. Do not change it.",
    "7. Then: audit score ORIGINAL_EXTRACT this_workbook.xlsx -o audit.html -o audit.json",
]


def sample_frame(episodes: pd.DataFrame, flagged_by: dict[str, str] | None = None) -> pd.DataFrame:
    """The Sample sheet as a frame: from the sampled episodes (plain frame with ``inclusion_probability`` and
    ``stratum``)."""
    flagged_by = flagged_by or {}
    out = pd.DataFrame({"EPISODE_ID": episodes[ID].astype(str).to_numpy()})
    for role, header in HEADERS.items():
        if role in episodes:
            out[header] = episodes[role].to_numpy()
    out[PROBABILITY] = episodes["inclusion_probability"].astype(float).round(12).to_numpy()
    out[STRATUM] = episodes["stratum"].astype(str).to_numpy()
    out[FLAGGED_BY] = [flagged_by.get(i, "") for i in out["EPISODE_ID"]]
    for kind, prefix in WIDE.items():
        cols = code_columns(episodes, kind)
        used = [c for c in cols if (episodes[c].astype(str).str.strip() != "").any()]
        last = max((cols.index(c) for c in used), default=-1) + 1
        for i, col in enumerate(cols[:last], start=1):
            out[f"{ORIGINAL}{prefix}{i:02d}"] = episodes[col].astype(str).to_numpy()
    for kind, prefix in WIDE.items():
        cols = code_columns(episodes, kind)
        used = max((i + 1 for i, c in enumerate(cols) if (episodes[c].astype(str).str.strip() != "").any()),
                   default=0)
        for i in range(1, max(MIN_AUDITOR_COLUMNS, used + SPARE_COLUMNS) + 1):
            out[f"{prefix}{i:02d}"] = ""
    out[ERROR_TYPE] = ""
    out[NOTE] = ""
    return out


def workbook_bytes(frame: pd.DataFrame) -> bytes:
    """The .xlsx: Sample sheet (frozen header, validation on the auditor's code columns) and Instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from audit.report.safety import spreadsheet_text
    from audit.report.xlsx import FIXED_TIME, _deterministic

    wb = Workbook()
    wb.properties.creator = "coding-audit"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    ws = wb.active
    ws.title = "Sample"
    auditor_fill = PatternFill("solid", fgColor="FFF4CE")
    for j, name in enumerate(frame.columns, start=1):
        cell = ws.cell(row=1, column=j, value=spreadsheet_text(str(name)))
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="005EB8")
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, len(str(name)) + 2))
    for i, row in enumerate(frame.itertuples(index=False), start=2):  # a sample: a few hundred rows
        for j, value in enumerate(row, start=1):
            if isinstance(value, str):
                value = spreadsheet_text(value) if value else None
            elif isinstance(value, pd.Timestamp):
                value = None if pd.isna(value) else value.date()
            elif value is not None and pd.isna(value):
                value = None
            cell = ws.cell(row=i, column=j, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, whatever it looks like
    last = len(frame) + 1
    for kind, rule, title in ((Kind.DIAGNOSIS, ICD10_RULE, "ICD-10"), (Kind.PROCEDURE, OPCS4_RULE, "OPCS-4")):
        cols = [j for j, name in enumerate(frame.columns, start=1) if _auditor_column(name, WIDE[kind])]
        if not cols:
            continue
        first = get_column_letter(cols[0])
        dv = DataValidation(type="custom", formula1=rule.format(c=f"{first}2"), allow_blank=True,
                            errorStyle="warning", showErrorMessage=True, errorTitle=f"Not an {title} code",
                            error=f"This does not look like a well-formed {title} code (e.g. "
                                  f"{'C78.7' if kind is Kind.DIAGNOSIS else 'J12.4'}).")
        dv.add(f"{first}2:{get_column_letter(cols[-1])}{max(last, 2) + 1000}")
        ws.add_data_validation(dv)
        for j in cols:
            for i in range(2, last + 1):
                ws.cell(row=i, column=j).fill = auditor_fill
    ws.freeze_panes = "B2"
    help_sheet = wb.create_sheet("Instructions")
    help_sheet.column_dimensions["A"].width = 120
    for i, line in enumerate(INSTRUCTIONS, start=1):
        help_sheet.cell(row=i, column=1, value=spreadsheet_text(line) if line else None)
    help_sheet["A1"].font = Font(bold=True, size=14)
    buffer = io.BytesIO()
    wb.save(buffer)
    return _deterministic(buffer.getvalue())


def _auditor_column(name: str, prefix: str) -> bool:
    return name.startswith(prefix) and name[len(prefix):].isdigit()


def write(frame: pd.DataFrame, output: Path) -> None:
    """The sample as .xlsx, or .csv (same columns, no instructions or validation) by ``output``'s extension."""
    from audit.errors import UserError
    from audit.report.output import write_bytes

    suffix = Path(output).suffix.lower()
    if suffix == ".xlsx":
        write_bytes(workbook_bytes(frame), output)
    elif suffix == ".csv":
        from audit.report.safety import neutralise_frame

        text = neutralise_frame(frame.astype(object).where(frame.notna(), "")).to_csv(index=False,
                                                                                     lineterminator="\n")
        write_bytes(text.encode("utf-8"), output)
    else:
        raise UserError(f"{output}: the sample is written as .xlsx or .csv")
