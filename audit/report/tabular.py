"""Findings as flat rows: CSV, JSON Lines and Parquet (one row per finding)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.pipeline import RunResult
from audit.report.output import write_bytes, write_text
from audit.report.safety import neutralise_frame


def findings_rows(result: RunResult) -> pd.DataFrame:
    """The findings as plain text columns (dates as ISO dates), ready for any flat format."""
    out = result.findings.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d").fillna("")
    return out.fillna("").astype(str)


def write_csv(result: RunResult, output: Path | None) -> None:
    """One row per finding: episode_id, rule_id, severity, message, guidance, expected, found, attributes."""
    rows = neutralise_frame(findings_rows(result))
    write_text(rows.to_csv(index=False, lineterminator="\n"), output)


def write_jsonl(result: RunResult, output: Path | None) -> None:
    """One JSON object per line and per finding, the same fields as the CSV."""
    records = findings_rows(result).to_dict(orient="records")
    write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), output)


def findings_table(result: RunResult) -> pa.Table:
    """The findings as an Arrow table: text columns as strings, dates as dates, numbers as numbers."""
    f = result.findings
    columns = {}
    for col in f.columns:
        s = f[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns[col] = pa.array(s.dt.date.where(s.notna(), None), type=pa.date32())
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            columns[col] = pa.array(s, from_pandas=True)
        else:
            text = s.astype(object).where(s.notna(), None)
            columns[col] = pa.array([None if v is None else str(v) for v in text], type=pa.string())
    return pa.table(columns) if columns else pa.table({})


def write_parquet(result: RunResult, output: Path | None) -> None:
    """The findings as one Parquet file (zstd), one row per finding."""
    buffer = io.BytesIO()
    pq.write_table(findings_table(result), buffer, compression="zstd")
    write_bytes(buffer.getvalue(), output)
