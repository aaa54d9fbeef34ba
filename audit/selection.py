"""Which rules run, at what severity, and when a run fails.

Settings come from ``[tool.audit]`` (``audit.config.load_settings``) and the
command line, which wins key by key::

    [tool.audit]
    select = ["ALL"]            # rule ids or prefixes: "IPG327", "HTG532-01", "DATA"
    ignore = ["IPG446"]
    fail-on = "error"           # error | warning | info | never
    max-findings = 0            # fail when more than this many findings at or above fail-on

    [tool.audit.severity]
    "IPG406-02" = "warning"     # every finding of the matched rules gets this severity

Selectors work as in ruff: a rule is active when some ``select`` entry is a
prefix of its id, unless a ``ignore`` entry that is at least as specific (as
long) also is. ``ALL`` matches every rule. Severity overrides are matched the
same way, the longest matching key winning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from audit.errors import UserError
from audit.rules.model import SEVERITIES, Rule, RuleSet

if TYPE_CHECKING:
    import pandas as pd

FAIL_ON = (*SEVERITIES, "never")
ALL = "ALL"
_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # error 0, warning 1, info 2
_KEYS = {"select", "ignore", "severity", "fail-on", "max-findings"}


@dataclass(frozen=True)
class Settings:
    """Rule selection, severity overrides and the gate, resolved from config and command line."""

    select: tuple[str, ...] = (ALL,)
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    fail_on: str = "error"
    max_findings: int = 0


@dataclass(frozen=True)
class RuleStatus:
    """One loaded rule: whether it runs and the severity it runs at (None: as the rule file says)."""

    rule: Rule
    active: bool
    severity: str | None


def split_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """``("IPG327,HTG532-01", "DATA")`` -> ``("IPG327", "HTG532-01", "DATA")``, upper-cased."""
    out = []
    for value in values:
        out += [part.strip().upper() for part in str(value).split(",") if part.strip()]
    return tuple(out)


def parse_severity_options(values: Iterable[str]) -> dict[str, str]:
    """``--severity IPG406-02=warning`` (repeatable) as a mapping."""
    out = {}
    for value in values:
        selector, sep, severity = value.partition("=")
        if not sep or not selector.strip() or not severity.strip():
            raise UserError(f"--severity {value!r}: expected RULE=SEVERITY, e.g. IPG406-02=warning")
        out[selector.strip().upper()] = severity.strip().lower()
    return out


def resolve_settings(config: dict, *, select: Iterable[str] = (), ignore: Iterable[str] = (),
                     severity: dict[str, str] | None = None, fail_on: str | None = None,
                     max_findings: int | None = None) -> Settings:
    """Merge ``[tool.audit]`` with command-line values; a value given on the command line wins."""
    cfg = {str(k).replace("_", "-"): v for k, v in config.items() if str(k).replace("_", "-") in _KEYS}
    from audit.config import where as settings_where

    where = settings_where(config)
    cfg_select = _selector_list(cfg.get("select", [ALL]), f"{where} select")
    cfg_ignore = _selector_list(cfg.get("ignore", []), f"{where} ignore")
    raw_sev = cfg.get("severity", {})
    if not isinstance(raw_sev, dict):
        raise UserError(f'{where} severity must be a table such as {{ "IPG406-02" = "warning" }}')
    merged_sev = {str(k).upper(): str(v).lower() if isinstance(v, str) else v for k, v in raw_sev.items()}
    merged_sev.update(severity or {})
    for key, value in merged_sev.items():
        if value not in SEVERITIES:
            raise UserError(f"severity override {key} = {value!r}: must be one of {', '.join(SEVERITIES)}")
    gate = fail_on if fail_on is not None else cfg.get("fail-on", "error")
    if gate not in FAIL_ON:
        raise UserError(f"{'' if fail_on is not None else where + ' '}fail-on {gate!r}: must be one of "
                        f"{', '.join(FAIL_ON)}")
    limit = max_findings if max_findings is not None else cfg.get("max-findings", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise UserError(f"max-findings {limit!r}: must be a whole number, 0 or more")
    cli_select, cli_ignore = split_selectors(select), split_selectors(ignore)
    return Settings(select=cli_select or cfg_select, ignore=cli_ignore or cfg_ignore,
                    severity=merged_sev, fail_on=gate, max_findings=limit)


def _selector_list(value, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f'{what} must be a list of rule ids or prefixes, e.g. ["IPG327", "HTG532-01"]')
    return split_selectors(value)


def _specificity(rule_id: str, selectors: Iterable[str]) -> int:
    """Length of the longest selector matching ``rule_id`` (ALL counts 0); -1 when none does."""
    best = -1
    for sel in selectors:
        if sel == ALL:
            best = max(best, 0)
        elif rule_id.upper().startswith(sel):
            best = max(best, len(sel))
    return best


def _check_selectors(rules: RuleSet, selectors: Iterable[str], what: str) -> None:
    for sel in selectors:
        if sel != ALL and not any(r.id.upper().startswith(sel) for r in rules):
            raise UserError(f"{what}: no rule matches {sel!r} (see 'audit rules list')")


def rule_statuses(rules: RuleSet, settings: Settings) -> list[RuleStatus]:
    """Every loaded rule with whether it is active and its overridden severity; bad selectors exit 2."""
    _check_selectors(rules, settings.select, "select")
    _check_selectors(rules, settings.ignore, "ignore")
    _check_selectors(rules, settings.severity, "severity override")
    out = []
    for rule in rules:
        selected = _specificity(rule.id, settings.select)
        ignored = _specificity(rule.id, settings.ignore)
        active = selected >= 0 and selected > ignored
        override = None
        best = -1
        for key, severity in settings.severity.items():
            spec = _specificity(rule.id, [key])
            if spec > best:
                best, override = spec, severity
        out.append(RuleStatus(rule, active, override))
    return out


def apply_settings(rules: RuleSet, settings: Settings) -> RuleSet:
    """The active rules, each with its severity override applied (variants too)."""
    active = []
    for status in rule_statuses(rules, settings):
        if not status.active:
            continue
        rule = status.rule
        if status.severity is not None:
            rule = dataclasses.replace(
                rule, severity=status.severity,
                variants=tuple(dataclasses.replace(v, severity=status.severity) for v in rule.variants))
        active.append(rule)
    return RuleSet(active)


def gated_findings(tally: pd.DataFrame, fail_on: str) -> int:
    """How many findings are at or above the ``fail_on`` severity (``tally``: severity and findings
    columns, as ``audit.findings.Findings.tally`` gives them)."""
    if fail_on == "never" or not len(tally):
        return 0
    gated = tally["severity"].map(lambda s: _RANK.get(s, len(_RANK)) <= _RANK[fail_on]).to_numpy(dtype=bool)
    return int(tally["findings"].to_numpy()[gated].sum())


def exit_code(tally: pd.DataFrame, settings: Settings, exit_zero: bool = False) -> int:
    """0, or 1 when more than ``max_findings`` findings are at or above ``fail_on``."""
    if exit_zero:
        return 0
    return 1 if gated_findings(tally, settings.fail_on) > settings.max_findings else 0
