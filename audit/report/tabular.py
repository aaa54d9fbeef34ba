"""Findings as flat rows: CSV, JSON Lines and Parquet (one row per finding)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.pipeline import RunResult
from audit.report.output import text_array, write_bytes, write_csv_frames


def iso_dates(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings with each date column as ISO dates (text; missing stays missing), a column at a time."""
    out = findings.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def text_rows(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings as plain text columns (dates as ISO dates)."""
    return iso_dates(findings).fillna("").astype(str)


def write_csv(result: RunResult, output: Path | None) -> None:
    """One row per finding: episode_id, rule_id, severity, message, guidance, expected, found, attributes.
    Written a batch of findings at a time."""
    write_csv_frames((text_rows(f) for f in result.all_findings.frames()), output)


def write_jsonl(result: RunResult, output: Path | None) -> None:
    """One JSON object per line and per finding, the same fields as the CSV; a batch of findings at a time."""
    write_bytes((_json_lines(text_rows(f)) for f in result.all_findings.frames()), output)


def _json_lines(rows: pd.DataFrame) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows.to_dict(orient="records")).encode()


def _contiguous(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array (Arrow-backed pandas columns convert to chunked arrays, one chunk per piece)."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _text_array(s: pd.Series) -> pa.Array:
    """A column as Arrow strings (missing values as nulls), every other value as its ``str``."""
    if (text := text_array(s)) is not None:  # only text: converted in one go
        return text
    text = s.astype(object).where(s.notna(), None)  # bytes, numbers, mixed values: str() each one
    return pa.array([None if v is None else str(v) for v in text], type=pa.string())


def arrow_findings(f: pd.DataFrame) -> pa.Table:
    """A findings frame as an Arrow table: text columns as strings, dates as dates, numbers as numbers."""
    columns = {}
    for col in f.columns:
        s = f[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns[col] = _contiguous(pa.array(s, from_pandas=True).cast(pa.date32()))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            columns[col] = pa.array(s, from_pandas=True)
        else:
            columns[col] = _text_array(s)
    return pa.table(columns)


ROW_GROUP = 250_000  # findings a Parquet row group (at least; a batch of findings is not split)


def write_parquet(result: RunResult, output: Path | None) -> None:
    """The findings as one Parquet file (zstd), one row per finding, read a batch of findings at a time
    and written a row group of about ``ROW_GROUP`` findings at a time, straight to the file."""
    sink = io.BytesIO() if output is None else output
    writer = None
    for group in _row_groups(result.all_findings.frames(), ROW_GROUP):
        table = arrow_findings(pd.concat(group, ignore_index=True) if len(group) > 1 else group[0])
        if writer is None:
            writer = pq.ParquetWriter(sink, table.schema, compression="zstd")
        writer.write_table(table.cast(writer.schema), row_group_size=max(1, len(table)))
    writer.close()  # frames() gives at least one frame, so there is a writer
    if output is None:
        write_bytes(sink.getvalue(), None)


def _row_groups(frames, rows: int):
    """Consecutive frames gathered until they hold at least ``rows`` rows (the last group may hold fewer)."""
    group, held = [], 0
    for frame in frames:
        group.append(frame)
        held += len(frame)
        if held >= rows:
            yield group
            group, held = [], 0
    if group:
        yield group
