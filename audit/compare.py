"""Month on month: compare two runs' JSON results (``audit run --format json``) rule by rule.

Findings are matched by their baseline fingerprint (rule id, episode id, the
codes involved): a finding only in NEW is new, only in OLD is fixed, in both is
persisting. Rates are findings per 1,000 episodes audited in each run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit.baseline import fingerprint
from audit.errors import UserError
from audit.jsonfiles import json_text, read_json
from audit.report.output import write_console, write_csv_frame, write_text

COLUMNS = ["rule_id", "severity", "title", "old_findings", "new_findings", "new", "fixed", "persisting",
           "old_rate", "new_rate", "rate_change"]


def load_result(path: Path) -> dict:
    """A run's JSON result, checked enough to compare; problems are one-line errors (exit 2)."""
    path = Path(path)
    doc = read_json(path, "JSON result")
    if not isinstance(doc, dict) or not isinstance(doc.get("summary"), dict) \
            or not isinstance(doc.get("findings"), list):
        raise UserError(f"{path}: not a result of 'audit run --format json' (no summary and findings)")
    audited = doc["summary"].get("episodes_audited")
    if isinstance(audited, bool) or not isinstance(audited, int) or audited < 0:
        raise UserError(f"{path}: summary.episodes_audited must be a whole number")
    for i, f in enumerate(doc["findings"]):
        if not isinstance(f, dict) or not all(isinstance(f.get(k), str) for k in ("rule_id", "episode_id")):
            raise UserError(f"{path}: finding {i + 1} needs text fields rule_id and episode_id")
    return doc


def _rate(count: int, audited: int) -> float:
    return round(1000.0 * count / audited, 3) if audited else 0.0


def _rule_info(doc: dict) -> dict[str, dict]:
    """Title and severities (joined with "/") of each rule listed in a result's ``rules``."""
    out: dict[str, dict] = {}
    for r in doc.get("rules", []):
        if isinstance(r, dict) and isinstance(r.get("rule_id"), str):
            entry = out.setdefault(r["rule_id"], {"title": str(r.get("title", "")), "severities": []})
            entry["severities"].append(str(r.get("severity", "")))
    return {rid: {"title": e["title"], "severity": "/".join(dict.fromkeys(x for x in e["severities"] if x))}
            for rid, e in out.items()}


def compare(old: dict, new: dict) -> dict:
    """Per rule: findings in each run, new / fixed / persisting, and rates per 1,000 episodes audited."""
    audited = {"old": old["summary"]["episodes_audited"], "new": new["summary"]["episodes_audited"]}
    prints: dict[str, dict[str, set[str]]] = {"old": {}, "new": {}}
    counts: dict[str, dict[str, int]] = {"old": {}, "new": {}}
    for side, doc in (("old", old), ("new", new)):
        for f in doc["findings"]:
            rid = f["rule_id"]
            prints[side].setdefault(rid, set()).add(fingerprint(rid, f["episode_id"], f.get("found", "")))
            counts[side][rid] = counts[side].get(rid, 0) + 1
    info = {**_rule_info(old), **_rule_info(new)}  # the newer run's titles and severities win
    rows = []
    for rid in sorted(set(info) | set(counts["old"]) | set(counts["new"])):
        o, n = prints["old"].get(rid, set()), prints["new"].get(rid, set())
        oc, nc = counts["old"].get(rid, 0), counts["new"].get(rid, 0)
        old_rate, new_rate = _rate(oc, audited["old"]), _rate(nc, audited["new"])
        rows.append({"rule_id": rid, "severity": info.get(rid, {}).get("severity", ""),
                     "title": info.get(rid, {}).get("title", ""), "old_findings": oc, "new_findings": nc,
                     "new": len(n - o), "fixed": len(o - n), "persisting": len(n & o),
                     "old_rate": old_rate, "new_rate": new_rate, "rate_change": round(new_rate - old_rate, 3)})
    total_old, total_new = len(old["findings"]), len(new["findings"])
    notes = [f"{side} run was filtered by a baseline: it lists only findings new against that baseline"
             for side, doc in (("old", old), ("new", new)) if "baseline" in doc["summary"]]
    if bool(old["summary"].get("redacted")) != bool(new["summary"].get("redacted")):
        notes.append("one run is redacted and the other is not: episode ids cannot match")
    return {
        "old": {"source": old["summary"].get("source", ""), "episodes_audited": audited["old"],
                "findings": total_old, "rate": _rate(total_old, audited["old"])},
        "new": {"source": new["summary"].get("source", ""), "episodes_audited": audited["new"],
                "findings": total_new, "rate": _rate(total_new, audited["new"])},
        "totals": {k: sum(r[k] for r in rows) for k in ("new", "fixed", "persisting")},
        "rules": rows,
        "notes": notes,
    }


def write_json(comparison: dict, output: Path | None) -> None:
    write_text(json_text(comparison), output)


def write_csv(comparison: dict, output: Path | None) -> None:
    write_csv_frame(pd.DataFrame(comparison["rules"], columns=COLUMNS), output)


def write_table(comparison: dict, output: Path | None) -> None:
    write_console(lambda console: _print(comparison, console), output)


def _signed(x: float) -> str:
    return f"{x:+.2f}" if x else "0.00"


def _print(comparison: dict, console: Console) -> None:
    o, n = comparison["old"], comparison["new"]
    console.print(f"[bold]{escape(o['source'])}[/] ({o['episodes_audited']} episodes, {o['findings']} findings, "
                  f"{o['rate']:,.2f} per 1,000) -> [bold]{escape(n['source'])}[/] ({n['episodes_audited']} "
                  f"episodes, {n['findings']} findings, {n['rate']:,.2f} per 1,000)")
    for note in comparison["notes"]:
        console.print(f"note: {escape(note)}")
    table = Table(title="Findings per rule, old -> new", title_justify="left",
                  caption="Kept: in both runs. Rates: findings per 1,000 episodes audited.",
                  caption_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Rule", no_wrap=True, min_width=max([4, *(len(r["rule_id"]) for r in comparison["rules"])]))
    for col in ("Old", "New", "Added", "Fixed", "Kept", "Rate old", "Rate new", "Change"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for r in comparison["rules"]:
        style = "red" if r["rate_change"] > 0 else ("green" if r["rate_change"] < 0 else
                                                    ("dim" if not (r["old_findings"] or r["new_findings"]) else ""))
        table.add_row(escape(r["rule_id"]), str(r["old_findings"]), str(r["new_findings"]), str(r["new"]),
                      str(r["fixed"]), str(r["persisting"]), f"{r['old_rate']:,.2f}", f"{r['new_rate']:,.2f}",
                      _signed(r["rate_change"]), style=style)
    console.print(table)
    t = comparison["totals"]
    console.print(f"[bold]{t['new']} new, {t['fixed']} fixed, {t['persisting']} persisting[/] findings")


WRITERS = {"table": write_table, "json": write_json, "csv": write_csv}
