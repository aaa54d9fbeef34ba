"""Run the pass/fail examples every rule carries, through the real engine."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from audit.episodes import END_DATE, episodes_from_lists
from audit.reference import ReferenceTables
from audit.rules.attributes import ATTRIBUTES
from audit.rules.model import Example, Rule, RuleSet
from audit.rules.options import missing_tables


@dataclass(frozen=True)
class ExampleResult:
    rule: Rule
    example: Example
    problem: str  # "" when the example behaves as stated
    skipped: bool = False  # the rule needs reference tables that were not given

    @property
    def ok(self) -> bool:
        return not self.problem


def examples_frame(examples: list[Example]) -> pd.DataFrame:
    """A canonical episode frame with one episode per example (ids ex1, ex2, ...)."""
    attributes = {END_DATE: pd.to_datetime(pd.Series([e.end_date for e in examples], dtype=object))}
    for attribute in ATTRIBUTES:  # only when some example gives them, as an extract may not
        if any(getattr(e, attribute) is not None for e in examples):
            attributes[attribute] = [getattr(e, attribute) or "" for e in examples]
    return episodes_from_lists(
        [f"ex{i + 1}" for i in range(len(examples))], [list(e.diagnoses) for e in examples],
        [list(e.procedures) for e in examples], attributes)


def run_examples(rule: Rule, reference: ReferenceTables | None = None,
                 context: RuleSet | None = None) -> list[ExampleResult]:
    """Evaluate each example of ``rule`` and say whether it passes or fails as stated: alone, or with the
    rules of ``context`` it gives way to (``unless_rule`` / ``supersedes``: ``audit.rules.precedence``).

    A rule that needs reference tables (``--reference``) is skipped without them."""
    from audit.engine import compile_rules, evaluate  # the engine imports the rule model
    from audit.rules.precedence import linked_rules

    examples = list(rule.examples)
    if missing_tables(rule, reference):
        return [ExampleResult(rule, e, "", skipped=True) for e in examples]
    linked = [r for r in linked_rules(rule, context or []) if not missing_tables(r, reference)]
    findings = evaluate(examples_frame(examples), compile_rules(RuleSet([rule, *linked]), reference))
    findings = findings[findings["rule_id"] == rule.id]
    results = []
    for i, example in enumerate(examples):
        got = findings[findings["episode_id"] == f"ex{i + 1}"]
        if example.expect_fail and got.empty:
            problem = "expected to fail but passed"
        elif not example.expect_fail and not got.empty:
            problem = f"expected to pass but failed: {got['message'].iloc[0]}"
        elif example.severity and got["severity"].iloc[0] != example.severity:
            problem = f"expected severity {example.severity}, got {got['severity'].iloc[0]}"
        else:
            problem = ""
        results.append(ExampleResult(rule, example, problem))
    return results


def run_all_examples(rules: RuleSet, reference: ReferenceTables | None = None) -> list[ExampleResult]:
    return [r for rule in rules for r in run_examples(rule, reference, rules)]
