"""Baselines: accept today's findings so that a pipeline gates only on new ones.

A baseline file is JSON::

    {"tool": "coding-audit", "version": 1, "redacted": false,
     "entries": [{"fingerprint": "...", "rule_id": "IPG327-01", "episode_id": "1001",
                  "severity": "error", "found": "J12.4", "reason": ""}, ...]}

The fingerprint is a SHA-256 of the rule id, the episode id and the codes the
finding is about (sorted), so it does not change when a message is reworded or
episodes are reordered. ``reason`` is for people: why the finding is accepted.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from audit.errors import UserError
from audit.jsonfiles import json_text, read_json
from audit.pipeline import RunResult
from audit.report.output import write_text

VERSION = 1
TOOL = "coding-audit"
ENTRY_KEYS = ("fingerprint", "rule_id", "episode_id", "severity", "found", "reason")
_TOKEN = re.compile(r'"[^"]*"|\S+')  # a code, or a quoted malformed value that may hold spaces


def code_tokens(text: str) -> list[str]:
    """The codes of a ``found`` / ``codes`` text, in order (quoted malformed values kept whole)."""
    return _TOKEN.findall(str(text))


def fingerprint(rule_id: str, episode_id: str, found: str) -> str:
    """Stable id of a finding: SHA-256 over rule id, episode id and the sorted codes involved."""
    key = "\x1f".join([str(rule_id), str(episode_id), " ".join(sorted(code_tokens(found)))])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def fingerprints(findings: pd.DataFrame) -> pd.Series:
    """The fingerprint of every finding of a findings frame (or of JSON findings rows)."""
    if not len(findings):
        return pd.Series([], dtype=object, index=findings.index)
    rule, episode, found = (findings[c].astype(object).fillna("").astype(str).to_numpy(dtype=object)
                            for c in ("rule_id", "episode_id", "found"))
    # As ``fingerprint`` does, with each distinct found text's codes sorted once.
    codes = {text: " ".join(sorted(code_tokens(text))) for text in pd.unique(found)}
    return pd.Series([hashlib.sha256(f"{r}\x1f{e}\x1f{codes[f]}".encode()).hexdigest()[:32]
                      for r, e, f in zip(rule, episode, found)], index=findings.index, dtype=object)


def create(result: RunResult, previous: dict | None = None) -> dict:
    """A baseline of every finding of ``result``; reasons of entries already in ``previous`` are kept."""
    reasons = {e["fingerprint"]: e.get("reason", "") for e in (previous or {}).get("entries", [])}
    f = result.findings
    entries = {}
    for fp, rule_id, episode_id, severity, found in zip(fingerprints(f), f["rule_id"], f["episode_id"],
                                                        f["severity"], f["found"]):
        entries[fp] = {"fingerprint": fp, "rule_id": str(rule_id), "episode_id": str(episode_id),
                       "severity": str(severity), "found": str(found), "reason": reasons.get(fp, "")}
    ordered = sorted(entries.values(), key=lambda e: (e["rule_id"], e["episode_id"], e["fingerprint"]))
    return {"tool": TOOL, "version": VERSION, "source": result.source, "redacted": result.redacted,
            "entries": ordered}


def write(document: dict, path: Path) -> None:
    write_text(json_text(document), Path(path))


def load(path: Path) -> dict:
    """Read and check a baseline file; any problem is a one-line error (exit 2)."""
    path = Path(path)
    doc = read_json(path, "baseline file", " (make one with 'audit baseline create')")
    if not isinstance(doc, dict) or doc.get("tool") != TOOL or not isinstance(doc.get("entries"), list):
        raise UserError(f"{path}: not a baseline file (expected a JSON object from 'audit baseline create')")
    if doc.get("version") != VERSION:
        raise UserError(f"{path}: baseline version {doc.get('version')!r} is not supported (expected {VERSION})")
    for i, entry in enumerate(doc["entries"]):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ENTRY_KEYS[:3]):
            raise UserError(f"{path}: entry {i + 1} needs text fields fingerprint, rule_id and episode_id")
    return doc


def apply(result: RunResult, baseline: dict, path: Path) -> None:
    """Keep only findings not in the baseline; record matched and stale (no longer found) entries."""
    if bool(baseline.get("redacted")) != result.redacted:
        made = "with" if baseline.get("redacted") else "without"
        raise UserError(f"{path}: the baseline was made {made} --redact; run {made} it (and the same key) too")
    known = {e["fingerprint"]: e for e in baseline["entries"]}
    keys = list(known)
    seen: set[str] = set()
    counted = {"matched": 0, "new": 0}

    def new_findings(frame: pd.DataFrame) -> np.ndarray:  # each chunk's findings once, in order
        fps = fingerprints(frame)
        in_baseline = fps.isin(keys).to_numpy(dtype=bool)
        seen.update(fps[in_baseline])
        counted["matched"] += int(in_baseline.sum())
        counted["new"] += int((~in_baseline).sum())
        return ~in_baseline

    result.all_findings.keep(new_findings)
    stale = [known[fp] for fp in sorted(known, key=lambda k: (known[k]["rule_id"], known[k]["episode_id"], k))
             if fp not in seen]
    result.baseline = {
        "file": Path(path).name,
        "entries": len(known),
        "matched": counted["matched"],
        "new": counted["new"],
        "stale": len(stale),
        "stale_entries": [{k: e.get(k, "") for k in ENTRY_KEYS} for e in stale],
    }
