"""Helpers for testing one condition or one rule written as YAML, on small episode frames."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from audit.engine import compile_rules, evaluate
from audit.rules.loader import load_rule_file
from audit.rules.model import Rule, RuleSet
from tests.conftest import episodes_frame


def rule_file(folder: Path, body: str, name: str = "rules.yaml") -> Path:
    path = Path(folder) / name
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def one_rule(folder: Path, require: str, when: str | None = None, extra: str = "") -> Rule:
    """A rule with ``require`` (and ``when``) given as YAML flow text, and a trivial example."""
    lines = [
        "ruleset: T",
        "source: {guidance: TEST, text: a test}",
        "rules:",
        "  - id: T-01",
        "    title: test rule",
        "    severity: error",
        f"    require: {require}",
        *([f"    when: {when}"] if when else []),
        *(f"    {line}" for line in extra.splitlines() if line.strip()),
        "    expected: something",
        "    message: \"found {found}\"",
        "    examples: {pass: [{diagnoses: []}], fail: [{diagnoses: []}]}",
    ]
    (rule,) = load_rule_file(rule_file(folder, "\n".join(lines)))
    return rule


def findings(rule: Rule, rows: list[dict], reference=None) -> pd.DataFrame:
    return evaluate(episodes_frame(rows), compile_rules(RuleSet([rule]), reference))


def holds(folder: Path, condition: str, rows: list[dict], reference=None) -> list[bool]:
    """Whether ``condition`` (YAML flow text) holds on each row, through the real engine."""
    rule = one_rule(folder, condition)
    rows = [{**r, "id": str(i)} for i, r in enumerate(rows)]
    failed = set(findings(rule, rows, reference)["episode_id"])
    return [str(i) not in failed for i in range(len(rows))]
