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

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.codes import Kind, Status
from audit.episodes import EMPTY, END_DATE, ID, Blocks, CodeMatrix, Vocabulary, code_columns
from audit.patterns import Pattern
from audit.reference import CodeFacts, ReferenceTables, episode_age, episode_sex
from audit.rules import conditions as c
from audit.rules.model import Rule, RuleSet
from audit.sequence import relation_matrix

FINDING_COLUMNS = ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found", "codes"]
TITLES = "found_titles"  # after "found" when reference tables are given: each found code with its title
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


class _ValueFacts:
    """What a reference table says about every value in a run's vocabulary, looked up once per value."""

    def __init__(self, vocabulary: Vocabulary, table):
        self.vocabulary, self.table = vocabulary, table
        self._facts: CodeFacts | None = None

    def facts(self) -> CodeFacts:
        done = len(self._facts.known) if self._facts is not None else 0
        size = len(self.vocabulary)
        if self._facts is None or done < size:
            new = self.table.facts(self.vocabulary.values.code[done:size])
            self._facts = new if self._facts is None else CodeFacts(
                *(np.concatenate([getattr(self._facts, f), getattr(new, f)]) for f in CodeFacts.__dataclass_fields__))
        return self._facts


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
    value_bits: dict[Kind, _ValueBits] = field(default_factory=dict)
    value_facts: dict[Kind, _ValueFacts] = field(default_factory=dict)

    def bit(self, pattern: Pattern) -> int:
        return self.bits[(pattern.kind, pattern.text)]

    def words(self, kind: Kind) -> int:
        return self.value_bits[kind].words

    def rule_mask(self, rule: Rule, kind: Kind) -> np.ndarray:
        """uint64 (words,): the bits of the patterns (and malformed values) a rule's findings point at.

        Codes picked by dagger/asterisk usage are added cell by cell (``_Chunk.involved``)."""
        mask = np.zeros(self.words(kind), dtype=np.uint64)
        for s in dict.fromkeys(s for cond in _rule_conditions(rule) for s in c.selectors_of(cond)):
            if s.kind is kind and not s.usage:
                mask[self.bit(s.pattern) // 64] |= _bit(self.bit(s.pattern))
        if any(isinstance(x, c.Malformed) and x.kind is kind for cond in _rule_conditions(rule) for x in c.walk(cond)):
            mask[self.value_bits[kind].malformed_bit // 64] |= _bit(self.value_bits[kind].malformed_bit)
        return mask


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
    for kind in Kind:
        vocabulary = Vocabulary(kind)
        compiled.value_bits[kind] = _ValueBits(vocabulary, compiled.patterns[kind])
        table = reference.get(kind) if reference is not None else None
        if table is not None:
            compiled.value_facts[kind] = _ValueFacts(vocabulary, table)
    return compiled


def _rule_conditions(rule: Rule) -> list[c.Condition]:
    return rule.conditions


def _rule_patterns(rule: Rule) -> list[Pattern]:
    return [p for cond in _rule_conditions(rule) for p in c.patterns_of(cond)]


class _Chunk:
    """One chunk's codes and the per-episode pattern bits, with conditions evaluated on demand."""

    def __init__(self, episodes: pd.DataFrame, compiled: CompiledRules):
        self.compiled = compiled
        self.episodes = episodes
        self.n = len(episodes)
        self.codes = {kind: CodeMatrix.from_columns([episodes[col] for col in code_columns(episodes, kind)], kind,
                                                    compiled.value_bits[kind].vocabulary, n=self.n)
                      for kind in Kind}
        self.tables = {kind: compiled.value_bits[kind].table() for kind in Kind}
        self._episode_bits: dict[tuple[Kind, str], np.ndarray] = {}
        self._facts: dict[Kind, CodeFacts | None] = {}
        self._attributes: dict[str, np.ndarray] = {}

    def cell_bits(self, kind: Kind, rows: np.ndarray) -> np.ndarray:
        """uint64 (len(rows), k, words): the pattern bits of each cell of these episodes."""
        return self.tables[kind][self.codes[kind].rows(rows).index]

    def episode_bits(self, kind: Kind, position: str) -> np.ndarray:
        """uint64 (n, words): OR of the pattern bits of the cells at ``position``."""
        key = (kind, position)
        if key not in self._episode_bits:
            table, columns = self.tables[kind], self.codes[kind].columns
            k = len(columns)
            cols = {"any": range(k), "primary": range(min(1, k)), "secondary": range(1, k),
                    "first_secondary": range(min(1, k), min(2, k)),
                    "primary_or_first_secondary": range(min(2, k))}[position]
            acc = np.zeros((self.n, table.shape[1]), dtype=np.uint64)
            for j in cols:  # a loop over code positions, each vectorised over all episodes
                # The column's dictionary first: most columns hold no value any pattern matches, and
                # in the rest a one-byte take finds the few cells that do; only those are OR-ed.
                dictionary_bits = table[columns[j].remap]
                interesting = dictionary_bits.any(axis=1)
                if not interesting.any():
                    continue
                rows = np.flatnonzero(interesting[columns[j].codes])
                acc[rows] |= dictionary_bits[columns[j].codes[rows]]
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
        if isinstance(cond, c.CodeTest):
            return self.code_test(cond)
        if isinstance(cond, c.NotCodedTogether):
            present = sum(self.has(g).astype(np.int8) for g in cond.groups)
            return present <= 1
        if isinstance(cond, c.ReferenceCheck):
            return self.reference_check(cond)
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

    # -- codes tested one by one (positions, characters, sequences, companions) --
    def value_hit(self, selector: c.Selector) -> np.ndarray:
        """bool (n_values,): which distinct values of the chunk the selector takes."""
        kind = selector.kind
        bit = self.compiled.bit(selector.pattern)
        hit = (self.tables[kind][:-1, bit // 64] & _bit(bit)) != 0  # the last row is the EMPTY cell's
        if selector.usage:
            values = self.codes[kind].values
            usage = values.marker == selector.usage  # the code's own dagger/asterisk marker ...
            facts = self.facts(kind)
            if facts is not None:  # ... or the classification's USAGE
                usage = usage | (facts.usage == selector.usage)
            hit &= usage
        return hit

    def cells(self, selector: c.Selector, rows: np.ndarray, m: CodeMatrix | None = None) -> np.ndarray:
        """bool (len(rows), k): which cells of these episodes the selector takes (``m``: their codes, if built)."""
        if m is None or m.kind is not selector.kind:
            m = self.codes[selector.kind].rows(rows)
        return m.take(self.value_hit(selector), False)

    def code_test(self, cond: c.CodeTest) -> np.ndarray:
        # Cell-level work only for the episodes that have a code of the pattern at all.
        out = np.full(self.n, cond.every, dtype=bool)  # no such code: 'every' holds, 'some' does not
        if not self.value_hit(cond.selector).any():
            return out
        rows = np.flatnonzero(self.has(cond.selector.pattern))
        m = self.codes[cond.kind].rows(rows)  # the cells of these episodes, built once for every test below
        anchor = self.cells(cond.selector, rows, m)
        ok = np.ones(anchor.shape, dtype=bool)
        if cond.position != "any":
            k = anchor.shape[1]
            allowed = {"primary": [0], "secondary": range(1, k), "first_secondary": [1],
                       "primary_or_first_secondary": [0, 1]}[cond.position]
            columns = np.zeros(k, dtype=bool)
            columns[[j for j in allowed if j < k]] = True
            ok &= columns[None, :]
        for test in cond.characters:
            ok &= m.take(_character_ok(m.values.code, test), False)
        if cond.relation is not None:
            rel = cond.relation
            blocks = Blocks.of(m) if rel.within_block else None
            ok &= relation_matrix(self.cells(rel.target, rows, m), m.index != EMPTY, rel.kind, blocks)
        episode_ok = np.ones(rows.size, dtype=bool)
        if cond.coded_with is not None:
            episode_ok &= self.evaluate(cond.coded_with)[rows]
        if cond.not_coded_with is not None:
            episode_ok &= ~self.evaluate(cond.not_coded_with)[rows]
        if cond.unless is not None:
            episode_ok |= self.evaluate(cond.unless)[rows]
        ok &= episode_ok[:, None]
        out[rows] = (~anchor | ok).all(axis=1) if cond.every else (anchor & ok).any(axis=1)
        return out

    # -- the classification tables ---------------------------------------------
    def facts(self, kind: Kind) -> CodeFacts | None:
        """What the reference table says about each distinct value (None without the table)."""
        if kind not in self._facts:
            lookup = self.compiled.value_facts.get(kind)
            self._facts[kind] = lookup.facts() if lookup is not None else None
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
        cells = self.reference_cells(cond)
        out = np.zeros(self.n, dtype=bool)
        if cells is not None:
            rows, hit = cells
            out[rows] = hit.any(axis=1)
        return out

    def reference_cells(self, cond: c.ReferenceCheck, rows: np.ndarray | None = None):
        """(rows, bool (len(rows), k)): the offending cells, for the given rows or every episode that may
        have one; None without the reference table."""
        facts = self.facts(cond.kind)
        if facts is None:
            return None
        m = self.codes[cond.kind]
        valid = m.values.valid
        if cond.check == "invalid_code":
            bad = valid & facts.invalid
            if rows is None:
                rows = np.flatnonzero(m.any_cell(bad))
            return rows, m.rows(rows).take(bad, False)
        if cond.check == "sex_conflict":
            restricted = valid & facts.known & (~facts.male_ok | ~facts.female_ok)
            sex = self.attribute("sex")
            if rows is None:
                rows = np.flatnonzero((sex > 0) & m.any_cell(restricted))
            mr, s = m.rows(rows), sex[rows][:, None]
            hit = ((s == 1) & mr.take(~facts.male_ok, False)) | ((s == 2) & mr.take(~facts.female_ok, False))
            return rows, hit & mr.take(restricted, False)
        # age_conflict
        limited = valid & facts.known & (~np.isnan(facts.min_age) | ~np.isnan(facts.max_age))
        age = self.attribute("age")
        if rows is None:
            rows = np.flatnonzero(~np.isnan(age) & m.any_cell(limited))
        mr, a = m.rows(rows), age[rows][:, None]
        with np.errstate(invalid="ignore"):
            hit = (a < mr.take(facts.min_age, np.nan)) | (a > mr.take(facts.max_age, np.nan))
        return rows, hit

    # -- what a finding points at ------------------------------------------
    def involved(self, rule: Rule, rows: np.ndarray) -> dict[Kind, np.ndarray]:
        """bool (len(rows), k) per classification: the cells of each flagged episode the rule is about."""
        conds = [x for cond in _rule_conditions(rule) for x in c.walk(cond)]
        usage = [s for s in dict.fromkeys(s for cond in _rule_conditions(rule) for s in c.selectors_of(cond))
                 if s.usage]
        out = {}
        for kind in Kind:
            involved = (self.cell_bits(kind, rows) & self.compiled.rule_mask(rule, kind)).any(axis=2)
            for s in usage:
                if s.kind is kind:
                    involved |= self.cells(s, rows)
            for x in conds:
                if isinstance(x, c.ReferenceCheck) and x.kind is kind:
                    cells = self.reference_cells(x, rows)
                    if cells is not None:
                        involved |= cells[1]
            out[kind] = involved
        return out

    def found(self, rows: np.ndarray, involved: dict[Kind, np.ndarray]) -> pd.Series:
        """The codes of each flagged episode the rule is about, in order: diagnoses, then procedures."""
        return self._show(involved, rows, {kind: self.codes[kind].values.display for kind in Kind}, " ")

    def found_titles(self, rows: np.ndarray, involved: dict[Kind, np.ndarray]) -> pd.Series:
        """The same codes, each with its title from the reference tables ("; " between codes)."""
        return self._show(involved, rows, {kind: self._titled(kind) for kind in Kind}, "; ")

    def _titled(self, kind: Kind) -> np.ndarray:
        v = self.codes[kind].values
        facts = self.facts(kind)
        if facts is None:
            return v.display
        name = "ICD-10" if kind is Kind.DIAGNOSIS else "OPCS-4"
        titled = np.where(facts.known, v.display + " " + facts.title.astype(str), v.display + f" (not in {name})")
        return np.where(v.status == Status.INVALID, "", np.where(facts.known & (facts.title == ""), v.display,
                                                                 titled)).astype(object)

    def _show(self, involved: dict[Kind, np.ndarray], rows: np.ndarray, shown: dict[Kind, np.ndarray],
              sep: str) -> pd.Series:
        """Join the shown form of the involved cells of each flagged episode, in position order."""
        pieces, owners, order = [], [], []
        for kind_order, kind in enumerate(Kind):
            r, col = np.nonzero(involved[kind])
            pieces.append(shown[kind][self.codes[kind].rows(rows).index[r, col]])
            owners.append(r)
            order.append(kind_order * 10_000 + col)
        text, owner, position = np.concatenate(pieces), np.concatenate(owners), np.concatenate(order)
        keep = text != ""
        sort = np.lexsort((position[keep], owner[keep]))
        # One list of pieces per flagged episode, joined in C++: no Python call per finding.
        offsets = np.concatenate([[0], np.cumsum(np.bincount(owner[keep], minlength=len(rows)))])
        lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(text[keep][sort], pa.string()))
        return pd.Series(pc.binary_join(lists, sep).to_numpy(zero_copy_only=False), dtype=object)

    def episode_codes(self, rows: np.ndarray) -> pd.Series:
        """All codes of each of these episodes in order, as displayed: "diagnoses | procedures"."""
        shown = {kind: self.codes[kind].values.display for kind in Kind}
        groups = []
        for kind in Kind:
            only = {k: (self.codes[k].rows(rows).index != EMPTY) if k is kind else
                    np.zeros((len(rows), len(self.codes[k].columns)), dtype=bool) for k in Kind}
            groups.append(self._show(only, rows, shown, " "))
        return (groups[0] + " | " + groups[1]).str.strip()


def _character_ok(codes: np.ndarray, test: c.CharacterTest) -> np.ndarray:
    """bool per distinct code: does it pass the character test (dots are not characters)?"""
    undotted = pd.Series(codes, dtype=object).fillna("").astype(str).str.replace(".", "", regex=False)
    char = undotted.str.slice(test.position - 1, test.position)
    if test.present:
        return (char != "").to_numpy()
    inside = char.isin(list(test.values)).to_numpy()
    return inside if test.allowed else ~inside


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
        involved = chunk.involved(rule, rows)
        found = chunk.found(rows, involved)
        rendered = pd.Series([""] * rows.size, dtype=object)
        for template in np.unique(message):
            sel = message == template
            rendered[sel] = _render(template, found[sel].reset_index(drop=True),
                                    pd.Series(expected[sel])).to_numpy()
        columns = {
            "_row": rows, "episode_id": episodes[ID].iloc[rows].astype(str).to_numpy(), "rule_id": rule.id,
            "severity": severity, "message": rendered.to_numpy(), "guidance": rule.source.guidance,
            "expected": expected, "found": found.to_numpy(),
        }
        if compiled.reference is not None:
            columns[TITLES] = chunk.found_titles(rows, involved).to_numpy()
        frames.append(pd.DataFrame(columns))
    attributes = attribute_columns(episodes)
    if not frames:
        return empty_findings(attributes, titles=compiled.reference is not None)
    findings = pd.concat(frames, ignore_index=True)
    flagged = np.unique(findings["_row"].to_numpy())  # every code of the flagged episodes only
    findings["codes"] = chunk.episode_codes(flagged).to_numpy()[np.searchsorted(flagged, findings["_row"].to_numpy())]
    findings = findings[["_row", *empty_findings(titles=compiled.reference is not None).columns]]
    for col in attributes:  # provider, dates, specialty...: so reports can group by them
        findings[col] = episodes[col].iloc[findings["_row"].to_numpy()].to_numpy()
    findings = findings.sort_values(["_row", "rule_id"], kind="stable").drop(columns="_row")
    return findings.reset_index(drop=True)


def attribute_columns(episodes: pd.DataFrame) -> list[str]:
    """The canonical frame's columns other than the id and the codes (provider, end_date, ...)."""
    codes = {col for kind in Kind for col in code_columns(episodes, kind)}
    return [col for col in episodes.columns if col != ID and col not in codes]


def empty_findings(attributes: list[str] = (), titles: bool = False) -> pd.DataFrame:
    """The findings columns: the finding, each found code's title (with reference tables), every code of
    the episode, then the episode's attributes."""
    found = FINDING_COLUMNS.index("found") + 1
    columns = [*FINDING_COLUMNS[:found], *([TITLES] if titles else []), *FINDING_COLUMNS[found:], *attributes]
    return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})
