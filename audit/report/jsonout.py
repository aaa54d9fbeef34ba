"""The whole run as one JSON document: summary, per-rule counts, findings and rejected rows."""

from __future__ import annotations

from pathlib import Path

from audit.jsonfiles import json_text
from audit.pipeline import RunResult
from audit.report.output import write_text
from audit.report.tabular import findings_rows


def document(result: RunResult) -> dict:
    """``{"summary": {...}, "rules": [...], "findings": [...], "rejected": [...]}``."""
    rejected = result.rejected.astype(object).where(result.rejected.notna(), None)
    return {
        "summary": result.summary(),
        "rules": result.by_rule().to_dict(orient="records"),
        "findings": findings_rows(result).to_dict(orient="records"),
        "rejected": [{"line": int(r["line"]), "episode_id": r["episode_id"], "reason": r["reason"]}
                     for r in rejected.to_dict(orient="records")],
    }


def write(result: RunResult, output: Path | None) -> None:
    write_text(json_text(document(result)), output)
