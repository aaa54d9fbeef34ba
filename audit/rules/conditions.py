"""What a rule condition means. How it is evaluated lives in ``audit.engine``.

Conditions hold on an episode or not. In YAML (``rulesets/README.md`` has an
example of each, written for coding managers):

``diagnosis: C78.7`` / ``procedure: J12.4``
    some code of that classification matches the pattern. Optional tests,
    all of which that same code must pass:

    ``position``: ``primary`` (first), ``secondary`` (any other),
    ``first_secondary`` (second), ``primary_or_first_secondary`` (first or
    second) or ``any``;
    ``has_character: 5``: the code has a fifth character (``S72.0`` has not;
    an ``X`` pad or ``-`` filler is not a character);
    ``character: 5`` with ``in: [...]`` or ``not_in: [...]``: its fifth
    character is (is not) one of these (a code without one passes ``not_in``);
    ``directly_followed_by`` / ``directly_preceded_by``: the next (previous)
    code in the list matches this pattern (blank cells skipped);
    ``followed_by`` / ``preceded_by``: some later (earlier) code matches;
    ``within_block: true`` (procedures): ... and that code is in the same
    OPCS-4 block;
    ``coded_with`` / ``not_coded_with`` (optionally ``unless``): the episode
    also has (has no) code matching this pattern, unless it has a code
    matching ``unless``.

    A relation's target is a pattern, or a mapping such as
    ``{diagnosis: A00-Z99, usage: dagger}``; for ``coded_with``,
    ``not_coded_with`` and ``unless`` a mapping is any condition (so a
    diagnosis rule can name procedures).
    ``usage: dagger`` / ``usage: asterisk`` narrows which codes are meant
    (reference tables' USAGE, or the code's own dagger/asterisk marker).
``every_diagnosis: Z38`` / ``every_procedure: ...``
    with the same tests: every such code passes them (true when there is
    none). ``{every_diagnosis: C97, position: primary}`` reads "every C97 is
    the primary diagnosis"; ``not: {diagnosis: B95-B97, position: primary}``
    reads "no B95-B97 code is primary".
``not_coded_together: {diagnosis: [E10, E11, E14]}``
    codes from at most one of the listed groups.
``block: {main: J12.8, contains: Y12.3}``
    some OPCS-4 block whose main code matches ``main`` holds qualifiers
    matching every ``contains`` pattern (``main`` optional: any main code).
``every_block: {main: J12.4, contains: ..., must_contain: Y53.-}``
    every such block (true when there is none) also holds ``must_contain``.
``malformed: diagnosis`` / ``malformed: procedure``
    some value is not a well-formed code of that classification.
``invalid_code: diagnosis|procedure``, ``sex_conflict: diagnosis``, ``age_conflict: diagnosis``
    checks against the classification tables the user brings (NHS TRUD
    files, ``audit.reference``): some code is not in the classification (or
    is a category that needs a fourth character), or is restricted to the
    other sex / to other ages than the episode's.
``not_coded_together: {diagnosis: {table: pairs.csv}}``
    for every row of a table beside the rule file, codes of at most one of its
    groups (``audit.rules.tables``).
``sex: male``, ``age: {min: 0, max: 0}``, ``specialty: [501]``, ``admission_method: [82, 83]``,
``patient_class: [2]``
    the episode's attributes (``audit.rules.attributes``).
``all: [...]``, ``any: [...]``, ``not: {...}``
    composition.

A pattern may name a code set of its file, ``@sepsis`` (``audit.rules.codesets``).
A condition kind of its own module has ``holds_on(chunk)`` (and ``patterns()``
when it names codes); the engine asks it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from audit.codes import Kind
from audit.patterns import Pattern

POSITIONS = ("any", "primary", "secondary", "first_secondary", "primary_or_first_secondary")
_WHERE = {"any": "", "primary": " as the primary", "secondary": " in a secondary position",
          "first_secondary": " as the first secondary",
          "primary_or_first_secondary": " as the primary or first secondary"}
# Relations between a code and the codes around it in the same list.
SEQUENCE_RELATIONS = ("directly_followed_by", "directly_preceded_by", "followed_by", "preceded_by")
USAGES = ("dagger", "asterisk")


@dataclass(frozen=True)
class HasCode:
    """Some code of ``pattern.kind`` at ``position`` matches ``pattern``."""

    pattern: Pattern
    position: str = "any"

    def describe(self) -> str:
        return f"{self.pattern.kind.value} {self.pattern}{_where(self.pattern.kind, self.position)}"


def _where(kind: Kind, position: str) -> str:
    where = _WHERE[position]
    if kind is Kind.PROCEDURE and position in ("primary", "primary_or_first_secondary"):
        where = where.replace("primary", "main procedure")
    return where


@dataclass(frozen=True)
class InBlock:
    """An OPCS-4 block test: ``every=False`` some selected block exists; ``every=True`` all selected blocks
    hold ``must_contain``. A block is selected when its main code matches ``main`` (any main code if None)
    and it holds a qualifier matching each ``contains`` pattern."""

    main: Pattern | None
    contains: tuple[Pattern, ...] = ()
    must_contain: tuple[Pattern, ...] = ()
    every: bool = False

    def describe(self) -> str:
        # A YAML list means all of its patterns; one comma-separated pattern means any of its codes.
        selected = f"block of {_any(self.main)}" if self.main else "block"
        if self.contains:
            selected += " with " + " and ".join(_any(p) for p in self.contains)
        if not self.every:
            return f"a {selected}"
        return f"every {selected} also has " + " and ".join(_any(p) for p in self.must_contain)


def _any(pattern: Pattern) -> str:
    """A pattern for a sentence: ``one of Y53, Y12.3`` for a comma-separated list."""
    text = str(pattern)
    return f"one of {text}" if "," in text else text


@dataclass(frozen=True)
class Malformed:
    """Some value in the episode's ``kind`` columns is not a well-formed code."""

    kind: Kind

    def describe(self) -> str:
        return f"a malformed {self.kind.value} code"


