"""Rules as loaded from YAML: what a rule checks, why, and its examples."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from audit.codes import Kind
from audit.rules.conditions import Condition, reference_kinds

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
    sex: str | None = None  # the episode's sex as HES writes it (1 male, 2 female, 9, 0)
    age: str | None = None  # the episode's age as HES STARTAGE writes it (7001-7007 under a year)
    specialty: str | None = None  # the episode's main specialty as HES MAINSPEF writes it (e.g. 501)
    admission_method: str | None = None  # as HES ADMIMETH writes it (e.g. 21 emergency via A&E)
    patient_class: str | None = None  # as HES CLASSPAT writes it (e.g. 2 day case)


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
    enabled_by: str = ""  # a local option that turns the rule on (off by default)
    disabled_by: str = ""  # a local option that turns the rule off (on by default)
    unless_rule: tuple[str, ...] = ()  # no finding on an episode where one of these rules has one
    supersedes: tuple[str, ...] = ()  # these rules have no finding on an episode where this one has one

    @property
    def conditions(self) -> list[Condition]:
        return [x for x in (self.when, self.require, *(v.when for v in self.variants)) if x is not None]

    @property
    def reference_kinds(self) -> set[Kind]:
        """The classifications whose reference tables (``--reference``) the rule needs."""
        return set().union(*(reference_kinds(x) for x in self.conditions))

    @property
    def option(self) -> str:
        return self.enabled_by or self.disabled_by

    def active(self, options: dict[str, bool]) -> bool:
        """Whether the rule runs with these local options (every option is off unless set)."""
        if self.enabled_by:
            return bool(options.get(self.enabled_by, False))
        if self.disabled_by:
            return not options.get(self.disabled_by, False)
        return True

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
