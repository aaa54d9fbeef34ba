"""The rows set aside, as CSV (line, episode_id, reason), safe to open in a spreadsheet."""

from __future__ import annotations

from pathlib import Path

from audit.extract import REJECT_COLUMNS
from audit.pipeline import RunResult
from audit.report.output import write_csv_frame


def write_rejects(result: RunResult, output: Path) -> None:
    """One row per row set aside, in line order; formula-looking text is neutralised."""
    rows = result.rejected.reindex(columns=REJECT_COLUMNS)
    rows["line"] = rows["line"].astype("int64")
    for col in ("episode_id", "reason"):
        rows[col] = rows[col].astype(object).where(rows[col].notna(), "").astype(str)
    write_csv_frame(rows, output)
