"""Synthetic episodes (no patient data) and writers for every format and layout the reader takes."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

N_DIAG, N_PROC = 6, 8
DIAG = [f"DIAG_{i:02d}" for i in range(1, N_DIAG + 1)]
PROC = [f"OPERTN_{i:02d}" for i in range(1, N_PROC + 1)]
ATTRS = ["PROCODE", "EPISTART", "EPIEND", "MAINSPEF", "SEX", "STARTAGE", "CODER"]

# Values chosen to exercise the shipped rules: NICE procedures and their diagnoses, Y/Z qualifiers,
# malformed values, placeholders, blanks.
_DIAG_VALUES = [
    "C787",
    "C78.7",
    "C187",
    "C18.2",
    "C220",
    "C229",
    "I10X",
    "E119",
    "C787-",
    "c78.7 ",
    "C7.87",
    "C20X",
    "C792",
    "C439",
    "J45X",
]
_PROC_VALUES = [
    "J124",
    "Y539",
    "Y534",
    "J128",
    "Y123",
    "J032",
    "Y137",
    "J127",
    "J083",
    "X701",
    "X723",
    "S061",
    "Z475",
    "Z942",
    "Y53.9",
    "J12.4",
    "-",
    "I124",
    "J12.45",
]
# Whole episodes that must fire (or must not fire) particular rules.
_FIXED = [
    (["C787", "C187"], ["J124", "Y539"]),
    (["C787"], ["J124"]),
    (["C229"], ["J128", "Y123", "Y534"]),
    (["C229"], ["J128", "Y123"]),
    (["C787"], ["J032", "Y137"]),
    (["C792"], ["X701", "S061", "Y123", "Z475", "Z942"]),
    (["C792"], ["Y123", "S061"]),
    (["", "C787"], ["-"]),
    ([], []),
    (["C7.87", "C787"], ["I124", "J12.45"]),
]


def episodes(n: int = 60, seed: int = 7) -> pd.DataFrame:
    """A HES-style wide table of ``n`` synthetic episodes, every cell text ("" when blank)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        if i < len(_FIXED):
            diags, procs = _FIXED[i]
        else:
            diags = list(rng.choice(_DIAG_VALUES, size=rng.integers(0, N_DIAG + 1)))
            procs = list(rng.choice(_PROC_VALUES, size=rng.integers(0, N_PROC + 1)))
            if diags and rng.random() < 0.2:
                diags[rng.integers(len(diags))] = ""  # a gap between codes
        end = dt.date(2019, 1, 1) + dt.timedelta(days=int(rng.integers(0, 2500)))
        row = {
            "EPIKEY": str(100000 + i),
            "PROCODE": ["RXX", "RYY", "R0A"][i % 3],
            "EPISTART": (end - dt.timedelta(days=int(rng.integers(0, 9)))).isoformat(),
            "EPIEND": "" if i % 11 == 5 else end.isoformat(),
            "MAINSPEF": ["100", "301", "800"][i % 3],
            "SEX": ["1", "2", "9"][i % 3],
            "STARTAGE": str(int(rng.integers(18, 95))),
            "CODER": ["Renée", "Tom", "Siân"][i % 3],
        }
        row.update({c: (diags[j] if j < len(diags) else "") for j, c in enumerate(DIAG)})
        row.update({c: (procs[j] if j < len(procs) else "") for j, c in enumerate(PROC)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["EPIKEY", *ATTRS, *DIAG, *PROC])


def with_date_styles(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dates written the ways extracts write them: ISO, HES compact, UK."""
    out = frame.copy()
    for col in ("EPISTART", "EPIEND"):
        iso = out[col]
        compact = iso.str.replace("-", "", regex=False)
        uk = iso.str.slice(8, 10) + "/" + iso.str.slice(5, 7) + "/" + iso.str.slice(0, 4)
        style = np.arange(len(out)) % 3
        out[col] = np.where(iso == "", "", np.where(style == 1, compact, np.where(style == 2, uk, iso)))
    return out


# -- writers ----------------------------------------------------------------------------------


def write_csv(
    frame: pd.DataFrame, path: Path, sep: str = ",", encoding: str = "utf-8", compress: bool = False
) -> Path:
    text = frame.to_csv(index=False, sep=sep, lineterminator="\n")
    data = text.encode(encoding)
    if compress:
        data = gzip.compress(data, mtime=0)
    Path(path).write_bytes(data)
    return Path(path)


def write_parquet(
    frame: pd.DataFrame, path: Path, typed: bool = False, row_group_size: int | None = None
) -> Path:
    if typed:  # ids and ages as numbers, dates as dates, as typed extracts store them
        columns = {}
        for col in frame.columns:
            s = frame[col]
            if col in ("EPIKEY", "STARTAGE"):
                columns[col] = pa.array(s.astype("int64"))
            elif col in ("EPISTART", "EPIEND"):
                columns[col] = pa.array([dt.date.fromisoformat(v) if v else None for v in s], pa.date32())
            else:
                columns[col] = pa.array(s.tolist(), pa.string())
        table = pa.table(columns)
    else:
        table = pa.table({c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns})
    pq.write_table(table, path, row_group_size=row_group_size)
    return Path(path)


def write_xlsx(
    frame: pd.DataFrame,
    path: Path,
    typed: bool = False,
    title: str | None = None,
    sheet: str = "Episodes",
    first_sheet: str | None = None,
) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if first_sheet:
        ws.title = first_sheet
        ws.append(["not the episodes"])
        ws = wb.create_sheet(sheet)
    else:
        ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        values = []
        for col, v in zip(frame.columns, row):
            if typed and col in ("EPIKEY", "STARTAGE"):
                values.append(int(v))
            elif typed and col in ("EPISTART", "EPIEND") and v:
                values.append(dt.datetime.fromisoformat(v))
            else:
                values.append(v if v != "" else None)
        ws.append(values)
    wb.save(path)
    return Path(path)


def long_table(
    frame: pd.DataFrame,
    position: bool = True,
    words: tuple[str, str] = ("diagnosis", "procedure"),
    order: str = "episode",
) -> pd.DataFrame:
    """One row per code (gaps kept as blank codes); an episode without codes keeps one row without a code."""
    rows = []
    for seq, r in enumerate(frame.to_dict(orient="records")):
        attrs = {"EPIKEY": r["EPIKEY"], **{a: r[a] for a in ATTRS}}
        any_code = False
        for word, cols in ((words[0], DIAG), (words[1], PROC)):
            values = [r[c] for c in cols]
            last = max([j for j, v in enumerate(values) if v != ""], default=-1)
            for j in range(last + 1):
                rows.append(
                    {
                        **attrs,
                        "CODE_TYPE": word,
                        "POSITION": str(j + 1),
                        "CODE": values[j],
                        "_seq": seq,
                        "_kind": word,
                    }
                )
                any_code = True
        if not any_code:
            rows.append({**attrs, "CODE_TYPE": "", "POSITION": "", "CODE": "", "_seq": seq, "_kind": ""})
    out = pd.DataFrame(rows)
    if order == "kind":  # all diagnoses, then all procedures: an episode's rows are apart
        out = out.sort_values(["_kind", "_seq"], kind="stable")
    out = out.drop(columns=["_seq", "_kind"])
    if not position:
        out = out.drop(columns=["POSITION"])
    return out.reset_index(drop=True)


def concatenated_table(frame: pd.DataFrame, sep: str = "|") -> pd.DataFrame:
    """DIAG_ALL / OPERTN_ALL fields: codes joined in order, gaps kept, trailing blanks dropped."""
    out = frame[["EPIKEY", *ATTRS]].copy()
    for name, cols in (("DIAG_ALL", DIAG), ("OPERTN_ALL", PROC)):
        joined = []
        for values in frame[cols].itertuples(index=False):
            values = list(values)
            while values and values[-1] == "":
                values.pop()
            joined.append(sep.join(values))
        out[name] = joined
    return out
