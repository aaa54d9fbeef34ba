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

from audit.codes import Kind
from audit.episodes import END_DATE, ID, Blocks, CodeMatrix, Vocabulary, code_columns
from audit.patterns import Pattern
from audit.rules import conditions as c
from audit.rules.model import Rule, RuleSet

FINDING_COLUMNS = ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class _ValueBits:
    """uint64 pattern bits of every value in a run's vocabulary, extended as the vocabulary grows.

    The last bit of each classification is reserved for "not a well-formed code",
    so the ``malformed`` condition is just another bit.
    """

    def __init__(self, vocabulary: Vocabulary, patterns: list[Pattern]):
        self.vocabulary = vocabulary
        self.patterns = patterns
        self.malformed_bit = len(patterns)
        self.words = len(patterns) // 64 + 1
        self._table = np.zeros((0, self.words), dtype=np.uint64)

    def table(self) -> np.ndarray:
        """(len(vocabulary) + 1, words): the last row, all zero, is what an EMPTY cell (-1) selects."""
        done, size = len(self._table) - 1 if len(self._table) else 0, len(self.vocabulary)
        if len(self._table) == 0 or done < size:
            values = self.vocabulary.values
            new = np.zeros((size - done, self.words), dtype=np.uint64)
            codes, valid = values.code[done:size], values.valid[done:size]
            for i, p in enumerate(self.patterns):  # match each pattern against the new values only
                new[p.match(codes) & valid, i // 64] |= _bit(i)
            new[values.invalid[done:size], self.malformed_bit // 64] |= _bit(self.malformed_bit)
            body = self._table[:-1] if len(self._table) else self._table
            self._table = np.concatenate([body, new, np.zeros((1, self.words), dtype=np.uint64)])
        return self._table


def _bit(i: int) -> np.uint64:
    return np.uint64(1) << np.uint64(i % 64)


@dataclass
class CompiledRules:
    """Rules with every distinct pattern numbered as a bit, per classification, and the run's vocabulary.

    The vocabulary and its bits are a memo: evaluating a chunk gives the same findings
    whatever chunks came before it.
    """

    rules: RuleSet
    bits: dict[tuple[Kind, str], int] = field(default_factory=dict)
    patterns: dict[Kind, list[Pattern]] = field(default_factory=lambda: {Kind.DIAGNOSIS: [], Kind.PROCEDURE: []})
    value_bits: dict[Kind, _ValueBits] = field(default_factory=dict)

    def bit(self, pattern: Pattern) -> int:
        return self.bits[(pattern.kind, pattern.text)]

    def words(self, kind: Kind) -> int:
        return self.value_bits[kind].words

    def rule_mask(self, rule: Rule, kind: Kind) -> np.ndarray:
        """uint64 (words,): the bits of the patterns (and malformed values) a rule's findings point at."""
        mask = np.zeros(self.words(kind), dtype=np.uint64)
        for p in _rule_patterns(rule):
            if p.kind is kind:
                mask[self.bit(p) // 64] |= _bit(self.bit(p))
        if any(isinstance(x, c.Malformed) and x.kind is kind for cond in _rule_conditions(rule) for x in c.walk(cond)):
            mask[self.value_bits[kind].malformed_bit // 64] |= _bit(self.value_bits[kind].malformed_bit)
        return mask


def compile_rules(rules: RuleSet) -> CompiledRules:
    """Number every distinct pattern the rules use; done once per run, not per chunk."""
    compiled = CompiledRules(rules)
    for rule in rules:
        for p in _rule_patterns(rule):
            key = (p.kind, p.text)
            if key not in compiled.bits:
                compiled.bits[key] = len(compiled.patterns[p.kind])
                compiled.patterns[p.kind].append(p)
    for kind in Kind:
        compiled.value_bits[kind] = _ValueBits(Vocabulary(kind), compiled.patterns[kind])
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
        self.codes = {kind: CodeMatrix.from_columns([episodes[col] for col in code_columns(episodes, kind)], kind,
                                                    compiled.value_bits[kind].vocabulary)
                      for kind in Kind}
        self.tables = {kind: compiled.value_bits[kind].table() for kind in Kind}
        self._episode_bits: dict[tuple[Kind, str], np.ndarray] = {}

    def cell_bits(self, kind: Kind, rows: np.ndarray) -> np.ndarray:
        """uint64 (len(rows), k, words): the pattern bits of each cell of these episodes."""
        return self.tables[kind][self.codes[kind].index[rows]]

    def episode_bits(self, kind: Kind, position: str) -> np.ndarray:
        """uint64 (n, words): OR of the pattern bits of the cells at ``position``."""
        key = (kind, position)
        if key not in self._episode_bits:
            table, index = self.tables[kind], self.codes[kind].index
            # Most cells match no pattern: a one-byte take finds the few that do, and only those are OR-ed.
            interesting = table.any(axis=1)
            cols = {"any": range(index.shape[1]), "primary": range(min(1, index.shape[1])),
                    "secondary": range(1, index.shape[1])}[position]
            acc = np.zeros((self.n, table.shape[1]), dtype=np.uint64)
            for j in cols:  # a loop over code positions, each vectorised over all episodes
                rows = np.flatnonzero(interesting[index[:, j]])
                if rows.size:
                    acc[rows] |= table[index[rows, j]]
            self._episode_bits[key] = acc
        return self._episode_bits[key]

    def _has_bit(self, kind: Kind, bit: int, position: str = "any") -> np.ndarray:
        word = self.episode_bits(kind, position)[:, bit // 64]
        return (word & _bit(bit)) != 0

    def has(self, pattern: Pattern, position: str = "any") -> np.ndarray:
        return self._has_bit(pattern.kind, self.compiled.bit(pattern), position)

    def cell_hit(self, pattern: Pattern, rows: np.ndarray) -> np.ndarray:
        """bool (len(rows), k): which cells of these episodes match ``pattern``."""
        bit = self.compiled.bit(pattern)
        return (self.cell_bits(pattern.kind, rows)[:, :, bit // 64] & _bit(bit)) != 0

    def malformed(self, kind: Kind) -> np.ndarray:
        return self._has_bit(kind, self.compiled.value_bits[kind].malformed_bit)

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

    def found(self, rule: Rule, rows: np.ndarray) -> pd.Series:
        """The codes of each flagged episode the rule is about, in order: diagnoses, then procedures."""
        pieces, owners, order = [], [], []
        for kind_order, kind in enumerate(Kind):
            involved = (self.cell_bits(kind, rows) & self.compiled.rule_mask(rule, kind)).any(axis=2)
            r, col = np.nonzero(involved)
            pieces.append(self.codes[kind].values.display[self.codes[kind].index[rows[r], col]])
            owners.append(r)
            order.append(kind_order * 1000 + col)
        owner, position = np.concatenate(owners), np.concatenate(order)
        sort = np.lexsort((position, owner))
        shown = pd.Series(np.concatenate(pieces)[sort], dtype=object)
        joined = shown.groupby(owner[sort], sort=True).agg(" ".join)
        return pd.Series(joined.reindex(range(len(rows)), fill_value="").to_numpy(), dtype=object)


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
            "_row": rows, "episode_id": episodes[ID].iloc[rows].astype(str).to_numpy(), "rule_id": rule.id, "severity": severity,
            "message": rendered.to_numpy(), "guidance": rule.source.guidance, "expected": expected,
            "found": found.to_numpy(),
        }))
    attributes = attribute_columns(episodes)
    if not frames:
        return empty_findings(attributes)
    findings = pd.concat(frames, ignore_index=True)
    for col in attributes:  # provider, dates, specialty...: so reports can group by them
        findings[col] = episodes[col].iloc[findings["_row"].to_numpy()].to_numpy()
    findings = findings.sort_values(["_row", "rule_id"], kind="stable").drop(columns="_row")
    return findings.reset_index(drop=True)


def attribute_columns(episodes: pd.DataFrame) -> list[str]:
    """The canonical frame's columns other than the id and the codes (provider, end_date, ...)."""
    codes = {col for kind in Kind for col in code_columns(episodes, kind)}
    return [col for col in episodes.columns if col != ID and col not in codes]


def empty_findings(attributes: list[str] = ()) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in [*FINDING_COLUMNS, *attributes]})
