"""Precedence between rules: one defect, one finding.

::

    - id: NAT-ICD-03
      unless_rule: NAT-ICD-15        # no finding on an episode where NAT-ICD-15 has one
    - id: HTG532-02
      supersedes: [IPG445-02]        # IPG445-02 has no finding on an episode where this rule has one

A rule that gives way to another (``unless_rule`` on it, or ``supersedes`` on the other) keeps its
findings on every episode where the other rule has none; only the same episode's finding is dropped.
Whether the other rule fires is decided before any precedence (so a chain A -> B -> C leaves C's
finding alone, and drops A's and B's where C and B fire). A rule that is not in the run (switched off,
not selected, left out) takes nothing away. Episodes are compared as sorted row arrays of the chunk:
no loop over episodes.
"""

from __future__ import annotations

import numpy as np


def gives_way_to(rules) -> dict[str, tuple[str, ...]]:
    """Rule id -> the ids of the rules it gives way to, for the rules of a run (those present only)."""
    ids = {r.id for r in rules}
    out: dict[str, set[str]] = {r.id: set(r.unless_rule) for r in rules}
    for r in rules:
        for other in r.supersedes:
            if other in out:
                out[other].add(r.id)
    return {rid: tuple(sorted(x for x in others if x in ids and x != rid)) for rid, others in out.items() if others}


def apply(failing: list, compiled) -> list:
    """``failing``: (rule number, rule, targets, flagged rows) per rule with findings in a chunk; the same with
    each rule's rows where a rule it gives way to also fired taken out (rules left without rows dropped)."""
    memo = compiled._memos
    if "precedence" not in memo:
        memo["precedence"] = gives_way_to(compiled.rules)
    links = memo["precedence"]
    if not links:
        return failing
    fired = {rule.id: rows for _, rule, _, rows in failing}
    out = []
    for number, rule, targets, rows in failing:
        for other in links.get(rule.id, ()):
            if other in fired:
                rows = rows[~np.isin(rows, fired[other], assume_unique=True)]
        if rows.size:
            out.append((number, rule, targets, rows))
    return out


def linked_rules(rule, rules) -> list:
    """The rules of ``rules`` that ``rule`` gives way to (its examples run with them)."""
    return [r for r in rules if r.id != rule.id and (r.id in rule.unless_rule or rule.id in r.supersedes)]
