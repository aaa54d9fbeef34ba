"""``audit trend`` written as JSON, CSV (one row per group and run) or one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit import __version__
from audit.jsonfiles import json_text
from audit.report.output import write_csv_frame, write_text

CSV_COLUMNS = ["table", "group", "title", "run", "findings", "rate", "new", "fixed", "persisting"]


def long_rows(result: dict) -> list[dict]:
    """Every rule's and coder's figures, one row per run (new / fixed / persisting blank in the first run)."""
    out = []
    for table, key in (("rule", "rule_id"), ("coder", "coder")):
        for row in result["rules" if table == "rule" else "coders"]:
            for i, run in enumerate(result["runs"]):
                out.append({"table": table, "group": row[key], "title": row.get("title", ""), "run": run["label"],
                            "findings": row["findings"][i], "rate": row["rates"][i],
                            "new": row["new"][i - 1] if i else None, "fixed": row["fixed"][i - 1] if i else None,
                            "persisting": row["persisting"][i - 1] if i else None})
    return out


def write_json(result: dict, output: Path | None) -> None:
    write_text(json_text(result), output)


def write_csv(result: dict, output: Path | None) -> None:
    frame = pd.DataFrame(long_rows(result), columns=CSV_COLUMNS)
    for column in ("new", "fixed", "persisting"):
        frame[column] = frame[column].astype("Int64")
    write_csv_frame(frame, output)


def _charts(result: dict) -> list:
    from audit.report import charts

    labels = [r["label"] for r in result["runs"]]
    per_run = pd.DataFrame({"error": [r["findings"] for r in result["runs"]]}, index=labels)
    by_severity = pd.DataFrame(0, index=labels, columns=list(charts.SEVERITY_ORDER))
    for row in result["rules"]:
        severity = row["severity"].split("/")[0]
        severity = severity if severity in charts.SEVERITY_ORDER else "error"
        by_severity[severity] += row["findings"]
    if by_severity.to_numpy().sum() != per_run.to_numpy().sum():  # findings of rules no run lists
        by_severity = per_run.reindex(columns=list(charts.SEVERITY_ORDER), fill_value=0)
    out = [charts.columns("chart-runs", "Findings per run", by_severity,
                          "A rule with several severities is counted under its first")]
    latest = pd.DataFrame({"error": {r["rule_id"]: r["findings"][-1] for r in result["rules"] if r["findings"][-1]}})
    if len(latest):
        out.append(charts.hbar("chart-rules-latest", f"Findings per rule in {labels[-1]}",
                               charts.ranked(latest.reindex(columns=list(charts.SEVERITY_ORDER), fill_value=0))))
    steps = result["runs"][1:]
    if steps:
        moves = pd.DataFrame({"error": [r["new"] or 0 for r in steps], "warning": [r["persisting"] or 0 for r in steps],
                              "info": [r["fixed"] or 0 for r in steps]}, index=[r["label"] for r in steps])
        out.append(charts.columns("chart-moves", "New, persisting and fixed findings month on month",
                                  moves.reindex(columns=list(charts.SEVERITY_ORDER), fill_value=0),
                                  "Colours here: new (red), persisting (amber), fixed (blue) against the run before"))
    return [c for c in out if c.bars]


def render(result: dict) -> str:
    """The trend as one HTML document (no script, escaped, deterministic)."""
    from audit.report.html import _asset, _csp_hash, _environment
    from audit.report.safety import xml_text

    style = _asset("report.css")
    csp = f"default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; style-src {_csp_hash(style)}"
    html = _environment().get_template("trend.html.j2").render(
        result=result, runs=result["runs"], charts=_charts(result), style=style, csp=csp, version=__version__)
    return xml_text(html)


def write_html(result: dict, output: Path | None) -> None:
    write_text(render(result), output)


WRITERS = {"html": write_html, "json": write_json, "csv": write_csv}
