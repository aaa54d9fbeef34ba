"""Evaluate rules on a chunk of episodes, column-wise.

``evaluate(episodes, compiled)`` is a pure function from a pandas DataFrame of
episodes (the canonical frame described in ``audit.episodes``) to a findings
DataFrame. Every pattern of every rule is a bit; each distinct code value gets
the bits of the patterns it matches, and each episode the OR of its cells'
bits, so one integer take per column answers every "has code" test. OPCS-4
blocks are worked out only for the episodes a block condition could hold for.
There is no Python loop over episodes.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit.codes import ASTERISK, DAGGER, Kind, Status
from audit.episodes import END_DATE, ID, Blocks, CodeMatrix, code_columns
from audit.patterns import Pattern
from audit.rules import conditions as c
from audit.rules.model import Rule, RuleSet

FINDING_COLUMNS = ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found", "codes"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class CompiledRules:
    """Rules with every distinct pattern numbered as a bit, per classification."""

    rules: RuleSet
    bits: dict[tuple[Kind, str], int] = field(default_factory=dict)
    patterns: dict[Kind, list[Pattern]] = field(default_factory=lambda: {Kind.DIAGNOSIS: [], Kind.PROCEDURE: []})

    def bit(self, pattern: Pattern) -> int:
        return self.bits[(pattern.kind, pattern.text)]

    def words(self, kind: Kind) -> int:
        return max(1, -(-len(self.patterns[kind]) // 64))


def compile_rules(rules: RuleSet) -> CompiledRules:
    """Number every distinct pattern the rules use; done once per run, not per chunk."""
    compiled = CompiledRules(rules)
    for rule in rules:
        for p in _rule_patterns(rule):
            key = (p.kind, p.text)
            if key not in compiled.bits:
                compiled.bits[key] = len(compiled.patterns[p.kind])
                compiled.patterns[p.kind].append(p)
    return compiled


def _rule_conditions(rule: Rule) -> list[c.Condition]:
    return [x for x in (rule.when, rule.require, *(v.when for v in rule.variants)) if x is not None]


def _rule_patterns(rule: Rule) -> list[Pattern]:
    return [p for cond in _rule_conditions(rule) for p in c.patterns_of(cond)]


class _Chunk:
    """One chunk's codes and the per-episode pattern bits, with conditions evaluated on demand."""

    def __init__(self, episodes: pd.DataFrame, compiled: CompiledRules):
        self.compiled = compiled
        self.n = len(episodes)
        self.codes = {kind: CodeMatrix.from_columns([episodes[col] for col in code_columns(episodes, kind)], kind)
                      for kind in Kind}
        self.value_bits = {kind: self._value_bits(kind) for kind in Kind}
        self._episode_bits: dict[tuple[Kind, str], np.ndarray] = {}
        self._malformed: dict[Kind, np.ndarray] = {}

    def _value_bits(self, kind: Kind) -> np.ndarray:
        """uint64 (n_values, words): which patterns each distinct value matches."""
        values = self.codes[kind].values
        out = np.zeros((len(values.code), self.compiled.words(kind)), dtype=np.uint64)
        for i, p in enumerate(self.compiled.patterns[kind]):
            hit = p.match(values.code) & values.valid
            out[hit, i // 64] |= np.uint64(1) << np.uint64(i % 64)
        return out

    def cell_bits(self, kind: Kind, rows: np.ndarray | None = None) -> np.ndarray:
        """uint64 (n, k, words): each cell's pattern bits."""
        m = self.codes[kind] if rows is None else self.codes[kind].rows(rows)
        zero = np.zeros((1, self.value_bits[kind].shape[1]), dtype=np.uint64)
        # Index EMPTY (-1) selects the zero row appended last.
        return np.concatenate([self.value_bits[kind], zero])[m.index]

    def episode_bits(self, kind: Kind, position: str) -> np.ndarray:
        """uint64 (n, words): OR of the pattern bits of the cells at ``position``."""
        key = (kind, position)
        if key not in self._episode_bits:
            table = np.concatenate([self.value_bits[kind], np.zeros((1, self.value_bits[kind].shape[1]),
                                                                    dtype=np.uint64)])
            index = self.codes[kind].index
            cols = {"any": range(index.shape[1]), "primary": range(min(1, index.shape[1])),
                    "secondary": range(1, index.shape[1])}[position]
            acc = np.zeros((self.n, table.shape[1]), dtype=np.uint64)
            for j in cols:  # a loop over code positions, each a take over all episodes
                acc |= table[index[:, j]]
            self._episode_bits[key] = acc
        return self._episode_bits[key]

    def has(self, pattern: Pattern, position: str = "any") -> np.ndarray:
        bit = self.compiled.bit(pattern)
        word = self.episode_bits(pattern.kind, position)[:, bit // 64]
        return (word >> np.uint64(bit % 64)) & np.uint64(1) == 1

    def cell_hit(self, pattern: Pattern, rows: np.ndarray) -> np.ndarray:
        """bool (len(rows), k): which cells of these episodes match ``pattern``."""
        bit = self.compiled.bit(pattern)
        words = self.cell_bits(pattern.kind, rows)[:, :, bit // 64]
        return (words >> np.uint64(bit % 64)) & np.uint64(1) == 1

    def malformed(self, kind: Kind) -> np.ndarray:
        if kind not in self._malformed:
            m = self.codes[kind]
            self._malformed[kind] = m.take(m.values.invalid, False).any(axis=1) if m.index.size else \
                np.zeros(self.n, dtype=bool)
        return self._malformed[kind]

    def evaluate(self, cond: c.Condition) -> np.ndarray:
        """bool (n,): does each episode satisfy the condition?"""
        if isinstance(cond, c.HasCode):
            return self.has(cond.pattern, cond.position)
        if isinstance(cond, c.AllOf):
            out = np.ones(self.n, dtype=bool)
            for item in cond.items:
                out &= self.evaluate(item)
            return out
        if isinstance(cond, c.AnyOf):
            out = np.zeros(self.n, dtype=bool)
            for item in cond.items:
                out |= self.evaluate(item)
            return out
        if isinstance(cond, c.Not):
            return ~self.evaluate(cond.item)
        if isinstance(cond, c.Malformed):
            return self.malformed(cond.kind)
        if isinstance(cond, c.InBlock):
            return self.block(cond)
        raise TypeError(f"unknown condition {cond!r}")  # internal: the loader only builds the above

    def block(self, cond: c.InBlock) -> np.ndarray:
        # Only episodes that have the main code (or the first qualifier) can have a selected block.
        trigger = cond.main if cond.main is not None else cond.contains[0]
        rows = np.flatnonzero(self.has(trigger))
        out = np.full(self.n, cond.every, dtype=bool)  # no selected block: 'every' holds, 'some' does not
        if rows.size == 0:
            return out
        blocks = Blocks.of(self.codes[Kind.PROCEDURE].rows(rows))
        selected = blocks.is_main.copy()
        if cond.main is not None:
            selected &= self.cell_hit(cond.main, rows)
        for p in cond.contains:
            selected &= blocks.contains(self.cell_hit(p, rows))
        if not cond.every:
            out[rows] = selected.any(axis=1)
            return out
        ok = np.ones_like(selected)
        for p in cond.must_contain:
            ok &= blocks.contains(self.cell_hit(p, rows))
        out[rows] = (~selected | ok).all(axis=1)
        return out

    # -- what a finding points at ------------------------------------------
    def found(self, rule: Rule, rows: np.ndarray) -> pd.Series:
        """The codes of each flagged episode the rule is about, in order: diagnoses, then procedures."""
        parts = []
        conds = _rule_conditions(rule)
        for kind in Kind:
            mask = np.zeros(self.compiled.words(kind), dtype=np.uint64)
            for p in _rule_patterns(rule):
                if p.kind is kind:
                    bit = self.compiled.bit(p)
                    mask[bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
            m = self.codes[kind].rows(rows)
            involved = (self.cell_bits(kind, rows) & mask).any(axis=2)
            if any(isinstance(x, c.Malformed) and x.kind is kind for cond in conds for x in c.walk(cond)):
                involved |= m.take(m.values.invalid, False)
            display = m.take(_display(m), "")
            for j in range(display.shape[1]):  # loop over positions, vectorised over findings
                parts.append(np.where(involved[:, j], display[:, j], ""))
        return _join_nonempty(parts, len(rows))

    def episode_codes(self, rows: np.ndarray) -> pd.Series:
        """All codes of each of these episodes in order, as displayed: "diagnoses | procedures"."""
        groups = []
        for kind in Kind:
            m = self.codes[kind].rows(rows)
            display = m.take(_display(m), "")
            groups.append(_join_nonempty([display[:, j] for j in range(display.shape[1])], len(rows)))
        return (groups[0] + " | " + groups[1]).str.strip()


def _display(m: CodeMatrix) -> np.ndarray:
    """How each distinct value is shown in a finding: the dotted code with its marker, or the raw value quoted."""
    v = m.values
    marker = np.where(v.marker == DAGGER, "\u2020", np.where(v.marker == ASTERISK, "*", ""))
    quoted = np.array(['"' + str(r).strip() + '"' for r in v.raw], dtype=object)
    return np.where(v.status == Status.INVALID, quoted, v.code + marker).astype(object)


def _join_nonempty(parts: list[np.ndarray], n: int) -> pd.Series:
    acc = pd.Series([""] * n, dtype=object)
    for piece in parts:
        piece = pd.Series(piece, dtype=object)
        sep = np.where((acc != "") & (piece != ""), " ", "")
        acc = acc + sep + piece
    return acc


def _render(template: str, found: pd.Series, expected: pd.Series) -> pd.Series:
    """Fill ``{found}`` / ``{expected}`` for many findings at once."""
    out = pd.Series([""] * len(found), dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name == "found":
            out = out + found.where(found != "", "none").to_numpy()
        elif name == "expected":
            out = out + expected.to_numpy()
    return out


def _applies(episodes: pd.DataFrame, rule: Rule) -> np.ndarray | None:
    """Effective dates by episode end date; episodes without one are audited against every rule."""
    if (rule.effective_from is None and rule.effective_to is None) or END_DATE not in episodes:
        return None
    end = pd.to_datetime(episodes[END_DATE], errors="coerce")
    ok = end.isna().to_numpy().copy()
    inside = np.ones(len(end), dtype=bool)
    if rule.effective_from is not None:
        inside &= (end >= pd.Timestamp(rule.effective_from)).to_numpy()
    if rule.effective_to is not None:
        inside &= (end <= pd.Timestamp(rule.effective_to)).to_numpy()
    return ok | inside


def evaluate(episodes: pd.DataFrame, compiled: CompiledRules) -> pd.DataFrame:
    """Findings for one chunk of episodes, sorted by input order then rule id."""
    chunk = _Chunk(episodes, compiled)
    ids = episodes[ID].astype(str).to_numpy()
    frames = []
    for rule in compiled.rules:  # rules are few; each is evaluated over all episodes at once
        fail = ~chunk.evaluate(rule.require)
        if rule.when is not None:
            fail &= chunk.evaluate(rule.when)
        applies = _applies(episodes, rule)
        if applies is not None:
            fail &= applies
        rows = np.flatnonzero(fail)
        if rows.size == 0:
            continue
        severity = np.full(rows.size, rule.severity, dtype=object)
        message = np.full(rows.size, rule.message, dtype=object)
        expected = np.full(rows.size, rule.expected, dtype=object)
        assigned = np.zeros(rows.size, dtype=bool)
        for v in rule.variants:  # first matching variant wins
            hit = chunk.evaluate(v.when)[rows] & ~assigned
            severity[hit], message[hit], expected[hit] = v.severity, v.message, v.expected
            assigned |= hit
        found = chunk.found(rule, rows)
        rendered = pd.Series([""] * rows.size, dtype=object)
        for template in np.unique(message):
            sel = message == template
            rendered[sel] = _render(template, found[sel].reset_index(drop=True),
                                    pd.Series(expected[sel])).to_numpy()
        frames.append(pd.DataFrame({
            "_row": rows, "episode_id": ids[rows], "rule_id": rule.id, "severity": severity,
            "message": rendered.to_numpy(), "guidance": rule.source.guidance, "expected": expected,
            "found": found.to_numpy(),
        }))
    attributes = attribute_columns(episodes)
    if not frames:
        return empty_findings(attributes)
    findings = pd.concat(frames, ignore_index=True)
    flagged = np.unique(findings["_row"].to_numpy())  # every code of the flagged episodes only
    findings["codes"] = chunk.episode_codes(flagged).to_numpy()[np.searchsorted(flagged, findings["_row"].to_numpy())]
    for col in attributes:  # provider, dates, specialty...: so reports can group by them
        findings[col] = episodes[col].to_numpy()[findings["_row"].to_numpy()]
    findings = findings.sort_values(["_row", "rule_id"], kind="stable").drop(columns="_row")
    return findings.reset_index(drop=True)


def attribute_columns(episodes: pd.DataFrame) -> list[str]:
    """The canonical frame's columns other than the id and the codes (provider, end_date, ...)."""
    codes = {col for kind in Kind for col in code_columns(episodes, kind)}
    return [col for col in episodes.columns if col != ID and col not in codes]


def empty_findings(attributes: list[str] = ()) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in [*FINDING_COLUMNS, *attributes]})
