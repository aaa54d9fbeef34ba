"""Every shipped rule's pass/fail examples behave as stated (reference rules with the fixture tables)."""

import pytest

from audit.reference import load_reference
from audit.rules import load_rules
from audit.rules.examples import run_examples
from tests.conftest import REPO

RULES = load_rules()
REFERENCE = load_reference(REPO / "tests" / "fixtures" / "reference")


@pytest.mark.parametrize("rule", list(RULES), ids=lambda r: r.id)
def test_examples(rule):
    results = run_examples(rule, REFERENCE)
    assert results, f"{rule.id} has no examples"
    problems = [f"{rule.path}:{r.example.line}: {r.problem}" for r in results if not r.ok or r.skipped]
    assert not problems, "\n".join(problems)


def test_reference_rules_are_skipped_without_tables():
    ref = [r for r in RULES if r.reference_kinds]
    assert {r.id for r in ref} == {"REF-01", "REF-02", "REF-03", "REF-04", "REF-05", "REF-06"}
    assert all(x.skipped and x.ok for r in ref for x in run_examples(r))
