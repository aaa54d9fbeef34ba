"""``audit rules lint``: the rule files themselves checked, beyond what loading them checks.

- every file loads (a malformed code such as ``020`` written for ``O20``, a range such as ``X91-99``,
  an unknown code set, a bad table row: the loader's message, with file and line);
- no pattern item repeats another of the same pattern (``A40, A40.1``: the second says nothing);
- ``unless_rule`` / ``supersedes`` name rules that exist;
- two rules (or table rows) that fire on the same defect: the same ``when`` and ``require``, or the
  same pair of codes kept apart (``not_coded_together`` groups, ``every_diagnosis: X`` with
  ``not_coded_with: Y``, a table row), one within the other, unless one gives way to the other;
- with the classification tables (``--reference``): every code, category and range a rule names
  expands to codes of the classification, and each end of a range is in it.

Each problem is a ``Problem`` with the file and line it points at; the command prints them as
``file:line: RULE: problem`` and exits 1 when there is any.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.codes import Kind
from audit.errors import RuleFileError
from audit.patterns import Pattern
from audit.rules import conditions as c
from audit.rules.tables import NotCodedTogetherTable


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    rule: str
    problem: str

    def show(self, where=str) -> str:
        rule = f" {self.rule}:" if self.rule else ""
        return f"{where(self.path)}:{self.line}:{rule} {self.problem}"


@dataclass(frozen=True)
class _Pair:
    """Two groups of codes a rule (or a table row) keeps apart, and what excuses them."""

    a: Pattern
    b: Pattern
    unless: Pattern | None
    rule: object
    path: str
    line: int
    label: str  # "NAT-ICD-TAB-01 row 3" or the rule id


def lint_files(files: list[Path], reference=None, known_ids: set[str] = frozenset()) -> list[Problem]:
    """Every problem of these rule files (``known_ids``: other rules that precedence may name)."""
    from audit.rules.loader import load_rule_file

    problems, rules, seen = [], [], {}
    for f in files:
        try:
            loaded = load_rule_file(f)
        except RuleFileError as exc:
            problems.append(Problem(exc.path, exc.line or 0, "", str(exc).split(": ", 1)[-1]))
            continue
        for rule in loaded:
            if rule.id in seen:
                other = seen[rule.id]
                problems.append(Problem(rule.path, rule.line, rule.id,
                                        f"duplicate rule id (also at {other.path}:{other.line})"))
                continue
            seen[rule.id] = rule
            rules.append(rule)
    problems += _repeated_items(rules)
    problems += _unused_codesets(files, rules)
    problems += _precedence(rules, set(seen) | set(known_ids))
    problems += _same_defect(rules)
    if reference is not None:
        problems += _in_classification(rules, reference)
    return sorted(set(problems))


# -- patterns --------------------------------------------------------------------------------------------
def _rule_patterns(rule):
    """(pattern, where: (path, line, label)) for every pattern of a rule, table cells at their rows."""
    for cond in rule.conditions:
        for node in c.walk(cond):
            if isinstance(node, NotCodedTogetherTable):
                for row in node.table.rows:
                    for p in row.patterns():
                        yield p, (node.table.path, row.line, f"{rule.id} row {row.number}")
            else:
                for p in c.patterns_of_node(node):
                    yield p, (rule.path, rule.line, rule.id)


def _covers(outer, inner) -> bool:
    """Does item ``outer`` (a range of prefixes) hold every code item ``inner`` holds?"""
    n = len(outer.low)
    return n <= len(inner.low) and outer.low <= inner.low[:n] and inner.high[:n] <= outer.high


def pattern_covers(outer: Pattern, inner: Pattern) -> bool:
    """Every code ``inner`` matches, ``outer`` matches too."""
    return all(any(_covers(o, i) for o in outer.items) for i in inner.items)


def _repeated_items(rules) -> list[Problem]:
    out = []
    for rule in rules:
        for p, (path, line, label) in _unique(rule):
            items = p.items
            for j in range(len(items)):
                i = next((i for i in range(len(items)) if i != j and _covers(items[i], items[j])
                          and (i < j or not _covers(items[j], items[i]))), None)
                if i is not None:
                    out.append(Problem(path, line, label, f"in pattern {p.text!r}, {_item(items[j])} is already "
                                                          f"covered by {_item(items[i])}"))
    return out


def _unique(rule):
    seen = set()
    for p, where in _rule_patterns(rule):
        if (p.kind, p.text, where) not in seen:
            seen.add((p.kind, p.text, where))
            yield p, where


def _item(item) -> str:
    dotted = lambda code: code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"
    return dotted(item.low) if item.low == item.high else f"{dotted(item.low)}-{dotted(item.high)}"


def _unused_codesets(files, rules) -> list[Problem]:
    """A code set that no rule (nor another set) of its file uses."""
    import re

    from audit.rules.yamlsource import LineMap, load_yaml

    out = []
    for f in files:
        try:
            doc = load_yaml(Path(f))
        except RuleFileError:
            continue  # reported as a file that does not load
        sets = doc.get("codesets") if isinstance(doc, LineMap) else None
        if not isinstance(sets, LineMap):
            continue
        texts = [p.text for rule in rules if Path(rule.path).resolve() == Path(f).resolve()
                 for p, _ in _rule_patterns(rule)]
        texts += [str(v) for v in sets.values()]
        used = {name for text in texts for name in re.findall(r"@([a-z][a-z0-9_]*)", text)}
        for name in sets:
            if name not in used:
                out.append(Problem(str(f), sets.line_of(name), "", f"code set '@{name}' is not used"))
    return out


# -- precedence ------------------------------------------------------------------------------------------
def _precedence(rules, ids: set[str]) -> list[Problem]:
    out = []
    for rule in rules:
        for key in ("unless_rule", "supersedes"):
            for other in getattr(rule, key):
                if other not in ids:
                    out.append(Problem(rule.path, rule.line, rule.id, f"{key} names {other}, which is not a rule"))
    return out


def _gives_way(a, b) -> bool:
    """One of the two rules gives way to the other (or they are the same rule)."""
    return a.id == b.id or a.id in b.unless_rule or b.id in a.unless_rule or a.id in b.supersedes \
        or b.id in a.supersedes


# -- the same defect -------------------------------------------------------------------------------------
def _pairs(rule) -> list[_Pair]:
    """The pairs of codes a rule keeps apart, when that is all it checks (no ``when``)."""
    if rule.when is not None or rule.variants:
        return []
    out = []
    cond = rule.require
    if isinstance(cond, c.NotCodedTogether):
        for a, b in itertools.combinations(cond.groups, 2):
            out.append(_Pair(a, b, None, rule, rule.path, rule.line, rule.id))
    elif isinstance(cond, NotCodedTogetherTable):
        for row in cond.table.rows:
            for a, b in itertools.combinations(row.groups, 2):
                out.append(_Pair(a, b, row.unless, rule, cond.table.path, row.line, f"{rule.id} row {row.number}"))
    elif (isinstance(cond, c.CodeTest) and cond.every and not cond.selector.usage and cond.position == "any"
          and not cond.characters and cond.relation is None and isinstance(cond.not_coded_with, c.HasCode)
          and cond.not_coded_with.position == "any" and cond.coded_with is None
          and (cond.unless is None or isinstance(cond.unless, c.HasCode))):
        unless = cond.unless.pattern if cond.unless is not None else None
        out.append(_Pair(cond.selector.pattern, cond.not_coded_with.pattern, unless, rule, rule.path, rule.line,
                         rule.id))
    return out


def _within(small: _Pair, large: _Pair) -> bool:
    """Every episode ``small`` fires on, ``large`` fires on too."""
    if small.a.kind is not large.a.kind:
        return False
    same_way = pattern_covers(large.a, small.a) and pattern_covers(large.b, small.b)
    crossed = pattern_covers(large.a, small.b) and pattern_covers(large.b, small.a)
    if not (same_way or crossed):
        return False
    if large.unless is None:
        return True
    return small.unless is not None and pattern_covers(small.unless, large.unless)


def _key(cond) -> str:
    """A condition's meaning as text: patterns by the codes they hold, not by how they are written."""
    if cond is None:
        return ""
    if isinstance(cond, Pattern):
        return f"{cond.kind.value}:{sorted((i.low, i.high) for i in cond.items)}"
    if isinstance(cond, NotCodedTogetherTable):
        return f"table:{cond.table.path}"
    if isinstance(cond, tuple):
        return "(" + ",".join(_key(x) for x in cond) + ")"
    if hasattr(cond, "__dataclass_fields__"):
        return type(cond).__name__ + "{" + ",".join(f"{f}={_key(getattr(cond, f))}"
                                                    for f in cond.__dataclass_fields__) + "}"
    return repr(cond)


