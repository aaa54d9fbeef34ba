"""SARIF 2.1.0: the rules (with their guidance as help) and one result per finding.

Each result points at the extract file (``physicalLocation``), at the episode's
line in it when the extract is text (a CSV's ``region.startLine``; another format's
row number is the result's ``row`` property) and at the episode
(``logicalLocations``), and carries the baseline fingerprint in ``partialFingerprints`` so code
scanning tools can track a finding from run to run.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pandas as pd

from audit import __version__
from audit.baseline import fingerprints
from audit.engine import FINDING_COLUMNS
from audit.episodes import LINE
from audit.pipeline import RunResult
from audit.report import jsonstream
from audit.report.output import extract_path, write_bytes
from audit.report.tabular import iso_dates
from audit.rules.model import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "codingAuditFinding/v1"
_ATTRIBUTE = "attribute:"  # an attribute's column in ``_values`` (never one of the fixed names)


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


def _values(f: pd.DataFrame, index: dict[str, int]) -> pd.DataFrame:
    """What a finding's result shows, a column each (missing values missing): its rule's index, its
    level, the fingerprint, the episode's name, and its fields and attributes as JSON values."""
    rows = iso_dates(f)
    out = pd.DataFrame({
        "rule_id": rows["rule_id"],
        "rule_index": rows["rule_id"].map(index).fillna(-1).astype("int64"),
        "level": rows["severity"].map(LEVEL).fillna("warning"),
        "message": rows["message"],
        "name": rows["episode_id"].astype(object).fillna("None").astype(str),
        "fingerprint": fingerprints(f).to_numpy(dtype=object),
        "episode_id": rows["episode_id"],
        "expected": rows["expected"],
        "found": rows["found"],
        "codes": rows["codes"].fillna(""),
        "guidance": rows["guidance"],
    }, index=rows.index)
    if LINE in f:
        out[LINE] = f[LINE]
    for col in _attributes(f):
        values = rows[col]
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            values = [_property(v) for v in values.astype(object).where(values.notna(), None)]
        out[_ATTRIBUTE + col] = values
    return out


def _attributes(f: pd.DataFrame) -> list[str]:
    return [c for c in f.columns if c not in FINDING_COLUMNS and c != LINE]


def _result(v: dict, source: str, attributes: list[str], located_by: str = "line") -> dict:
    """One finding's SARIF result, from its ``_values`` (or placeholders for them); ``located_by``: what the
    episode's ``line`` is (a text file's line, or a "row" of another format)."""
    props = {"episode_id": v["episode_id"], "expected": v["expected"], "found": v["found"],
             "codes": v["codes"], "guidance": v["guidance"]}
    physical = {"artifactLocation": {"uri": source, "index": 0}}
    if LINE in v:
        if located_by == "line":
            physical["region"] = {"startLine": v[LINE]}
        else:
            props[located_by] = v[LINE]
    for col in attributes:
        props[col] = v[_ATTRIBUTE + col]
    return {
        "ruleId": v["rule_id"],
        "ruleIndex": v["rule_index"],
        "level": v["level"],
        "message": {"text": v["message"]},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"name": v["name"], "kind": "object"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: v["fingerprint"]},
        "properties": props,
    }


def artifact_uri(result: RunResult) -> str:
    """The extract as SARIF's artifact URI: its path as given, relative with forward slashes (``file:`` when
    absolute), so a code-scanning view finds it in the repository."""
    path = extract_path(result)
    return Path(path).as_uri() if Path(path).is_absolute() else quote(path)


def _rule_index(result: RunResult) -> dict[str, int]:
    """Each rule's index in the log's rules (a result's ``ruleIndex``)."""
    return {r.id: i for i, r in enumerate(result.rules)}


def document(result: RunResult, results: object = None) -> dict:
    """The SARIF log as a dict (``results``: what to put there instead of the findings' results)."""
    rules = list(result.rules)
    if results is None:
        f = result.findings
        attributes = _attributes(f)
        values = _values(f, _rule_index(result)).astype(object)
        results = [_result(v, artifact_uri(result), attributes, result.located_by)
                   for v in values.where(values.notna(), None).to_dict(orient="records")]
    run = {
        "tool": {"driver": {
            "name": "coding-audit",
            "semanticVersion": __version__,
            "version": __version__,
            "rules": [_rule(r) for r in rules],
        }},
        "artifacts": [{"location": {"uri": artifact_uri(result)}}],
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": f"line {r.line}: {r.episode_id}: {r.reason}"}}
                for r in result.rejected.itertuples()],
        }],
        "results": results,
        "properties": {"episodes_read": result.episodes_read, "episodes_audited": result.episodes_audited,
                       "episodes_uncoded": result.episodes_uncoded, "episodes_rejected": result.episodes_rejected,
                       "reconciliation": result.reconciliation()},
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def write(result: RunResult, output: Path | None) -> None:
    """The log, its results written a chunk of findings at a time (the same bytes as ``json_text(document)``)."""
    first, frames = jsonstream.peek(result.all_findings.frames())
    index = _rule_index(result)
    names = list(_values(first.head(0), index).columns)

    def values(part: pd.DataFrame) -> list:
        v = _values(part, index)
        return [jsonstream.json_values(v[n]) for n in names]

    shape = _result({n: jsonstream.slot(i) for i, n in enumerate(names)}, artifact_uri(result), _attributes(first),
                    result.located_by)
    write_bytes(jsonstream.streamed(document(result, results=jsonstream.ITEMS), shape, frames, values), output)
