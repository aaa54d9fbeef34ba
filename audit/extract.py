"""Read an episode extract into canonical episode frames, a chunk at a time.

Supported here: the HES Admitted Patient Care wide layout (``EPIKEY``, any
number of ``DIAG_nn`` / ``OPERTN_nn`` columns, or ``DIAG_4_nn`` /
``OPERTN_4_nn``, plus ``EPIEND`` and other attributes when present) in CSV
(optionally gzip-compressed) or Parquet. Code columns stay dictionary-encoded
from the file to the engine. Rows that cannot be audited (no episode id, an
unparseable end date) are set aside with their line and reason; every row
read is either audited or rejected.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from audit.codes import Kind
from audit.episodes import END_DATE, ID, code_column
from audit.errors import InputFileError

DEFAULT_CHUNK_ROWS = 250_000
REJECT_COLUMNS = ["line", "episode_id", "reason"]

# HES attribute columns carried into findings under a canonical name.
HES_ATTRIBUTES = {
    "PROCODE": "provider",
    "EPISTART": "start_date",
    "EPIEND": END_DATE,
    "MAINSPEF": "specialty",
    "SEX": "sex",
    "STARTAGE": "age",
}
HES_ID = "EPIKEY"
_HES_CODES = {
    Kind.DIAGNOSIS: (re.compile(r"DIAG_(\d{1,2})"), re.compile(r"DIAG_4_(\d{1,2})")),
    Kind.PROCEDURE: (re.compile(r"OPERTN_(\d{1,2})"), re.compile(r"OPERTN_4_(\d{1,2})")),
}
_CODE_TYPE = pa.dictionary(pa.int32(), pa.string())


@dataclass(frozen=True)
class Layout:
    """Where the id, codes and attributes are in a file's columns (names as in the file)."""

    id_column: str
    codes: dict[Kind, list[str]]  # file columns in position order
    attributes: dict[str, str]  # file column -> canonical attribute name

    @property
    def columns(self) -> list[str]:
        return [self.id_column, *self.codes[Kind.DIAGNOSIS], *self.codes[Kind.PROCEDURE], *self.attributes]


@dataclass
class Batch:
    """One chunk read from an extract: the episodes to audit and the rows set aside."""

    episodes: pd.DataFrame  # canonical episode frame
    rejected: pd.DataFrame  # line, episode_id, reason
    read: int  # rows read from the file in this chunk


def hes_wide_layout(columns: list[str], path: Path) -> Layout:
    """Find the HES wide layout's columns (case-insensitive); a clear error if it is not there."""
    upper = {c.upper().strip(): c for c in columns}
    if HES_ID not in upper:
        raise InputFileError(path, f"no episode id column {HES_ID} (columns: {', '.join(columns[:12])})")
    codes: dict[Kind, list[str]] = {}
    for kind, regexes in _HES_CODES.items():
        for regex in regexes:  # DIAG_nn if present, else the derived DIAG_4_nn
            found = sorted((int(m.group(1)), col) for key, col in upper.items() if (m := regex.fullmatch(key)))
            if found:
                codes[kind] = [col for _, col in found]
                break
        else:
            codes[kind] = []
    if not codes[Kind.DIAGNOSIS] and not codes[Kind.PROCEDURE]:
        raise InputFileError(path, "no code columns: expected DIAG_01.. and/or OPERTN_01.. (HES wide layout)")
    attributes = {upper[k]: v for k, v in HES_ATTRIBUTES.items() if k in upper}
    return Layout(upper[HES_ID], codes, attributes)


