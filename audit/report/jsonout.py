"""The whole run as one JSON document: summary, per-rule counts, findings and rejected rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.pipeline import RunResult
from audit.report import jsonstream
from audit.report.output import write_bytes
from audit.report.tabular import text_rows


def document(result: RunResult, findings: object = None) -> dict:
    """``{"summary": {...}, "rules": [...], "findings": [...], "rejected": [...], "uncoded": [...]}``
    (``findings``: what to put there instead of the findings' rows)."""
    rejected = result.rejected.astype(object).where(result.rejected.notna(), None)
    return {
        "summary": result.summary(),
        "rules": result.by_rule().to_dict(orient="records"),
        "findings": text_rows(result.findings).to_dict(orient="records") if findings is None else findings,
        "rejected": [{"line": int(r["line"]), "episode_id": r["episode_id"], "reason": r["reason"]}
                     for r in rejected.to_dict(orient="records")],
        "uncoded": text_rows(result.uncoded).to_dict(orient="records"),
    }


def write(result: RunResult, output: Path | None) -> None:
    """The document, its findings written a batch at a time (the same bytes as ``json_text(document)``)."""
    first, frames = jsonstream.peek(result.all_findings.frames())
    columns = [str(c) for c in first.columns]

    def values(part: pd.DataFrame) -> list:
        rows = text_rows(part)
        return [jsonstream.json_values(rows[c]) for c in rows.columns]

    shape = {c: jsonstream.slot(i) for i, c in enumerate(columns)}
    write_bytes(jsonstream.streamed(document(result, findings=jsonstream.ITEMS), shape, frames, values), output)
