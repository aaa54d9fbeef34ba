"""Findings as flat rows: CSV (one row per finding)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from audit.pipeline import RunResult
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
    text = rows.to_csv(index=False, lineterminator="\n")
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
