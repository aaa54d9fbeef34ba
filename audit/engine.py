"""Evaluate rules on a chunk of episodes, column-wise.

``evaluate(episodes, compiled)`` is a pure function from a pandas DataFrame of
episodes (the canonical frame described in ``audit.episodes``) to a findings
DataFrame. Every pattern of every rule is a bit; each distinct code value of
the run gets the bits of the patterns it matches (once per run), and each
episode the OR of its cells' bits, so a take per column answers every "has
code" test. OPCS-4
blocks are worked out only for the episodes a block condition could hold for;
likewise the cell-level tests of a code (position, characters, the codes next
to it: ``audit.sequence``) only for the episodes that have such a code. Checks
against the reference tables are lookups on the chunk's distinct codes
(``audit.reference.CodeTable.facts``) mapped back with integer takes.
There is no Python loop over episodes.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.blocks_explained import explain_blocks
from audit.codes import Kind, Status
from audit.episodes import EMPTY, END_DATE, ID, Blocks, CodeMatrix, Vocabulary, code_columns
from audit.extract.columns import CONDITION_ROLES
from audit.kernels import bit_set, compiled_loaded, or_cell_bits
from audit.patterns import Pattern, match_all
from audit.reference import FEMALE, MALE, CodeFacts, ReferenceTables, episode_age, episode_sex
from audit.rules import conditions as c
from audit.rules.model import Rule, RuleSet
from audit.rules.precedence import apply as apply_precedence
from audit.rules.tables import explain as explain_table_rows
from audit.sequence import (
    ANCHOR,
    BLOCK_MAIN,
    BLOCK_PATTERN_BITS,
    BLOCK_QUALIFIER,
    BLOCK_SELECTS,
    MAIN,
    NONEMPTY,
    PASSES,
    TARGET,
    block_walk,
    code_test_walk,
    relation_columns,
)

FINDING_COLUMNS = ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found", "codes"]
TITLES = "found_titles"  # after "found" when reference tables are given: each found code with its title


class _PerValue:
    """Something worked out once for each distinct value of a run's vocabulary, extended as it grows.

    ``compute(values, start, stop)`` works it out for the vocabulary rows ``start:stop``; ``concat``
    joins the old and the new parts. Chunk 40 pays only for the values chunk 1 to 39 did not have.
    """

    def __init__(self, vocabulary: Vocabulary, compute, concat=np.concatenate):
        self.vocabulary, self.compute, self.concat = vocabulary, compute, concat
        self._done, self._value = 0, None

    def get(self):
        size = len(self.vocabulary)
        if self._value is None or self._done < size:
            new = self.compute(self.vocabulary.values, self._done, size)
            self._value = new if self._value is None else self.concat([self._value, new])
            self._done = size
        return self._value


def _pattern_bits(patterns: list[Pattern], malformed_bit: int, words: int):
    """``compute`` for ``_PerValue``: uint64 (values, words) of the patterns each value matches.

    The last bit is reserved for "not a well-formed code", so ``malformed`` is just another bit."""
    def compute(values, start: int, stop: int) -> np.ndarray:
        out = np.zeros((stop - start, words), dtype=np.uint64)
        codes, valid = values.code[start:stop], values.valid[start:stop]
        for i, hit in enumerate(match_all(patterns, codes)):  # each pattern against the new values only
            out[hit & valid, i // 64] |= _bit(i)
        out[values.invalid[start:stop], malformed_bit // 64] |= _bit(malformed_bit)
        return out
    return compute


def _concat_facts(parts: list[CodeFacts]) -> CodeFacts:
    return CodeFacts(*(np.concatenate([getattr(p, f) for p in parts]) for f in CodeFacts.__dataclass_fields__))


def _bit(i: int) -> np.uint64:
    return np.uint64(1) << np.uint64(i % 64)


@dataclass
class CompiledRules:
    """Rules with every distinct pattern numbered as a bit, per classification, and the run's vocabulary.

    The vocabulary and its bits are a memo: evaluating a chunk gives the same findings
    whatever chunks came before it.
    """

    rules: RuleSet
    reference: ReferenceTables | None = None  # the classification tables, when the user gave them
    bits: dict[tuple[Kind, str], int] = field(default_factory=dict)
    patterns: dict[Kind, list[Pattern]] = field(default_factory=lambda: {Kind.DIAGNOSIS: [], Kind.PROCEDURE: []})
    vocabulary: dict[Kind, Vocabulary] = field(default_factory=dict)
    value_bits: dict[Kind, _PerValue] = field(default_factory=dict)
    value_facts: dict[Kind, _PerValue] = field(default_factory=dict)
    targets: list[_RuleTargets] = field(default_factory=list)  # per rule, in order: what a finding shows
    _memos: dict = field(default_factory=dict)

    def bit(self, pattern: Pattern) -> int:
        return self.bits[(pattern.kind, pattern.text)]

    def malformed_bit(self, kind: Kind) -> int:
        return len(self.patterns[kind])

    def words(self, kind: Kind) -> int:
        return self.malformed_bit(kind) // 64 + 1

    def per_value(self, key, kind: Kind, compute) -> np.ndarray:
        """A per-value array of the run's vocabulary (e.g. a character test), worked out once per value."""
        if key not in self._memos:
            self._memos[key] = _PerValue(self.vocabulary[kind], compute)
        return self._memos[key].get()

    def rule_mask(self, rule: Rule, kind: Kind) -> np.ndarray:
        """uint64 (words,): the bits of the patterns (and malformed values) a rule's findings point at.

        Codes picked by dagger/asterisk usage are added cell by cell (``_Chunk.involved``)."""
        mask = np.zeros(self.words(kind), dtype=np.uint64)
        for s in _rule_selectors(rule):
            if s.kind is kind and not s.usage:
                mask[self.bit(s.pattern) // 64] |= _bit(self.bit(s.pattern))
        if any(isinstance(x, c.Malformed) and x.kind is kind for cond in rule.conditions for x in c.walk(cond)):
            mask[self.malformed_bit(kind) // 64] |= _bit(self.malformed_bit(kind))
        return mask

    def rule_targets(self, rule: Rule) -> _RuleTargets:
        """What a rule's findings point at (``_Chunk.involved``)."""
        return _RuleTargets(masks={kind: self.rule_mask(rule, kind) for kind in Kind},
                            usage=[s for s in _rule_selectors(rule) if s.usage],
                            checks=[x for cond in rule.conditions for x in c.walk(cond)
                                    if isinstance(x, c.ReferenceCheck)])


@dataclass(frozen=True)
class _RuleTargets:
    """Per rule: the pattern bits (``rule_mask``) per classification, the usage selectors and the reference
    checks whose codes a finding shows."""

    masks: dict[Kind, np.ndarray]
    usage: list[c.Selector]
    checks: list[c.ReferenceCheck]


def compile_rules(rules: RuleSet, reference: ReferenceTables | None = None) -> CompiledRules:
    """Number every distinct pattern the rules use; done once per run, not per chunk.

    Without ``reference`` tables a reference check (``invalid_code`` ...) never holds: callers skip
    the rules that need them and say so (``audit.rules.options.select_rules``)."""
    compiled = CompiledRules(rules, reference)
    for rule in rules:
        for p in _rule_patterns(rule):
            key = (p.kind, p.text)
            if key not in compiled.bits:
                compiled.bits[key] = len(compiled.patterns[p.kind])
                compiled.patterns[p.kind].append(p)
    compiled.targets = [compiled.rule_targets(rule) for rule in rules]  # once per run, not per chunk
    for kind in Kind:
        vocabulary = compiled.vocabulary[kind] = Vocabulary(kind)
        compiled.value_bits[kind] = _PerValue(vocabulary, _pattern_bits(
            compiled.patterns[kind], compiled.malformed_bit(kind), compiled.words(kind)))
        table = reference.get(kind) if reference is not None else None
        if table is not None:
            compiled.value_facts[kind] = _PerValue(
                vocabulary, lambda values, start, stop, table=table: table.facts(values.code[start:stop]),
                _concat_facts)
    return compiled


def _rule_patterns(rule: Rule) -> list[Pattern]:
    return [p for cond in rule.conditions for p in c.patterns_of(cond)]


def _rule_selectors(rule: Rule) -> list[c.Selector]:
    """The distinct code selectors of a rule's conditions, in order."""
    return list(dict.fromkeys(s for cond in rule.conditions for s in c.selectors_of(cond)))


def _position_columns(position: str, k: int) -> range:
    """The code columns (0-based, of ``k``) a position names; 0 is the primary diagnosis / main procedure."""
    return {"any": range(k), "primary": range(min(1, k)), "secondary": range(1, k),
            "first_secondary": range(min(1, k), min(2, k)), "primary_or_first_secondary": range(min(2, k))}[position]


class _Chunk:
    """One chunk's codes and the per-episode pattern bits, with conditions evaluated on demand."""

    def __init__(self, episodes: pd.DataFrame, compiled: CompiledRules):
        self.compiled = compiled
        self.episodes = episodes
        self.n = len(episodes)
        self.codes = {kind: CodeMatrix.from_columns([episodes[col] for col in code_columns(episodes, kind)], kind,
                                                    compiled.vocabulary[kind], n=self.n)
                      for kind in Kind}
        # A zero row appended last is what an EMPTY cell (index -1) selects.
        self.tables = {kind: np.concatenate([compiled.value_bits[kind].get(),
                                             np.zeros((1, compiled.words(kind)), dtype=np.uint64)])
                       for kind in Kind}
        self._episode_bits: dict[tuple[Kind, str], list[np.ndarray]] = {}
        self._hits: dict[tuple[Kind, int, str], np.ndarray] = {}
        self._facts: dict[Kind, CodeFacts | None] = {}
        self._attributes: dict[str, np.ndarray] = {}
        self.memo: dict = {}  # what a condition kind of its own module works out once a chunk

    def cell_bits(self, m: CodeMatrix) -> np.ndarray:
        """uint64 (episodes, k, words): the pattern bits of each cell of a subset of episodes' codes."""
        return self.tables[m.kind][m.index]

    def episode_bits(self, kind: Kind, position: str) -> list[np.ndarray]:
        """Per word, uint64 (n,): OR of the pattern bits of the cells at ``position``."""
        key = (kind, position)
        if key not in self._episode_bits:
            table, columns = self.tables[kind], self.codes[kind].columns
            words = np.zeros((table.shape[1], self.n), dtype=np.uint64)
            for j in _position_columns(position, len(columns)):  # a loop over code positions
                dictionary_bits = table[columns[j].remap]
                if dictionary_bits.any():  # a column with no value any pattern matches is skipped
                    or_cell_bits(words, dictionary_bits, columns[j].codes)
            self._episode_bits[key] = list(words)
        return self._episode_bits[key]

    def _has_bit(self, kind: Kind, bit: int, position: str = "any") -> np.ndarray:
        key = (kind, bit, position)
        if key not in self._hits:
            self._hits[key] = bit_set(self.episode_bits(kind, position)[bit // 64], bit % 64)
        return self._hits[key]

    def has(self, pattern: Pattern, position: str = "any") -> np.ndarray:
        return self._has_bit(pattern.kind, self.compiled.bit(pattern), position)

    def pattern_values(self, pattern: Pattern) -> np.ndarray:
        """bool (n_values,): which distinct values of the run match ``pattern``."""
        bit = self.compiled.bit(pattern)
        return (self.tables[pattern.kind][:-1, bit // 64] & _bit(bit)) != 0  # the last row is EMPTY's

    def cell_hit(self, pattern: Pattern, m: CodeMatrix) -> np.ndarray:
        """bool (episodes, k): which cells of a subset of episodes' codes match ``pattern``."""
        return m.take(self.pattern_values(pattern), False)

    def malformed(self, kind: Kind) -> np.ndarray:
        return self._has_bit(kind, self.compiled.malformed_bit(kind))

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
        if isinstance(cond, c.CodeTest):
            return self.code_test(cond)
        if isinstance(cond, c.NotCodedTogether):
            present = sum(self.has(g).astype(np.int8) for g in cond.groups)
            return present <= 1
        if isinstance(cond, c.ReferenceCheck):
            return self.reference_check(cond)
        if hasattr(cond, "holds_on"):  # a condition kind of its own module (audit.rules.tables ...)
            return cond.holds_on(self)
        raise TypeError(f"unknown condition {cond!r}")  # internal: the loader only builds the above

    def _walked(self, m: CodeMatrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The chunk's codes by position for a compiled walk over ``rows``, or None: numpy then does it
        position by position. Worth it for many episodes, or once the matrix is built anyway."""
        if not compiled_loaded(rows.size * len(m.columns)):
            return None
        if not m.has_by_position and rows.size * 8 < self.n:
            return None
        return m.by_position()

    def block(self, cond: c.InBlock) -> np.ndarray:
        # Only episodes that have the main code (or the first qualifier) can have a selected block.
        trigger = cond.main if cond.main is not None else cond.contains[0]
        rows = np.flatnonzero(self.has(trigger))
        out = np.full(self.n, cond.every, dtype=bool)  # no selected block: 'every' holds, 'some' does not
        if rows.size == 0:
            return out
        procedures = self.codes[Kind.PROCEDURE]
        if (walked := self._walked(procedures, rows)) is not None:
            flags = self._block_flags(cond, procedures.values)
            out[rows] = block_walk(*walked, rows, flags, *self._block_masks(cond), cond.every)
            return out
        m = procedures.rows(rows)  # the cells of these episodes, built once
        blocks = Blocks.of(m)
        selected = blocks.is_main.copy()
        if cond.main is not None:
            selected &= self.cell_hit(cond.main, m)
        for p in cond.contains:
            selected &= blocks.contains(self.cell_hit(p, m))
        if not cond.every:
            out[rows] = selected.any(axis=1)
            return out
        ok = np.ones_like(selected)
        for p in cond.must_contain:
            ok &= blocks.contains(self.cell_hit(p, m))
        out[rows] = (~selected | ok).all(axis=1)
        return out

    def _block_flags(self, cond: c.InBlock, values) -> np.ndarray:
        """uint64 per distinct value: what a block walk needs to know of it (``sequence.block_walk``)."""
        selects = values.main & (self.pattern_values(cond.main) if cond.main is not None else True)
        flags = np.zeros(len(values.main), dtype=np.uint64)
        for bit, per_value in [(BLOCK_MAIN, values.main), (BLOCK_QUALIFIER, values.qualifier),
                               (BLOCK_SELECTS, selects)]:
            flags[per_value] |= bit
        for bit, p in enumerate((*cond.contains, *cond.must_contain), start=BLOCK_PATTERN_BITS):
            flags[self.pattern_values(p)] |= np.uint64(1) << np.uint64(bit)
        return flags

    @staticmethod
    def _block_masks(cond: c.InBlock) -> tuple[int, int]:
        """The pattern bits a selected block needs (contains), and those it must hold (must_contain)."""
        first_must = BLOCK_PATTERN_BITS + len(cond.contains)
        contains = sum(1 << b for b in range(BLOCK_PATTERN_BITS, first_must))
        must = sum(1 << b for b in range(first_must, first_must + len(cond.must_contain)))
        if first_must + len(cond.must_contain) > 64:  # internal: the loader's block tests are small
            raise ValueError("a block test with more than 61 patterns")
        return contains, must

    # -- codes tested one by one (positions, characters, sequences, companions) --
    def value_hit(self, selector: c.Selector) -> np.ndarray:
        """bool (n_values,): which distinct values of the chunk the selector takes."""
        kind = selector.kind
        hit = self.pattern_values(selector.pattern)
        if selector.usage:
            lookup = self.compiled.value_facts.get(kind)

            def compute(values, start: int, stop: int) -> np.ndarray:
                usage = values.marker[start:stop] == selector.usage  # the code's own dagger/asterisk ...
                if lookup is not None:  # ... or the classification's USAGE
                    usage |= lookup.get().usage[start:stop] == selector.usage
                return usage
            hit &= self.compiled.per_value(("usage", kind, selector.usage), kind, compute)
        return hit

    def code_test(self, cond: c.CodeTest) -> np.ndarray:
        out = np.full(self.n, cond.every, dtype=bool)  # no such code: 'every' holds, 'some' does not
        anchor = self.value_hit(cond.selector)
        if not anchor.any():
            return out
        wanted = self.has(cond.selector.pattern)
        rel = cond.relation
        if rel is not None and not cond.every:
            wanted = wanted & self.has(rel.target.pattern)  # 'some' code with a related target needs one
        rows = np.flatnonzero(wanted)
        if rows.size == 0:
            return out
        m = self.codes[cond.kind]
        walked = self._walked(m, rows)
        if walked is None and rows.size > self.n // 2:
            rows = slice(None)  # most episodes: the whole chunk's columns, no gather
        elif walked is None:
            m = m.rows(rows)
        # Every test of a code is a flag of its distinct value; one take per position gives the cells.
        flags = np.zeros(len(anchor) + 1, dtype=np.uint8)  # the last entry is what an EMPTY cell selects
        flags[:-1] = np.where(anchor, ANCHOR, 0)
        passes = np.ones(len(anchor), dtype=bool)
        for test in cond.characters:
            passes &= self.compiled.per_value(("character", cond.kind, test), cond.kind,
                                              lambda values, start, stop, t=test: _character_ok(values.code[start:stop], t))
        flags[:-1] |= np.where(passes, PASSES, 0).astype(np.uint8)
        if rel is not None:
            flags[:-1] |= NONEMPTY | np.where(self.value_hit(rel.target), TARGET, 0).astype(np.uint8)
            if rel.within_block:
                flags[:-1] |= np.where(m.values.main, MAIN, 0).astype(np.uint8)
        allowed = _position_columns(cond.position, len(m.columns))
        if walked is not None:
            allowed_at = np.zeros(len(m.columns), dtype=bool)
            allowed_at[list(allowed)] = True
            decided, some_anchor = code_test_walk(*walked, rows, flags, allowed_at, rel.kind if rel else None,
                                                  rel is not None and rel.within_block, cond.every)
        else:
            decided, some_anchor = self._decided(m, flags, allowed, rel, cond.every)
        episode_ok = np.ones(len(decided), dtype=bool)
        if cond.coded_with is not None:
            episode_ok &= self.evaluate(cond.coded_with)[rows]
        if cond.not_coded_with is not None:
            episode_ok &= ~self.evaluate(cond.not_coded_with)[rows]
        if cond.unless is not None:
            episode_ok |= self.evaluate(cond.unless)[rows]
        out[rows] = ~decided & (episode_ok | ~some_anchor) if cond.every else decided & episode_ok
        return out

    @staticmethod
    def _decided(m: CodeMatrix, flags: np.ndarray, allowed: range, rel,
                 every: bool) -> tuple[np.ndarray, np.ndarray]:
        """(decided, some anchor) per episode of ``m``, position by position in numpy (``code_test_walk``
        does the same episode by episode)."""
        positions, cells = [], []
        for j, col in enumerate(m.columns):  # a loop over positions; a position with no code at all is skipped
            column_flags = flags[col.remap]
            if column_flags.any():
                positions.append(j)
                cells.append(column_flags[col.codes])
        related = relation_columns(cells, rel.kind, rel.within_block) if rel is not None else None
        some_anchor = np.zeros(m.n_episodes, dtype=bool)
        decided = np.zeros(m.n_episodes, dtype=bool)  # every: an anchor failed; some: an anchor passed
        for i, (j, cell) in enumerate(zip(positions, cells)):
            at = (cell & ANCHOR) != 0
            if j not in allowed:
                ok = np.zeros_like(at)
            else:
                ok = (cell & PASSES) != 0
                if related is not None:
                    ok &= related[i]
            some_anchor |= at
            decided |= at & (~ok if every else ok)
        return decided, some_anchor

    # -- the classification tables ---------------------------------------------
    def facts(self, kind: Kind) -> CodeFacts | None:
        """What the reference table says about each distinct value (None without the table)."""
        if kind not in self._facts:
            lookup = self.compiled.value_facts.get(kind)
            self._facts[kind] = lookup.get() if lookup is not None else None
        return self._facts[kind]

    def attribute(self, name: str) -> np.ndarray:
        """The episodes' sex (1 male, 2 female, 0 not known) or age in years (NaN: not known)."""
        if name not in self._attributes:
            present = name in self.episodes
            if name == "sex":
                value = episode_sex(self.episodes["sex"]) if present else np.zeros(self.n, np.int8)
            else:
                value = episode_age(self.episodes["age"]) if present else np.full(self.n, np.nan)
            self._attributes[name] = value
        return self._attributes[name]

    def reference_check(self, cond: c.ReferenceCheck) -> np.ndarray:
        """bool (n,): has the episode an offending code? Column tests; ages are compared cell by cell."""
        facts = self.facts(cond.kind)
        if facts is None:
            return np.zeros(self.n, dtype=bool)
        m = self.codes[cond.kind]
        if cond.check != "age_conflict":
            return _offending(cond, facts, m, m.any_cell, self.attribute("sex"))
        # only the episodes with an age and a code that has age limits are compared cell by cell
        limited = m.values.valid & facts.known & (~np.isnan(facts.min_age) | ~np.isnan(facts.max_age))
        rows = np.flatnonzero(~np.isnan(self.attribute("age")) & m.any_cell(limited))
        out = np.zeros(self.n, dtype=bool)
        out[rows] = self.reference_cells(cond, m.rows(rows), rows).any(axis=1)
        return out

    def reference_cells(self, cond: c.ReferenceCheck, mr: CodeMatrix, rows: np.ndarray) -> np.ndarray | None:
        """bool (len(rows), k): the offending cells of these episodes (their codes ``mr``); None without
        the reference table."""
        facts = self.facts(cond.kind)
        if facts is None:
            return None
        if cond.check != "age_conflict":
            return _offending(cond, facts, mr, lambda per_value: mr.take(per_value, False),
                              self.attribute("sex")[rows][:, None])
        return self._age_conflict(mr, self.attribute("age")[rows], facts)

    @staticmethod
    def _age_conflict(mr: CodeMatrix, age: np.ndarray, facts: CodeFacts) -> np.ndarray:
        """bool (len(age), k): the cells whose code's age limits the episode's age is outside."""
        a = age[:, None]
        with np.errstate(invalid="ignore"):
            return (a < mr.take(facts.min_age, np.nan)) | (a > mr.take(facts.max_age, np.nan))

    # -- what a finding points at ------------------------------------------
    def flagged(self, rows: np.ndarray) -> dict[Kind, CodeMatrix]:
        """The codes of these (flagged) episodes, built once for everything a finding shows."""
        return {kind: self.codes[kind].rows(rows) for kind in Kind}

    @staticmethod
    def flagged_by(cells: dict[Kind, CodeMatrix], at: np.ndarray) -> dict[Kind, CodeMatrix]:
        """The codes of some of the episodes of ``cells`` (``at``: their places in it), taken from its cells
        by position: a rule's flagged episodes out of the chunk's."""
        return {kind: _SomeOf(m, at) for kind, m in cells.items()}

    def involved(self, targets: _RuleTargets, rows: np.ndarray,
                 cells: dict[Kind, CodeMatrix]) -> dict[Kind, np.ndarray]:
        """bool (len(rows), k) per classification: the cells of each flagged episode a rule is about."""
        out = {}
        for kind in Kind:
            # A cell is involved by its value alone: the rule's bits tested once per distinct value of the
            # run, then taken by cell (not an (episodes, positions, words) array a rule a chunk).
            involved = cells[kind].take(self._involved_values(targets, kind), False)
            for s in targets.usage:
                if s.kind is kind:
                    involved |= cells[kind].take(self.value_hit(s), False)
            for x in targets.checks:
                if x.kind is kind:
                    offending = self.reference_cells(x, cells[kind], rows)
                    if offending is not None:
                        involved |= offending
            out[kind] = involved
        return out

    def _involved_values(self, targets: _RuleTargets, kind: Kind) -> np.ndarray:
        """bool per distinct value of the run: does it match a pattern the rule's findings point at."""
        bits, mask = self.compiled.value_bits[kind], targets.masks[kind]  # not self: the memo outlives the chunk
        return self.compiled.per_value(("involved", id(targets), kind), kind,
                                       lambda values, start, stop: (bits.get()[start:stop] & mask).any(axis=1))

    def found(self, cells: dict[Kind, CodeMatrix], involved: dict[Kind, np.ndarray]) -> pa.Array:
        """The codes of each flagged episode the rule is about, in order: diagnoses, then procedures."""
        return self._show(involved, cells, {kind: self.codes[kind].values.display for kind in Kind}, " ")

    def found_titles(self, cells: dict[Kind, CodeMatrix], involved: dict[Kind, np.ndarray]) -> pa.Array:
        """The same codes, each with its title from the reference tables ("; " between codes)."""
        return self._show(involved, cells, {kind: self._titled(kind) for kind in Kind}, "; ")

    def _titled(self, kind: Kind) -> np.ndarray:
        """Each distinct value as a found code with its title; worked out once per value of the run."""
        if self.facts(kind) is None:
            return self.codes[kind].values.display
        lookup = self.compiled.value_facts[kind]

        def compute(values, start: int, stop: int) -> np.ndarray:
            facts, display = lookup.get(), values.display[start:stop]
            known, title = facts.known[start:stop], facts.title[start:stop]
            name = "ICD-10" if kind is Kind.DIAGNOSIS else "OPCS-4"
            titled = np.where(known, display + " " + title.astype(str), display + f" (not in {name})")
            return np.where(values.status[start:stop] == Status.INVALID, "",
                            np.where(known & (title == ""), display, titled)).astype(object)
        return self.compiled.per_value(("titles", kind), kind, compute)

    @staticmethod
    def _show(involved: dict[Kind, np.ndarray], cells: dict[Kind, CodeMatrix], shown: dict[Kind, np.ndarray],
              sep: str) -> pa.Array:
        """Join the shown form of the involved cells of each flagged episode, in position order (Arrow text).

        Each distinct value shown is made Arrow text once; the cells are placed in order with integer
        arithmetic (no sort) and each episode's list is joined in C++: nothing per finding in Python."""
        table = np.concatenate([shown[kind] for kind in Kind])  # diagnoses' values, then procedures'
        n = cells[Kind.DIAGNOSIS].n_episodes
        owners, values, base = [], [], 0
        for kind in Kind:
            # Row-major: each kind's cells come by episode, then position.
            r, col = np.nonzero(involved[kind])
            rows = cells[kind].index[r, col]
            values.append(np.where(rows < 0, rows + len(shown[kind]), rows) + base)  # -1 (EMPTY): the last value
            owners.append(r)
            base += len(shown[kind])
        used = np.zeros(len(table), dtype=bool)
        for v in values:
            used[v] = True
        distinct = np.flatnonzero(used)
        text = table[distinct]
        place, nonblank = np.cumsum(used, dtype=np.int64) - 1, text != ""  # a value's place among the distinct
        local = [place[v] for v in values]
        keep = [nonblank[v] for v in local]
        owners, local = [o[k] for o, k in zip(owners, keep)], [v[k] for v, k in zip(local, keep)]
        counts = [np.bincount(o, minlength=n) for o in owners]
        offsets = np.concatenate([[0], np.cumsum(sum(counts))])
        # Each episode's diagnoses, then its procedures: a cell's slot is where its episode's list starts,
        # after the episode's cells of the kinds before, plus its rank among its episode's cells of its kind.
        ordered = np.empty(int(offsets[-1]), dtype=np.int64)
        before = np.zeros(n, dtype=np.int64)
        for o, v, count in zip(owners, local, counts):
            first = np.concatenate([[0], np.cumsum(count)])[:-1]
            ordered[offsets[:-1][o] + before[o] + np.arange(len(o)) - first[o]] = v
            before += count
        pieces = pa.array(text, pa.string()).take(pa.array(ordered))
        return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pieces), sep)

    def episode_codes(self, rows: np.ndarray, cells: dict[Kind, CodeMatrix] | None = None) -> pa.Array:
        """All codes of each of these episodes in order, as displayed: "diagnoses | procedures" (``cells``:
        their codes, when built already)."""
        shown = {kind: self.codes[kind].values.display for kind in Kind}
        cells = self.flagged(rows) if cells is None else cells
        groups = []
        for kind in Kind:
            only = {k: (cells[k].index != EMPTY) if k is kind else
                    np.zeros((len(rows), len(cells[k].columns)), dtype=bool) for k in Kind}
            groups.append(self._show(only, cells, shown, " "))
        return pc.utf8_trim_whitespace(pc.binary_join_element_wise(groups[0], groups[1], " | "))


class _SomeOf(CodeMatrix):
    """Some episodes of a (flagged episodes') code matrix: their rows of its cells by position, one take;
    the columns (a walk's) made only when asked for."""

    def __init__(self, of: CodeMatrix, at: np.ndarray):  # not CodeMatrix's: it would make the columns
        self.kind, self.values, self.n_episodes = of.kind, of.values, len(at)
        self._of, self._at = of, at
        self._index = of.index[at]
        self._by_position = None

    @functools.cached_property
    def columns(self) -> list:
        return self._of.rows(self._at).columns


def _offending(cond: c.ReferenceCheck, facts: CodeFacts, m: CodeMatrix, lift, sex: np.ndarray) -> np.ndarray:
    """The episodes (``lift`` = ``m.any_cell``) or cells (``lift`` takes per cell) whose code the reference
    table rules out: not a valid code (``invalid_code``), or not for the episode's ``sex``."""
    if cond.check == "invalid_code":
        return lift(m.values.valid & facts.invalid)
    not_for = _not_for_sex(m, facts)
    return _by_sex(sex, lift(not_for[MALE]), lift(not_for[FEMALE]))


def _not_for_sex(m: CodeMatrix, facts: CodeFacts) -> dict[int, np.ndarray]:
    """bool per distinct value, by episode sex: a known code that may not be used for that sex."""
    known = m.values.valid & facts.known
    return {MALE: known & ~facts.male_ok, FEMALE: known & ~facts.female_ok}


def _by_sex(sex: np.ndarray, male: np.ndarray, female: np.ndarray) -> np.ndarray:
    """``male`` where the episode's sex is male, ``female`` where it is female, else False (broadcast)."""
    return ((sex == MALE) & male) | ((sex == FEMALE) & female)


def _character_ok(codes: np.ndarray, test: c.CharacterTest) -> np.ndarray:
    """bool per distinct code: does it pass the character test (dots are not characters)?"""
    undotted = pd.Series(codes, dtype=object).fillna("").astype(str).str.replace(".", "", regex=False)
    char = undotted.str.slice(test.position - 1, test.position)
    if test.present:
        return (char != "").to_numpy()
    inside = char.isin(list(test.values)).to_numpy()
    return inside if test.allowed else ~inside


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _render(template: str, found: pa.Array, expected: pa.Array, blocks: pa.Array | None = None) -> pa.Array:
    """Fill ``{found}`` / ``{expected}`` / ``{blocks}`` for many findings at once (Arrow text, joined in C++).
    ``{blocks}`` where no block is at fault (another part of the rule failed) is the found codes."""
    pieces: list = []
    shown = pc.if_else(pc.equal(found, ""), "none", found)
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append(literal)
        if name == "found":
            pieces.append(shown)
        elif name == "expected":
            pieces.append(expected)
        elif name == "blocks":
            pieces.append(shown if blocks is None else pc.if_else(pc.equal(blocks, ""), shown, blocks))
    arrays = [p for p in pieces if not isinstance(p, str)]
    if not arrays:  # no placeholder: the same text for every finding
        return pa.array(["".join(pieces)] * len(found), pa.string()) if len(found) else pa.array([], pa.string())
    return pc.binary_join_element_wise(*pieces, "")


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
    titles = compiled.reference is not None
    rows_of, rule_of, parts = [], [], {}  # per rule with findings: its rows, its number, its text columns

    def add(column: str, values: pa.Array) -> None:
        parts.setdefault(column, []).append(values)

    failing = []  # (rule number, rule, its targets, its flagged rows) of each rule with findings
    for number, (rule, targets) in enumerate(zip(compiled.rules, compiled.targets)):  # rules are few
        fail = ~chunk.evaluate(rule.require)
        if rule.when is not None:
            fail &= chunk.evaluate(rule.when)
        applies = _applies(episodes, rule)
        if applies is not None:
            fail &= applies
        rows = np.flatnonzero(fail)
        if rows.size:
            failing.append((number, rule, targets, rows))
    failing = apply_precedence(failing, compiled)  # one defect, one finding (unless_rule / supersedes)
    # The codes of every flagged episode, placed by position once a chunk; each rule takes its episodes' rows.
    flagged = np.unique(np.concatenate([f[-1] for f in failing])) if failing else np.zeros(0, np.int64)
    flagged_cells = chunk.flagged(flagged)
    for number, rule, targets, rows in failing:
        # Each finding's variant: 0 the rule's own severity, message and expected; i the rule's variant i.
        variant = np.zeros(rows.size, dtype=np.int8)
        for i, v in enumerate(rule.variants, start=1):  # first matching variant wins
            variant[chunk.evaluate(v.when)[rows] & (variant == 0)] = i
        forms = [rule, *rule.variants]
        choose = pa.array(variant)
        cells = chunk.flagged_by(flagged_cells, np.searchsorted(flagged, rows))
        involved = chunk.involved(targets, rows, cells)
        involved, rows_named = explain_table_rows(chunk, rule, rows, cells, involved)
        found = chunk.found(cells, involved)
        expected = pa.array([f.expected for f in forms], pa.string()).take(choose)
        if rows_named is not None:  # a table rule: each finding names its rows
            expected = pc.binary_join_element_wise(expected, rows_named, "")
        templates = list(dict.fromkeys(f.message for f in forms))
        blocks = None
        if any("blocks" in _placeholders(t) for t in templates):  # each failing block said (audit.blocks_explained)
            blocks = explain_blocks(chunk, c.every_block_tests(rule.require), cells)
        rendered = [_render(t, found, expected, blocks) for t in templates]
        which = pa.array(np.array([templates.index(f.message) for f in forms], dtype=np.int8)[variant])
        rows_of.append(rows)
        rule_of.append(np.full(rows.size, number, dtype=np.int32))
        add("severity", pa.array([f.severity for f in forms], pa.string()).take(choose))
        add("message", rendered[0] if len(rendered) == 1 else pc.choose(which, *rendered))
        add("expected", expected)
        add("found", found)
        if titles:
            add(TITLES, chunk.found_titles(cells, involved))
    attributes = attribute_columns(episodes)
    if not rows_of:
        return empty_findings(attributes, titles=titles)
    row, rule_number = np.concatenate(rows_of), np.concatenate(rule_of)
    ids = np.array([r.id for r in compiled.rules], dtype=object)
    _, rank = np.unique(ids, return_inverse=True)  # rule ids' sort order, so findings sort by rule id
    order = np.lexsort((rank[rule_number], row))  # input order, then rule id
    row, rule_number = row[order], rule_number[order]
    take = pa.array(order)
    columns = {name: pa.concat_arrays(arrays).take(take) for name, arrays in parts.items()}
    numbers = pa.array(rule_number)
    columns["rule_id"] = pa.array(ids.tolist(), pa.string()).take(numbers)
    columns["guidance"] = pa.array([r.source.guidance for r in compiled.rules], pa.string()).take(numbers)
    columns["episode_id"] = _text_column(episodes[ID], row)
    position = np.searchsorted(flagged, row)  # every code of the flagged episodes only
    columns["codes"] = chunk.episode_codes(flagged, flagged_cells).take(pa.array(position))
    for col in attributes:  # provider, dates, specialty...: so reports can group by them
        columns[col] = _text_column(episodes[col], row) if _arrow_text(episodes[col]) else \
            episodes[col].iloc[row].to_numpy()
    out = {col: pd.array(v, dtype="str") if isinstance(v, (pa.Array, pa.ChunkedArray)) else v
           for col, v in columns.items()}
    return pd.DataFrame({col: out[col] for col in finding_columns(attributes, titles)})


def _arrow_text(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def _text_column(column: pd.Series, rows: np.ndarray) -> pa.Array:
    """The cells ``rows`` of a column as Arrow text (an Arrow-backed one taken where it is)."""
    if _arrow_text(column):
        return pa.array(column.array).take(pa.array(rows)).cast(pa.string())
    return pa.array(column.iloc[rows].astype(str).to_numpy(dtype=object), pa.string())


def attribute_columns(episodes: pd.DataFrame) -> list[str]:
    """The canonical frame's columns the findings carry: all but the id, the codes and the attributes read
    for conditions only (``CONDITION_ROLES``: admission method, patient classification)."""
    codes = {col for kind in Kind for col in code_columns(episodes, kind)}
    return [col for col in episodes.columns if col != ID and col not in codes and col not in CONDITION_ROLES]


def finding_columns(attributes: list[str] = (), titles: bool = False) -> list[str]:
    """The findings columns: the finding, each found code's title (with reference tables), every code of
    the episode, then the episode's attributes."""
    found = FINDING_COLUMNS.index("found") + 1
    return [*FINDING_COLUMNS[:found], *([TITLES] if titles else []), *FINDING_COLUMNS[found:], *attributes]


def empty_findings(attributes: list[str] = (), titles: bool = False) -> pd.DataFrame:
    """No findings, with the columns of ``finding_columns``."""
    return pd.DataFrame({col: pd.Series(dtype=object) for col in finding_columns(attributes, titles)})
