"""SARIF 2.1.0: the rules (with their guidance as help) and one result per finding.

Each result points at the extract file (``physicalLocation``) and at the
episode (``logicalLocations``: extracts have no source lines for episodes),
and carries the baseline fingerprint in ``partialFingerprints`` so code
scanning tools can track a finding from run to run.
"""

from __future__ import annotations

from pathlib import Path

from audit import __version__
from audit.baseline import fingerprints
from audit.engine import FINDING_COLUMNS
from audit.jsonfiles import json_text
from audit.pipeline import RunResult
from audit.report.output import write_text
from audit.report.tabular import iso_dates
from audit.rules.model import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "codingAuditFinding/v1"


def _rule(rule: Rule) -> dict:
    src = rule.source
    help_text = f"{src.guidance}: {src.title}\n\n\"{' '.join(src.text.split())}\"\n\nExpected: {rule.expected}."
    if src.url:
        help_text += f"\n\n{src.url}"
    cite = f"[{src.guidance}]({src.url})" if src.url else src.guidance
    help_md = (f"**{cite}**" + (f": {src.title}" if src.title else "") +
               f"\n\n> {' '.join(src.text.split())}\n\nExpected: {rule.expected}.")
    out = {
        "id": rule.id,
        "name": rule.id.replace("-", ""),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": " ".join((rule.description or rule.title).split())},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"guidance": src.guidance, "ruleset": rule.ruleset,
                       "severities": list(rule.severities), "tags": [rule.ruleset or src.guidance]},
    }
    if src.url:
        out["helpUri"] = src.url
    return out


def _property(value: object) -> object:
    """An attribute as a JSON value: text and numbers as they are (dates are ISO text by now), others as
    text."""
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def document(result: RunResult) -> dict:
    """The SARIF log as a dict."""
    rules = list(result.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    f = result.findings
    attributes = [c for c in f.columns if c not in FINDING_COLUMNS]
    rows = iso_dates(f)
    rows = rows.astype(object).where(rows.notna(), None)
    results = []
    for fp, row in zip(fingerprints(f).tolist(), rows.to_dict(orient="records")):
        props = {"episode_id": row["episode_id"], "expected": row["expected"], "found": row["found"],
                 "codes": row["codes"] or "", "guidance": row["guidance"]}
        for col in attributes:
            props[col] = _property(row[col])
        results.append({
            "ruleId": row["rule_id"],
            "ruleIndex": index.get(row["rule_id"], -1),
            "level": LEVEL.get(row["severity"], "warning"),
            "message": {"text": row["message"]},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": result.source, "index": 0}},
                "logicalLocations": [{"name": str(row["episode_id"]), "kind": "object"}],
            }],
            "partialFingerprints": {FINGERPRINT_KEY: fp},
            "properties": props,
        })
    run = {
        "tool": {"driver": {
            "name": "coding-audit",
            "semanticVersion": __version__,
            "version": __version__,
            "rules": [_rule(r) for r in rules],
        }},
        "artifacts": [{"location": {"uri": result.source}}],
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": f"line {r.line}: {r.episode_id}: {r.reason}"}}
                for r in result.rejected.itertuples()],
        }],
        "results": results,
        "properties": {"episodes_read": result.episodes_read, "episodes_audited": result.episodes_audited,
                       "episodes_rejected": result.episodes_rejected},
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def write(result: RunResult, output: Path | None) -> None:
    write_text(json_text(document(result)), output)
