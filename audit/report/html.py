"""The HTML report: one self-contained file (no network) with totals, charts and a searchable table.

Everything from the data goes through Jinja2 autoescaping; charts are inline
SVG worked out in ``audit.report.charts``; the only script is a small filter
for the findings table, allowed by a Content-Security-Policy hash so that no
other script could run even if some text escaped escaping. Same input, same
bytes: there is no timestamp and everything is sorted.
"""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from pathlib import Path

import jinja2
import pandas as pd

from audit import __version__
from audit.baseline import code_tokens
from audit.episodes import LINE
from audit.pipeline import RunResult
from audit.report import about, charts
from audit.report.output import found_titles, write_text
from audit.report.safety import xml_text

MAX_ROWS = 5000  # findings listed in the table; the charts and counts always cover all of them
MAX_REJECTED = 500
MAX_STALE = 200
DIMENSIONS = (  # attribute column, chart title: drawn when the findings have the column
    ("provider", "Findings per provider"),
    ("specialty", "Findings per specialty"),
    ("coder", "Findings per coder"),
)
ATTRIBUTE_LABELS = {"provider": "Provider", "specialty": "Specialty", "end_date": "Ended", "coder": "Coder"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("audit.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def _asset(name: str) -> str:
    return resources.files("audit.report").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _groups(codes: str, found: str) -> list[tuple[str, list[tuple[str, bool]]]]:
    """An episode's codes as (group, [(code, offending?)]) for diagnoses, then procedures."""
    hits = set(code_tokens(found))
    diagnoses, _, procedures = f" {codes} ".partition(" | ")
    return [(name, [(tok, tok in hits) for tok in code_tokens(part)])
            for name, part in (("Dx", diagnoses), ("Px", procedures))]


def _months(findings: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Findings per month of episode end and severity (a ``charts.tally``), and those with no end date."""
    end = pd.to_datetime(findings["end_date"], errors="coerce")
    frame = pd.DataFrame({"month": end.dt.strftime("%Y-%m").where(end.notna(), None),
                          "severity": findings["severity"].to_numpy()}).dropna()
    return charts.tally(frame, "month"), int(end.isna().sum())


def _month_chart(months: pd.DataFrame, missing: int) -> charts.Chart | None:
    if not len(months):
        return None
    note = f"{missing} findings on episodes without an end date are not shown" if missing else ""
    return charts.columns("chart-month", "Findings per month of episode end", charts.ranked(months, "label"), note)


def _tallies(result: RunResult) -> tuple[list[charts.Chart], pd.Series]:
    """The charts, and the episodes with findings per rule: counted a chunk of findings at a time (a chunk
    holds its episodes' findings together), never all the findings at once."""
    columns = ["rule_id", "severity"]
    tallies: dict[str, list[pd.DataFrame]] = {}
    months, missing, episodes = [], 0, []
    for f in result.all_findings.frames():
        for column in columns + [c for c, _ in DIMENSIONS if c in f.columns]:
            tallies.setdefault(column, []).append(charts.tally(f, column))
        if "end_date" in f.columns and len(f):
            month, none = _months(f)
            months.append(month)
            missing += none
        episodes.append(f.groupby("rule_id")["episode_id"].nunique())
    by = {column: charts.added(parts) for column, parts in tallies.items()}
    severity = charts.ranked(by["severity"]).reindex(list(charts.SEVERITY_ORDER)).dropna().astype(int)
    out = [charts.hbar("chart-rule", "Findings per rule", charts.ranked(by["rule_id"])),
           charts.hbar("chart-severity", "Findings per severity", severity)]
    for column, title in DIMENSIONS:
        if column in by:
            out.append(charts.hbar(f"chart-{column}", title, charts.ranked(by[column])))
    month = _month_chart(charts.added(months), missing)
    if month is not None:
        out.append(month)
    per_rule = pd.concat(episodes).groupby(level=0).sum() if episodes else pd.Series(dtype="int64")
    return [c for c in out if c.bars], per_rule


def _rules(result: RunResult, episodes_per_rule: pd.Series) -> list[dict]:
    per = result.by_rule()
    audited = result.episodes_audited
    out = []
    for rule in result.rules:
        rows = per[per["rule_id"] == rule.id]
        findings = int(rows["findings"].sum())
        episodes = int(episodes_per_rule.get(rule.id, 0))
        src = rule.source
        out.append({
            "id": rule.id, "anchor": f"rule-{rule.id}", "title": rule.title, "severities": list(rule.severities),
            "by_severity": {r.severity: int(r.findings) for r in rows.itertuples()},
            "findings": findings, "episodes": episodes,
            "rate": f"{1000 * findings / audited:,.2f}" if audited else "0.00",
            "guidance": src.guidance, "source_title": src.title, "url": src.url, "date": src.date,
            "replaces": src.replaces, "text": " ".join(src.text.split()), "expected": rule.expected,
            "description": " ".join(rule.description.split()),
        })
    return out


def _attribute_text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _episodes(result: RunResult, rules: list[dict]) -> list[dict]:
    """The listed findings (the first ``MAX_ROWS``) grouped by episode, in extract order: each episode's id,
    attributes and codes (every code a finding of it is about highlighted), then its findings."""
    f = result.all_findings.head(MAX_ROWS)
    titles = {r["id"]: r for r in rules}
    attrs = [c for c in ATTRIBUTE_LABELS if c in f.columns]
    # Findings come sorted by extract order then rule: an episode's findings are consecutive (its line, or
    # its id where a result has no line).
    key = f[LINE] if LINE in f.columns else f["episode_id"]
    out: list[dict] = []
    records = zip(key, f["episode_id"], f["rule_id"], f["severity"], f["message"], f["guidance"], f["found"],
                  f["codes"], found_titles(f), *(f[c] for c in attrs))
    last = object()
    for k, episode_id, rule_id, severity, message, guidance, found, code_text, code_titles, *values in records:
        if not out or k != last:
            out.append({"episode_id": str(episode_id), "codes": str(code_text), "found": [], "findings": [],
                        "attributes": [(ATTRIBUTE_LABELS[c], _attribute_text(v)) for c, v in zip(attrs, values)
                                       if _attribute_text(v)]})
            last = k
        episode, rule = out[-1], titles.get(rule_id, {})
        episode["found"].append(str(found))
        episode["findings"].append({
            "rule_id": str(rule_id), "severity": str(severity), "message": str(message),
            "code_titles": _attribute_text(code_titles), "guidance": str(guidance), "title": rule.get("title", ""),
            "url": rule.get("url", ""), "anchor": f"rule-{rule_id}",
        })
    for episode in out:
        episode["groups"] = _groups(episode.pop("codes"), " ".join(episode.pop("found")))
    return out


def render(result: RunResult) -> str:
    """The report as one HTML document."""
    s = result.summary()
    audited = s["episodes_audited"]
    chart_list, episodes_per_rule = _tallies(result)
    rules = _rules(result, episodes_per_rule)
    style, script = _asset("report.css"), _asset("report.js")
    csp = ("default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
           f"style-src {_csp_hash(style)}; script-src {_csp_hash(script)}")
    rejected = result.rejected.head(MAX_REJECTED)
    baseline = s.get("baseline")
    per_group, flagged, with_error = about.group_tallies(result)
    episodes = _episodes(result, rules)
    context = {
        "s": s, "version": __version__, "csp": csp, "style": style, "script": script,
        "reconciled": s["episodes_read"] == audited + s["episodes_uncoded"] + s["episodes_rejected"],
        "rate": f"{1000 * s['findings'] / audited:,.2f}" if audited else "0.00",
        "charts": chart_list, "rules": rules, "episodes": episodes,
        "listed": sum(len(e["findings"]) for e in episodes),
        "rule_ids": sorted({r["id"] for r in rules if r["findings"]}),
        "total_findings": s["findings"],
        "rejected": [{"line": int(r.line), "episode_id": str(r.episode_id), "reason": str(r.reason)}
                     for r in rejected.itertuples()],
        "total_rejected": len(result.rejected),
        "baseline": baseline,
        "stale": (baseline or {}).get("stale_entries", [])[:MAX_STALE],
        "severity_order": charts.SEVERITY_ORDER,
        "about": about.about(result), "clean": about.headline(result, with_error),
        "group_rates": about.group_rates(result, per_group, flagged),
    }
    return xml_text(_environment().get_template("report.html.j2").render(**context))


def write(result: RunResult, output: Path | None) -> None:
    write_text(render(result), output)