def read_extract(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[Batch]:
    """Stream an extract as canonical batches of at most about ``chunk_rows`` episodes."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such file")
    name = path.name.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        yield from _read_parquet(path, chunk_rows)
    elif name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        yield from _read_csv(path, chunk_rows)
    else:
        raise InputFileError(path, "unknown file type: expected .csv, .csv.gz or .parquet")


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[Batch]:
    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(path, f"not a readable Parquet file ({exc})") from None
    layout = hes_wide_layout(names, path)
    code_cols = layout.codes[Kind.DIAGNOSIS] + layout.codes[Kind.PROCEDURE]
    first_line = 1
    try:
        # Code columns stay dictionary-encoded from the file to the engine.
        pf = pq.ParquetFile(path, read_dictionary=code_cols)
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=layout.columns):
            yield _to_batch(batch, layout, first_line)
            first_line += batch.num_rows
    except pa.ArrowException as exc:
        raise InputFileError(path, f"cannot read Parquet data ({exc})") from None


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            first = f.readline()
    except OSError as exc:
        raise InputFileError(path, f"cannot read file ({exc})") from None
    if not first.strip():
        raise InputFileError(path, "the file is empty", line=1)
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    return [c.strip().strip('"') for c in text.split(",")]


def _read_csv(path: Path, chunk_rows: int) -> Iterator[Batch]:
    layout = hes_wide_layout(_csv_header(path), path)
    types = {c: pa.string() for c in layout.columns}
    types.update({c: _CODE_TYPE for c in layout.codes[Kind.DIAGNOSIS] + layout.codes[Kind.PROCEDURE]})
    convert = pacsv.ConvertOptions(column_types=types, include_columns=layout.columns,
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    # A block of about 200 bytes per episode; the reader yields record batches of roughly chunk_rows.
    read_opts = pacsv.ReadOptions(block_size=max(1 << 20, min(chunk_rows * 200, 1 << 30)), use_threads=True)
    try:
        reader = pacsv.open_csv(str(path), read_options=read_opts, convert_options=convert)
        first_line = 2  # line 1 is the header
        for block in reader:
            for offset in range(0, block.num_rows, chunk_rows):  # zero-copy slices of chunk_rows
                batch = block.slice(offset, chunk_rows)
                yield _to_batch(batch, layout, first_line)
                first_line += batch.num_rows
    except pa.ArrowInvalid as exc:
        raise InputFileError(path, f"cannot parse CSV ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _to_batch(table: pa.RecordBatch, layout: Layout, first_line: int) -> Batch:
    """Rename to canonical columns, then set aside rows that cannot be audited."""
    n = table.num_rows
    data: dict[str, object] = {}
    ids = table.column(layout.id_column).to_pandas().astype(object)
    data[ID] = ids.where(ids.notna(), "").astype(str).str.strip()
    for col, name in layout.attributes.items():
        data[name] = table.column(col).to_pandas()
    for kind in Kind:
        for pos, col in enumerate(layout.codes[kind], start=1):
            data[code_column(kind, pos)] = table.column(col).to_pandas()
    frame = pd.DataFrame(data)
    lines = np.arange(first_line, first_line + n)

    reasons = pd.Series("", index=frame.index, dtype=object)
    reasons[frame[ID] == ""] = "missing episode id"
    if END_DATE in frame:
        raw = frame[END_DATE].astype(object).where(frame[END_DATE].notna(), "").astype(str).str.strip()
        parsed = parse_dates(raw)
        bad = (raw != "") & parsed.isna()
        reasons[bad & (reasons == "")] = "unparseable end date " + raw[bad].map(repr)
        frame[END_DATE] = parsed
    keep = (reasons == "").to_numpy()
    rejected = pd.DataFrame({"line": lines[~keep], "episode_id": frame[ID].to_numpy()[~keep],
                             "reason": reasons.to_numpy()[~keep]}, columns=REJECT_COLUMNS)
    return Batch(frame[keep].reset_index(drop=True), rejected, n)


def parse_dates(raw: pd.Series) -> pd.Series:
    """Dates as extracts write them: ISO (2024-03-31), HES compact (20240331) or UK (31/03/2024)."""
    out = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    for fmt in ("%Y%m%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        missing = out.isna() & (raw != "")
        if not missing.any():
            break
        out[missing] = pd.to_datetime(raw[missing], format=fmt, errors="coerce")
    return out