@dataclass(frozen=True)
class Selector:
    """Which codes a code test is about: a pattern, optionally only dagger or only asterisk codes."""

    pattern: Pattern
    usage: str = ""  # "", "dagger" or "asterisk"

    @property
    def kind(self) -> Kind:
        return self.pattern.kind

    def describe(self) -> str:
        usage = f" ({self.usage} codes)" if self.usage else ""
        return f"{self.pattern}{usage}"


@dataclass(frozen=True)
class CharacterTest:
    """A test on the characters of a code (dots, X padding and ``-`` filler are not characters).

    ``present``: the code has a character at ``position``; otherwise the character there must be
    (``allowed=True``) or must not be (``allowed=False``) one of ``values`` (no character passes a
    ``not_in`` test and fails an ``in`` test)."""

    position: int
    present: bool = False
    values: tuple[str, ...] = ()
    allowed: bool = True

    def describe(self) -> str:
        nth = _ordinal(self.position)
        if self.present:
            return f"has a {nth} character"
        if self.allowed:
            listed = " or ".join(self.values) if len(self.values) < 3 else \
                ", ".join(self.values[:-1]) + " or " + self.values[-1]
            return f"has {listed} as its {nth} character"
        listed = ", ".join(self.values)
        return f"does not have {listed} as its {nth} character" if len(self.values) == 1 else \
            f"has none of {listed} as its {nth} character"


@dataclass(frozen=True)
class Relation:
    """Where other codes stand relative to the code: ``kind`` is one of ``SEQUENCE_RELATIONS``."""

    kind: str
    target: Selector
    within_block: bool = False

    def describe(self) -> str:
        words = self.kind.replace("_", " ")
        block = " in its OPCS-4 block" if self.within_block else ""
        return f"{words} {self.target.describe()}{block}"


@dataclass(frozen=True)
class CodeTest:
    """Codes matching ``selector`` tested one by one: ``every=False`` some such code passes every test;
    ``every=True`` all such codes pass (true when there is none).

    Tests on the code itself: ``position``, ``characters``, ``relation`` (the codes next to it);
    tests on the episode: ``coded_with`` holds, ``not_coded_with`` does not; an episode that has
    ``unless`` passes these two episode tests whatever they say."""

    selector: Selector
    every: bool = False
    position: str = "any"
    characters: tuple[CharacterTest, ...] = ()
    relation: Relation | None = None
    coded_with: Condition | None = None
    not_coded_with: Condition | None = None
    unless: Condition | None = None

    @property
    def kind(self) -> Kind:
        return self.selector.kind

    def tests(self) -> list[str]:
        out = []
        if self.position != "any":
            out.append(_is_at(self.kind, self.position))
        out += [t.describe() for t in self.characters]
        if self.relation is not None:
            out.append("is " + self.relation.describe())
        unless = f" unless there is {unparen(self.unless.describe())}" if self.unless is not None else ""
        if self.coded_with is not None:
            out.append(f"is coded with {unparen(self.coded_with.describe())}{unless}")
        if self.not_coded_with is not None:
            out.append(f"is not coded with {unparen(self.not_coded_with.describe())}{unless}")
        return out

    def describe(self) -> str:
        tests = " and ".join(self.tests())
        code = f"{self.kind.value} {self.selector.describe()}"
        if self.every:
            return f"every {code} {tests}" if tests else f"every {code}"
        return f"a {code} that {tests}" if tests else f"a {code}"


