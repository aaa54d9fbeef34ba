"""Bar charts as plain geometry for the HTML report's inline SVG (no script, no network).

Python works out every rectangle and label here; the template only draws them
(autoescaped). Numbers are rounded to fixed decimals so output is byte-stable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from audit.rules.model import SEVERITIES

SEVERITY_ORDER = SEVERITIES  # most severe first: the order of chart segments and legends
TOP = 12  # categories shown; the rest are summed into "Other"
LABEL_CHARS = 22


@dataclass
class Segment:
    severity: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Bar:
    label: str
    short: str
    total: int
    segments: list[Segment]
    x: float  # where the label / value text goes
    y: float


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # "hbar" (categories down the side) or "columns" (months along the bottom)
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # gridlines: position, label
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # x, y, width, height of the plot area
    note: str = ""

    @property
    def summary(self) -> str:
        """A text alternative for screen readers."""
        return "; ".join(f"{b.label}: {b.total}" for b in self.bars)


def _nice_max(value: int) -> tuple[int, int]:
    """An axis maximum and tick step (1, 2 or 5 x 10^k) giving about four ticks."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    step = max(1, int(step))
    return int(math.ceil(value / step) * step), step


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "\u2026"


def tally(findings: pd.DataFrame, column: str) -> pd.DataFrame:
    """Findings per category (blank ones "(blank)") and severity, unsorted: tallies of chunks of the
    findings add up (``added``)."""
    if not len(findings):
        return pd.DataFrame(columns=list(SEVERITY_ORDER))
    key = findings[column].astype(object).where(findings[column].notna(), "(blank)").astype(str)
    key = key.where(key.str.strip() != "", "(blank)")
    return pd.crosstab(key, findings["severity"]).reindex(columns=list(SEVERITY_ORDER), fill_value=0)


def added(tallies: list[pd.DataFrame]) -> pd.DataFrame:
    """``tally`` tables of chunks of the findings as one."""
    filled = [t for t in tallies if len(t)]
    if not filled:
        return pd.DataFrame(columns=list(SEVERITY_ORDER))
    return filled[0] if len(filled) == 1 else pd.concat(filled).groupby(level=0, sort=False).sum()


def ranked(table: pd.DataFrame, order: str = "count") -> pd.DataFrame:
    """A ``tally`` sorted by total (then label), the categories past ``TOP`` summed into one; or, with
    ``order="label"``, by label."""
    if not len(table):
        return pd.DataFrame(columns=list(SEVERITY_ORDER))
    total = table.sum(axis=1)
    if order == "label":
        return table.sort_index()
    ranked_labels = sorted(table.index, key=lambda k: (-int(total[k]), str(k)))  # a loop over categories
    table = table.loc[ranked_labels]
    if len(table) > TOP:
        rest = table.iloc[TOP - 1:].sum()
        hidden = len(table) - (TOP - 1)
        table = table.iloc[:TOP - 1].copy()
        table.loc[f"Other ({hidden} more)"] = rest
    return table


def hbar(chart_id: str, title: str, table: pd.DataFrame, note: str = "") -> Chart:
    """Horizontal stacked bars, one per category (row of ``table``)."""
    row_h, label_w, plot_w, top = 24, 170, 330, 22
    n = len(table)
    height = top + n * row_h + 8
    chart = Chart(chart_id, title, "hbar", label_w + plot_w + 60, height, note=note,
                  plot=(label_w, top, plot_w, n * row_h))
    axis_max, step = _nice_max(int(table.sum(axis=1).max()) if n else 0)
    chart.ticks = [(round(label_w + plot_w * v / axis_max, 1), f"{v:,}") for v in range(0, axis_max + 1, step)]
    for i, (label, row) in enumerate(table.iterrows()):  # a loop over chart bars (a dozen), not episodes
        y = top + i * row_h + 4
        x = float(label_w)
        segments = []
        for sev in SEVERITY_ORDER:
            value = int(row.get(sev, 0))
            if value:
                w = round(plot_w * value / axis_max, 1)
                segments.append(Segment(sev, value, round(x, 1), y, max(w, 1.0), row_h - 8))
                x += w
        chart.bars.append(Bar(str(label), _short(str(label)), int(row.sum()), segments, round(x + 6, 1),
                              y + (row_h - 8) / 2))
    return chart


def columns(chart_id: str, title: str, table: pd.DataFrame, note: str = "") -> Chart:
    """Vertical stacked columns in the order of ``table`` (months, oldest first)."""
    left, top, plot_w, plot_h, bottom = 48, 16, 440, 170, 36
    n = len(table)
    chart = Chart(chart_id, title, "columns", left + plot_w + 12, top + plot_h + bottom, note=note,
                  plot=(left, top, plot_w, plot_h))
    axis_max, step = _nice_max(int(table.sum(axis=1).max()) if n else 0)
    chart.ticks = [(round(top + plot_h - plot_h * v / axis_max, 1), f"{v:,}")
                   for v in range(0, axis_max + 1, step)]
    slot = plot_w / max(n, 1)
    every = max(1, math.ceil(n / 12))  # label at most a dozen columns
    for i, (label, row) in enumerate(table.iterrows()):
        w = round(min(slot * 0.7, 44.0), 1)
        x = left + i * slot + (slot - w) / 2
        y = float(top + plot_h)
        segments = []
        for sev in SEVERITY_ORDER:
            value = int(row.get(sev, 0))
            if value:
                h = round(plot_h * value / axis_max, 1)
                y -= h
                segments.append(Segment(sev, value, round(x, 1), round(y, 1), w, max(h, 1.0)))
        chart.bars.append(Bar(str(label), str(label) if i % every == 0 else "", int(row.sum()), segments,
                              round(x + w / 2, 1), float(top + plot_h + 14)))
    return chart
