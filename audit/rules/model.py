"""Rules as loaded from YAML: what a rule checks, why, and its examples."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from audit.rules.conditions import Condition

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Source:
    """The guidance a rule encodes: id, title, URL, date and the sentence itself."""

    guidance: str
    title: str = ""
    url: str = ""
    date: str = ""
    text: str = ""
    replaces: str = ""
    note: str = ""


@dataclass(frozen=True)
class Variant:
    """A different severity/message for failing episodes that also match ``when``."""

    when: Condition
    severity: str
    message: str
    expected: str


@dataclass(frozen=True)
class Example:
    """An episode given in a rule file that must pass or fail the rule."""

    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...]
    end_date: str | None
    expect_fail: bool
    severity: str | None  # for a failing example: the severity it must get
    note: str
    line: int


@dataclass(frozen=True)
class Rule:
    """A declarative coding rule: episodes matching ``when`` must satisfy ``require``."""

    id: str
    title: str
    severity: str
    source: Source
    require: Condition
    message: str
    expected: str
    when: Condition | None = None
    description: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    variants: tuple[Variant, ...] = ()
    examples: tuple[Example, ...] = ()
    ruleset: str = ""
    path: str = ""
    line: int = 0

    @property
    def severities(self) -> tuple[str, ...]:
        """Every severity a finding of this rule can have."""
        return tuple(dict.fromkeys([self.severity, *(v.severity for v in self.variants)]))


@dataclass
class RuleSet:
    """The rules of one run, in a stable order (by id)."""

    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self):
        self.rules = sorted(self.rules, key=lambda r: r.id)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id.upper() == rule_id.upper()), None)