@dataclass(frozen=True)
class NotCodedTogether:
    """Codes from at most one of ``groups`` (each a pattern) in the episode."""

    groups: tuple[Pattern, ...]

    def describe(self) -> str:
        return "codes from at most one of " + "; ".join(str(g) for g in self.groups)


REFERENCE_CHECKS = ("invalid_code", "sex_conflict", "age_conflict")


@dataclass(frozen=True)
class ReferenceCheck:
    """A lookup in the classification tables the user brings (``audit.reference``).

    ``invalid_code``: some well-formed code is not in the classification, or is a category where the
    classification has codes below it; ``sex_conflict`` / ``age_conflict``: some code's sex or age
    restriction (ICD-10 GENDER_MASK, MIN_AGE, MAX_AGE) excludes the episode's sex or age."""

    check: str
    kind: Kind

    def describe(self) -> str:
        return {
            "invalid_code": f"a {self.kind.value} code that is not in the classification "
                            "(or a category that needs a fourth character)",
            "sex_conflict": f"a {self.kind.value} code restricted to the other sex than the episode's",
            "age_conflict": f"a {self.kind.value} code restricted to ages that exclude the episode's age",
        }[self.check]


def _is_at(kind: Kind, position: str) -> str:
    noun = "diagnosis" if kind is Kind.DIAGNOSIS else "procedure"
    if kind is Kind.PROCEDURE and position == "primary":
        return "is the main procedure"
    return {"primary": f"is the primary {noun}", "secondary": f"is a secondary {noun}",
            "first_secondary": f"is the first secondary {noun}",
            "primary_or_first_secondary": f"is the primary or first secondary {noun}"}[position]


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")


def unparen(text: str) -> str:
    """A description without its outer parentheses (for use on its own)."""
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]

    def describe(self) -> str:
        return "(" + " and ".join(c.describe() for c in self.items) + ")"


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]

    def describe(self) -> str:
        return "(" + " or ".join(c.describe() for c in self.items) + ")"


@dataclass(frozen=True)
class Not:
    item: Condition

    def describe(self) -> str:
        return f"not {self.item.describe()}"


Condition = HasCode | InBlock | Malformed | CodeTest | NotCodedTogether | ReferenceCheck | AllOf | AnyOf | Not


def walk(condition: Condition) -> Iterator[Condition]:
    """Every condition in the tree, the root first."""
    yield condition
    if isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from walk(item)
    elif isinstance(condition, Not):
        yield from walk(condition.item)
    elif isinstance(condition, CodeTest):
        for item in (condition.coded_with, condition.not_coded_with, condition.unless):
            if item is not None:
                yield from walk(item)


def patterns_of_node(c: Condition) -> Iterator[Pattern]:
    """The patterns of one node of the tree (not of its children)."""
    if isinstance(c, HasCode):
        yield c.pattern
    elif isinstance(c, InBlock):
        if c.main is not None:
            yield c.main
        yield from c.contains
        yield from c.must_contain
    elif isinstance(c, CodeTest):
        yield c.selector.pattern
        if c.relation is not None:
            yield c.relation.target.pattern
    elif isinstance(c, NotCodedTogether):
        yield from c.groups
    elif hasattr(c, "patterns"):  # a condition kind of its own module (audit.rules.tables ...)
        yield from c.patterns()


def patterns_of(condition: Condition) -> Iterator[Pattern]:
    """Every pattern the condition mentions (the codes a finding will point at)."""
    for c in walk(condition):
        yield from patterns_of_node(c)


def selectors_of(condition: Condition) -> Iterator[Selector]:
    """The codes the condition is about, as selectors (a finding's ``found`` lists them)."""
    for c in walk(condition):
        if isinstance(c, CodeTest):
            yield c.selector
            if c.relation is not None:
                yield c.relation.target
        elif getattr(c, "explains_findings", False):
            continue  # its findings show the codes it names itself (audit.rules.tables.explain)
        else:
            for p in patterns_of_node(c):
                yield Selector(p)


def reference_kinds(condition: Condition) -> set[Kind]:
    """The classifications whose reference tables the condition needs (empty: none).

    Dagger/asterisk ``usage`` is the ICD-10 table's USAGE (a code's own marker counts too), so a
    condition naming it needs that table."""
    kinds = {c.kind for c in walk(condition) if isinstance(c, ReferenceCheck)}
    if any(s.usage for s in selectors_of(condition)):
        kinds.add(Kind.DIAGNOSIS)
    return kinds


def every_block_tests(cond) -> list[InBlock]:
    """The ``every_block`` tests a rule's ``require`` holds at its top level (alone or in an ``all``): those a
    finding is the breach of."""
    if isinstance(cond, InBlock):
        return [cond] if cond.every else []
    if isinstance(cond, AllOf):
        return [t for item in cond.items for t in every_block_tests(item)]
    return []
