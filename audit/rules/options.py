"""Which rules run: local options (``[tool.audit.options]``, ``--option``) and the reference tables given.

A rule with ``enabled_by: NAME`` runs only when option NAME is on; one with
``disabled_by: NAME`` runs unless it is on. Every option is off unless the
project settings or the command line turn it on::

    [tool.audit.options]
    procurement_codes_collected = true

A rule that needs reference tables (``invalid_code``, ``sex_conflict``,
``age_conflict``) is skipped when they were not given; the run says so once.
"""

from __future__ import annotations

import difflib

from audit.codes import Kind
from audit.errors import UserError
from audit.extract.columns import DEFAULT_NAMES
from audit.reference import NAMES, ReferenceTables
from audit.rules import conditions as c
from audit.rules.model import Rule, RuleSet

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def option_names(rules: RuleSet) -> list[str]:
    """The local options the rules know, sorted."""
    return sorted({r.option for r in rules if r.option})


def resolve_options(rules: RuleSet, settings: object = None, cli: tuple[str, ...] | list[str] = (),
                    also_known: list[str] | tuple[str, ...] = (),
                    options_where: str = "[tool.audit.options]") -> dict:
    """Option values from ``[tool.audit.options]`` then ``--option NAME=VALUE`` (which wins); names checked
    against the options the rules know (and ``also_known``: the shipped rules' options, so settings
    written for every ruleset still work when a run loads only some)."""
    known = sorted(set(option_names(rules)) | set(also_known))
    values: dict[str, bool] = {}
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise UserError("[tool.audit.options] must be a table of NAME = true/false")
    pairs = [(str(k), v, options_where) for k, v in settings.items()]
    for item in cli:
        name, sep, value = str(item).partition("=")
        if not sep:
            raise UserError(f"--option {item!r}: expected NAME=VALUE, e.g. procurement_codes_collected=true")
        pairs.append((name.strip(), value.strip(), "--option"))
    for name, value, where in pairs:
        if name not in known:
            hint = ", ".join(known) if known else "none in the loaded rules"
            near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            guess = f"; did you mean {near[0]}?" if near else ""
            raise UserError(f"{where}: unknown option {name!r}{guess} (known options: {hint})")
        values[name] = _boolean(value, f"{where} {name}")
    return values


def _boolean(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UserError(f"{where}: expected true or false, not {value!r}")


def missing_tables(rule: Rule, reference: ReferenceTables | None) -> set[Kind]:
    """The classifications whose reference tables ``rule`` needs and ``reference`` lacks (all it needs
    when no tables were given)."""
    return rule.reference_kinds - (reference.kinds if reference is not None else set())


def select_rules(rules: RuleSet, options: dict | None = None,
                 reference: ReferenceTables | None = None) -> tuple[RuleSet, list[str]]:
    """The rules that run, and one note for each kind of rule left out (options, missing tables)."""
    options = options or {}
    keep, off, unreferenced = [], [], []
    missing: set[Kind] = set()
    for rule in rules:
        if not rule.active(options):
            off.append(rule)
        elif lacking := missing_tables(rule, reference):
            unreferenced.append(rule)
            missing |= lacking
        else:
            keep.append(rule)
    notes = []
    if unreferenced:
        tables = " and ".join(NAMES[k] for k in sorted(missing, key=lambda k: k.value))
        ids = ", ".join(r.id for r in unreferenced)
        notes.append(f"{tables} reference tables not given (--reference DIR): {len(unreferenced)} "
                     f"check{'s' if len(unreferenced) > 1 else ''} against the classification skipped ({ids})")
    if off:
        parts = [f"{r.id} (on when {r.enabled_by} is set)" if r.enabled_by else
                 f"{r.id} (off because {r.disabled_by} is set)" for r in off]
        notes.append(f"{len(off)} rule{'s' if len(off) > 1 else ''} off by local options: {', '.join(parts)}")
    return RuleSet(keep), notes


_ATTRIBUTES = {"sex_conflict": "sex", "age_conflict": "age"}  # check -> the attribute it compares with


def attribute_notes(rules: RuleSet, columns: set[str]) -> list[str]:
    """Notes for sex/age checks that had nothing to compare with: the extract has no such column."""
    notes = []
    for check, column in _ATTRIBUTES.items():
        users = [r.id for r in rules if any(isinstance(x, c.ReferenceCheck) and x.check == check
                                            for cond in r.conditions for x in c.walk(cond))]
        if users and column not in columns:
            notes.append(f"the extract has no {DEFAULT_NAMES[column][0]} column: {', '.join(users)} "
                         "found nothing to check")
    return notes
