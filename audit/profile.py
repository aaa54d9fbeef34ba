"""What the audited episodes cover, tallied a chunk at a time as the pipeline reads them: the episodes of
each provider, specialty and coder (the denominators of per-1,000 rates) and the range of end dates."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from audit.episodes import END_DATE

GROUPS = ("provider", "specialty", "coder")
BLANK = "(blank)"


def _labels(column: pd.Series) -> pd.Series:
    """A group column as text, blank values as ``(blank)``: the labels ``audit.report.charts.tally`` gives."""
    key = column.astype(object).where(column.notna(), BLANK).astype(str)
    return key.where(key.str.strip() != "", BLANK)


def _label_counts(column: pd.Series) -> pd.Series:
    """Episodes per label of a group column: counted per distinct value, then the few distinct values labelled
    (labelling every cell of a 10M run took 4.4 of its 30 CPU-s)."""
    counts = column.value_counts(dropna=False, sort=False)
    counts = counts[counts.to_numpy() > 0]  # a categorical column lists its unused categories too
    labels = _labels(pd.Series(counts.index.to_numpy(dtype=object), dtype=object))
    return pd.Series(counts.to_numpy(dtype="int64"), index=labels.to_numpy()).groupby(level=0, sort=True).sum()


@dataclass
class EpisodeProfile:
    """Episodes audited per group, and the first and last episode end date."""

    episodes: dict[str, pd.Series] = field(default_factory=dict)  # group column -> episodes per value
    first_end: pd.Timestamp | None = None
    last_end: pd.Timestamp | None = None

    def add(self, episodes: pd.DataFrame) -> None:
        """Count one chunk of audited episodes in (columnar: one value_counts a column)."""
        if not len(episodes):
            return
        for column in GROUPS:
            if column in episodes:
                counts = _label_counts(episodes[column])
                before = self.episodes.get(column)
                self.episodes[column] = counts if before is None else before.add(counts, fill_value=0).astype("int64")
        if END_DATE in episodes:
            end = pd.to_datetime(episodes[END_DATE], errors="coerce").dropna()
            if len(end):
                lo, hi = end.min(), end.max()
                self.first_end = lo if self.first_end is None else min(self.first_end, lo)
                self.last_end = hi if self.last_end is None else max(self.last_end, hi)

    def period(self) -> tuple[str, str] | None:
        """The first and last end date (YYYY-MM-DD), or None when no episode has one."""
        if self.first_end is None:
            return None
        return self.first_end.strftime("%Y-%m-%d"), self.last_end.strftime("%Y-%m-%d")

    def counts(self, column: str) -> pd.Series:
        """Episodes audited per value of ``column`` (empty when the extract has no such column)."""
        return self.episodes.get(column, pd.Series(dtype="int64"))
