"""Trends: several months' runs (JSON results of ``audit run --format json``) side by side.

Per rule and per coder: findings and findings per 1,000 episodes audited in each run,
and month on month (each run against the one before it) the findings new, fixed
and persisting, matched as ``audit compare`` matches them (rule, episode, codes).
"""

from __future__ import annotations

from pathlib import Path

from audit.baseline import fingerprint
from audit.compare import _rate, _rule_info, load_result
from audit.errors import UserError

BLANK = "(blank)"


def _label(path: Path, doc: dict, taken: set[str]) -> str:
    """A run's column heading: its file name without the extension, made unique."""
    label = Path(path).stem or str(path)
    out, n = label, 2
    while out in taken:
        out, n = f"{label} ({n})", n + 1
    taken.add(out)
    return out


def _group_prints(doc: dict, key: str) -> dict[str, set[str]]:
    """Fingerprints of a run's findings grouped by one finding field (rule_id, coder)."""
    out: dict[str, set[str]] = {}
    for f in doc["findings"]:
        value = f.get(key)
        group = str(value) if value not in (None, "") else BLANK
        out.setdefault(group, set()).add(fingerprint(f["rule_id"], f["episode_id"], f.get("found", "")))
    return out


def _group_counts(doc: dict, key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in doc["findings"]:
        value = f.get(key)
        group = str(value) if value not in (None, "") else BLANK
        out[group] = out.get(group, 0) + 1
    return out


def _table(docs: list[dict], key: str, info: dict[str, dict] | None = None) -> list[dict]:
    """One row per group: findings, rates and month-on-month new / fixed / persisting."""
    prints = [_group_prints(d, key) for d in docs]
    counts = [_group_counts(d, key) for d in docs]
    audited = [d["summary"]["episodes_audited"] for d in docs]
    groups = sorted(set(info or {}) | {g for c in counts for g in c})
    rows = []
    for g in groups:
        row = {key: g}
        if info is not None:
            row.update(title=info.get(g, {}).get("title", ""), severity=info.get(g, {}).get("severity", ""))
        row["findings"] = [c.get(g, 0) for c in counts]
        row["rates"] = [_rate(c.get(g, 0), a) for c, a in zip(counts, audited)]
        steps = [(prints[i - 1].get(g, set()), prints[i].get(g, set())) for i in range(1, len(docs))]
        row["new"] = [len(n - o) for o, n in steps]
        row["fixed"] = [len(o - n) for o, n in steps]
        row["persisting"] = [len(n & o) for o, n in steps]
        rows.append(row)
    return rows


def trend(paths: list[Path]) -> dict:
    """Runs side by side, oldest first as given: totals, per rule and per coder (when the findings carry one)."""
    if len(paths) < 2:
        raise UserError("audit trend needs at least two runs (JSON results of 'audit run --format json')")
    docs = [load_result(p) for p in paths]
    taken: set[str] = set()
    labels = [_label(p, d, taken) for p, d in zip(paths, docs)]
    info: dict[str, dict] = {}
    for d in docs:  # the latest run's titles and severities win
        info.update(_rule_info(d))
    everything = [{**d, "findings": [{**f, "all": "all"} for f in d["findings"]]} for d in docs]
    total = _table(everything, "all")[0] if any(d["findings"] for d in docs) else None
    runs = []
    for i, (label, d) in enumerate(zip(labels, docs)):
        s = d["summary"]
        runs.append({"label": label, "source": str(s.get("source", "")), "period": s.get("period"),
                     "episodes_audited": s["episodes_audited"], "findings": len(d["findings"]),
                     "episodes_with_findings": s.get("episodes_with_findings"),
                     "rate": _rate(len(d["findings"]), s["episodes_audited"]),
                     "new": total["new"][i - 1] if total and i else None,
                     "fixed": total["fixed"][i - 1] if total and i else None,
                     "persisting": total["persisting"][i - 1] if total and i else None})
    has_coder = any("coder" in f for d in docs for f in d["findings"])
    notes = [f"{label}: filtered by a baseline, it lists only findings new against that baseline"
             for label, d in zip(labels, docs) if "baseline" in d["summary"]]
    if len({bool(d["summary"].get("redacted")) for d in docs}) > 1:
        notes.append("some runs are redacted and others not: episode ids cannot match across them")
    return {"runs": runs, "rules": _table(docs, "rule_id", info),
            "coders": _table(docs, "coder") if has_coder else [], "notes": notes}
