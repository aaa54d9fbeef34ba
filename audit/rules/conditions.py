"""What a rule condition means. How it is evaluated lives in ``audit.engine``.

Conditions hold on an episode or not. In YAML:

``diagnosis: C78.7`` / ``procedure: J12.4``
    some code of that classification matches the pattern; add
    ``position: primary`` (first) or ``position: secondary`` (any other).
``block: {main: J12.8, contains: Y12.3}``
    some OPCS-4 block whose main code matches ``main`` holds qualifiers
    matching every ``contains`` pattern (``main`` optional: any main code).
``every_block: {main: J12.4, contains: ..., must_contain: Y53.-}``
    every such block (true when there is none) also holds ``must_contain``.
``malformed: diagnosis`` / ``malformed: procedure``
    some value is not a well-formed code of that classification.
``all: [...]``, ``any: [...]``, ``not: {...}``
    composition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Union

from audit.codes import Kind
from audit.patterns import Pattern

POSITIONS = ("any", "primary", "secondary")


@dataclass(frozen=True)
class HasCode:
    """Some code of ``pattern.kind`` at ``position`` matches ``pattern``."""

    pattern: Pattern
    position: str = "any"

    def describe(self) -> str:
        where = {"any": "", "primary": " as the primary", "secondary": " in a secondary position"}[self.position]
        if self.pattern.kind is Kind.PROCEDURE and self.position == "primary":
            where = " as the main procedure"
        return f"{self.pattern.kind.value} {self.pattern}{where}"


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
        selected = f"block of {self.main}" if self.main else "block"
        if self.contains:
            selected += " with " + " and ".join(str(p) for p in self.contains)
        if not self.every:
            return f"a {selected}"
        return f"every {selected} also has " + " and ".join(str(p) for p in self.must_contain)


@dataclass(frozen=True)
class Malformed:
    """Some value in the episode's ``kind`` columns is not a well-formed code."""

    kind: Kind

    def describe(self) -> str:
        return f"a malformed {self.kind.value} code"


@dataclass(frozen=True)
class AllOf:
    items: tuple["Condition", ...]

    def describe(self) -> str:
        return "(" + " and ".join(c.describe() for c in self.items) + ")"


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Condition", ...]

    def describe(self) -> str:
        return "(" + " or ".join(c.describe() for c in self.items) + ")"


@dataclass(frozen=True)
class Not:
    item: "Condition"

    def describe(self) -> str:
        return f"not {self.item.describe()}"


Condition = Union[HasCode, InBlock, Malformed, AllOf, AnyOf, Not]


def walk(condition: Condition) -> Iterator[Condition]:
    """Every condition in the tree, the root first."""
    yield condition
    if isinstance(condition, (AllOf, AnyOf)):
        for item in condition.items:
            yield from walk(item)
    elif isinstance(condition, Not):
        yield from walk(condition.item)


def patterns_of(condition: Condition) -> Iterator[Pattern]:
    """Every pattern the condition mentions (the codes a finding will point at)."""
    for c in walk(condition):
        if isinstance(c, HasCode):
            yield c.pattern
        elif isinstance(c, InBlock):
            if c.main is not None:
                yield c.main
            yield from c.contains
            yield from c.must_contain