def _same_defect(rules) -> list[Problem]:
    out = []
    by_key: dict[str, object] = {}
    for rule in rules:
        key = _key(rule.when) + "|" + _key(rule.require)
        other = by_key.setdefault(key, rule)
        if other is not rule and not _gives_way(rule, other):
            out.append(Problem(rule.path, rule.line, rule.id, f"fires on the same defect as {other.id} "
                                                              f"({other.path}:{other.line}): the same condition"))
    pairs = [p for rule in rules for p in _pairs(rule)]
    for x, y in itertools.combinations(pairs, 2):
        if _gives_way(x.rule, y.rule) and x.rule.id != y.rule.id:
            continue
        for small, large in ((x, y), (y, x)):
            if _within(small, large):
                out.append(Problem(small.path, small.line, small.label,
                                   f"{_pair_text(small)} fires on the same defect as {large.label} "
                                   f"({large.path}:{large.line}: {_pair_text(large)})"))
                break
    return out


def _pair_text(p: _Pair) -> str:
    return f"{p.a} with {p.b}" + (f" unless {p.unless}" if p.unless is not None else "")


# -- the classification ----------------------------------------------------------------------------------
def _in_classification(rules, reference) -> list[Problem]:
    out = []
    undotted = {}
    for kind in Kind:
        table = reference.get(kind)
        if table is not None:
            undotted[kind] = np.array(sorted(str(code).replace(".", "") for code in table.frame.index))
    for rule in rules:
        for p, (path, line, label) in _unique(rule):
            codes = undotted.get(p.kind)
            if codes is None:
                continue
            for item in p.items:
                if not _count(codes, item.low, item.high):
                    out.append(Problem(path, line, label, f"{_item(item)} (in {p.text!r}) is not in the "
                                                          f"{_name(p.kind)} classification"))
                elif item.low != item.high:
                    for end in (item.low, item.high):
                        if not _count(codes, end, end):
                            out.append(Problem(path, line, label, f"range {_item(item)} (in {p.text!r}): "
                                                                  f"{_item(type(item)(end, end))} is not in the "
                                                                  f"{_name(p.kind)} classification"))
    return out


def _count(codes: np.ndarray, low: str, high: str) -> int:
    """How many codes of the sorted array start with a prefix from ``low`` to ``high`` (equal lengths)."""
    start = np.searchsorted(codes, low, side="left")
    stop = np.searchsorted(codes, high + "\uffff", side="right")
    return int(stop - start)


def _name(kind: Kind) -> str:
    return "ICD-10" if kind is Kind.DIAGNOSIS else "OPCS-4"
