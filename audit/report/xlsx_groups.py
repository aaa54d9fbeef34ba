"""The workbook's per-provider, per-specialty and per-coder sheets, each with an openpyxl bar chart of
findings and flagged episodes per 1,000 episodes coded, and a chart of findings per rule."""

from __future__ import annotations

import pandas as pd
from openpyxl.chart import BarChart, Reference

from audit.report.about import group_rates, group_tallies

TOP = 20  # bars in a chart: the groups with the most episodes
COLUMNS = {"value": "{title}", "episodes": "Episodes coded", "findings": "Findings", "errors": "Errors",
           "flagged": "Flagged episodes", "per_1000": "Findings per 1,000 episodes",
           "flagged_per_1000": "Flagged episodes per 1,000", "clean_pct": "% without an error"}


def group_frames(result) -> list[tuple[str, pd.DataFrame]]:
    """(sheet title, table) for each of provider, specialty and coder the extract has."""
    per_group, flagged, _ = group_tallies(result)
    out = []
    for g in group_rates(result, per_group, flagged):
        frame = pd.DataFrame([{k: r[k] for k in COLUMNS} for r in g["rows"]], columns=list(COLUMNS))
        frame.columns = [v.format(title=g["title"]) for v in COLUMNS.values()]
        out.append((f"Per {g['column']}", frame))
    return out


def _bar(title: str, y_title: str, data: Reference, categories: Reference, anchor: str, ws) -> None:
    chart = BarChart()
    chart.type, chart.style, chart.title = "bar", 10, title
    chart.y_axis.title = y_title
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(categories)
    chart.height, chart.width = 7.5 + 0.35 * min(TOP, data.max_row - 1), 16
    ws.add_chart(chart, anchor)


def add_group_sheets(wb, result, sheet) -> None:
    """The per-group sheets (written with ``sheet``, the workbook's own sheet writer), each with its chart."""
    for title, frame in group_frames(result):
        sheet(wb, title, frame)
        ws = wb.worksheets[-1]
        last = min(len(frame), TOP) + 1
        cats = Reference(ws, min_col=1, min_row=2, max_row=last)
        rates = Reference(ws, min_col=6, max_col=7, min_row=1, max_row=last)
        _bar(f"Findings and flagged episodes per 1,000 episodes, by {title[4:]}", "per 1,000 episodes",
             rates, cats, "J2", ws)


def add_top_rules(wb, rules: pd.DataFrame, sheet) -> None:
    """A "Top rules" sheet (the rules with the most findings) and its bar chart."""
    found = rules[rules["findings"] > 0]
    if not len(found):
        return
    top = (found.groupby(["rule_id", "title"], sort=False, as_index=False)["findings"].sum()
           .sort_values(["findings", "rule_id"], ascending=[False, True], kind="stable").head(TOP))
    top = top.rename(columns={"rule_id": "Rule", "title": "Title", "findings": "Findings"})[["Rule", "Findings", "Title"]]
    sheet(wb, "Top rules", top.reset_index(drop=True))
    ws = wb.worksheets[-1]
    last = len(top) + 1
    _bar("Findings per rule", "findings", Reference(ws, min_col=2, min_row=1, max_row=last),
         Reference(ws, min_col=1, min_row=2, max_row=last), "E2", ws)
