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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.errors import UserError
from audit.jsonfiles import json_text, read_json
from audit.pipeline import RunResult
from audit.report import jsonstream
from audit.report.output import write_bytes, write_text

VERSION = 1
TOOL = "coding-audit"
ENTRY_KEYS = ("fingerprint", "rule_id", "episode_id", "severity", "found", "reason")
_TOKEN = re.compile(r'"[^"]*"|\S+')  # a code, or a quoted malformed value that may hold spaces


def code_tokens(text: str) -> list[str]:
    """The codes of a ``found`` / ``codes`` text, in order (quoted malformed values kept whole)."""
    text = str(text)
    # Without a quote the tokens are the whitespace-separated words (``\S+`` and ``str.split`` agree
    # on every character), which ``split`` finds several times faster.
    return _TOKEN.findall(text) if '"' in text else text.split()


def fingerprint(rule_id: str, episode_id: str, found: str) -> str:
    """Stable id of a finding: SHA-256 over rule id, episode id and the sorted codes involved."""
    key = "\x1f".join([str(rule_id), str(episode_id), " ".join(sorted(code_tokens(found)))])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def fingerprints(findings: pd.DataFrame) -> pd.Series:
    """The fingerprint of every finding of a findings frame (or of JSON findings rows)."""
    if not len(findings):
        return pd.Series([], dtype=object, index=findings.index)
    texts = (_texts(findings[c]) for c in ("rule_id", "episode_id", "found"))
    return pd.Series(_fingerprints(*texts), index=findings.index, dtype=object)


def _fingerprints(rule: np.ndarray, episode: np.ndarray, found: np.ndarray) -> list[str]:
    """``fingerprint`` of each finding (its columns as ``_texts``), each distinct found text's codes sorted once."""
    codes = {text: " ".join(sorted(code_tokens(text))) for text in pd.unique(found)}
    return [hashlib.sha256(f"{r}\x1f{e}\x1f{codes[f]}".encode()).hexdigest()[:32]
            for r, e, f in zip(rule, episode, found)]


def _texts(column: pd.Series) -> np.ndarray:
    """A column's values as Python text, missing ones "" (text columns without a copy through objects)."""
    if pd.api.types.is_string_dtype(column) and column.dtype != object:
        return column.fillna("").to_numpy(dtype=object)
    return column.astype(object).fillna("").astype(str).to_numpy(dtype=object)


@dataclass
class Entries:
    """A baseline's entries: ``table`` (``ENTRY_KEYS``, a row a finding, in the findings' order) and
    ``order``, the rows written: one a fingerprint, sorted by rule, episode and fingerprint."""

    table: pa.Table
    order: pa.Array

    def __len__(self) -> int:
        return len(self.order)

    def rows(self, start: int = 0, stop: int | None = None) -> pa.Table:
        """Entries ``start``..``stop`` in their order (taken a slice at a time: no sorted copy of all)."""
        return self.table.take(self.order[start:stop])

    def reasons_kept(self) -> int:
        """Entries written with a reason (kept from the previous baseline)."""
        if not len(self):
            return 0
        return len(self) - pc.sum(pc.equal(self.table["reason"].take(self.order), "")).as_py()


def entries(result: RunResult, previous: dict | None = None) -> Entries:
    """The baseline entries of every finding of ``result``; reasons of entries already in ``previous``
    are kept. Built in Arrow a chunk of findings at a time (ten million entries: about 1 GB), left in
    those pieces (combined, they would be copied once more)."""
    parts = []
    for frame in result.all_findings.batches():
        texts = {key: _texts(frame[key]) for key in ENTRY_KEYS[1:5]}  # rule_id, episode_id, severity, found
        prints = _fingerprints(texts["rule_id"], texts["episode_id"], texts["found"])
        parts.append(pa.table({"fingerprint": pa.array(prints, pa.string()),
                               **{key: pa.array(values, pa.string()) for key, values in texts.items()}}))
    table = pa.concat_tables(parts) if parts else \
        pa.table({k: pa.array([], pa.string()) for k in ENTRY_KEYS[:5]})
    reasons = {e["fingerprint"]: e.get("reason", "") for e in (previous or {}).get("entries", [])}
    known = pa.array(list(reasons), pa.string())
    said = pa.array(["" if r is None else str(r) for r in reasons.values()], pa.string())  # a hand-edited null
    table = table.append_column(
        "reason", pc.fill_null(pc.take(said, pc.index_in(table["fingerprint"], value_set=known)), ""))
    # Sorted by rule, episode and fingerprint (Arrow orders UTF-8 by bytes, as Python orders text by
    # code points); the sort is stable, so of findings with one fingerprint the last found is kept.
    order = pc.sort_indices(table, [(k, "ascending") for k in ("rule_id", "episode_id", "fingerprint")])
    if len(order) > 1:
        prints = table["fingerprint"].take(order).combine_chunks()
        last = pc.not_equal(prints.slice(0, len(prints) - 1), prints.slice(1))
        order = order.filter(pa.concat_arrays([last, pa.array([True])]))
    return Entries(table, order)


def _document(result: RunResult, listed: object) -> dict:
    return {"tool": TOOL, "version": VERSION, "source": result.source, "redacted": result.redacted,
            "entries": listed}


def create(result: RunResult, previous: dict | None = None) -> dict:
    """A baseline document of every finding of ``result`` (``entries`` as dictionaries, for small runs)."""
    return _document(result, entries(result, previous).rows().select(list(ENTRY_KEYS)).to_pylist())


def write(document: dict, path: Path) -> None:
    write_text(json_text(document), Path(path))


def save(result: RunResult, previous: dict | None, path: Path) -> Entries:
    """Write the baseline of ``result`` to ``path``, its entries taken and rendered a slice at a time (the
    same bytes as ``write(create(result, previous), path)``); the entries written."""
    found = entries(result, previous)
    shape = {k: jsonstream.slot(i) for i, k in enumerate(ENTRY_KEYS)}
    slices = (found.rows(start, start + _SLICE) for start in range(0, len(found), _SLICE))

    def values(rows: pa.Table) -> list[pa.Array]:
        return [jsonstream.json_strings(rows[k].combine_chunks()) for k in ENTRY_KEYS]

    write_bytes(jsonstream.streamed(_document(result, jsonstream.ITEMS), shape, slices, values), Path(path))
    return found


_SLICE = 65_536  # entries taken in order at a time


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
    seen: set[str] = set()
    matched = new = 0

    def new_findings(frame: pd.DataFrame) -> np.ndarray:  # each chunk's findings once, in order
        nonlocal matched, new
        fps = fingerprints(frame)
        in_baseline = np.fromiter((fp in known for fp in fps), dtype=bool, count=len(fps))  # one hash table
        seen.update(fps[in_baseline])
        matched += int(in_baseline.sum())
        new += int((~in_baseline).sum())
        return ~in_baseline

    result.all_findings.keep(new_findings)
    stale = [known[fp] for fp in sorted(known, key=lambda k: (known[k]["rule_id"], known[k]["episode_id"], k))
             if fp not in seen]
    result.baseline = {
        "file": Path(path).name,
        "entries": len(known),
        "matched": matched,
        "new": new,
        "stale": len(stale),
        "stale_entries": [{k: e.get(k, "") for k in ENTRY_KEYS} for e in stale],
    }
