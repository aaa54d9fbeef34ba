"""Findings as flat rows: CSV, JSON Lines and Parquet (one row per finding)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.pipeline import RunResult
from audit.report.output import write_bytes, write_csv_frame, write_text


def iso_dates(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings with each date column as ISO dates (text; missing stays missing), a column at a time."""
    out = findings.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def findings_rows(result: RunResult) -> pd.DataFrame:
    """The findings as plain text columns (dates as ISO dates), ready for any flat format."""
    return iso_dates(result.findings).fillna("").astype(str)


def write_csv(result: RunResult, output: Path | None) -> None:
    """One row per finding: episode_id, rule_id, severity, message, guidance, expected, found, attributes."""
    write_csv_frame(findings_rows(result), output)


def write_jsonl(result: RunResult, output: Path | None) -> None:
    """One JSON object per line and per finding, the same fields as the CSV."""
    records = findings_rows(result).to_dict(orient="records")
    write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), output)


def _contiguous(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array (Arrow-backed pandas columns convert to chunked arrays, one chunk per piece)."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _text_array(s: pd.Series) -> pa.Array:
    """A column as Arrow strings (missing values as nulls), every other value as its ``str``."""
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # only text: convert in one go
        try:
            return _contiguous(pa.array(s, type=pa.string(), from_pandas=True))
        except pa.ArrowTypeError:
            pass
    text = s.astype(object).where(s.notna(), None)  # bytes, numbers, mixed values: str() each one
    return pa.array([None if v is None else str(v) for v in text], type=pa.string())


def findings_table(result: RunResult) -> pa.Table:
    """The findings as an Arrow table: text columns as strings, dates as dates, numbers as numbers."""
    f = result.findings
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


def write_parquet(result: RunResult, output: Path | None) -> None:
    """The findings as one Parquet file (zstd), one row per finding."""
    buffer = io.BytesIO()
    pq.write_table(findings_table(result), buffer, compression="zstd")
    write_bytes(buffer.getvalue(), output)
