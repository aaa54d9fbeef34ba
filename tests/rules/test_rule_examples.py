"""Every rule carries passing and failing examples in its YAML; this runs them all (as sqlfluff does).

Rules that need reference tables run against the synthetic fixture tables.
"""

import pytest

from audit.reference import load_reference
from audit.rules import load_rules
from audit.rules.examples import run_examples
from tests.conftest import REPO

RULES = load_rules()
REFERENCE = load_reference(REPO / "tests" / "fixtures" / "reference")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples(rule):
    results = run_examples(rule, REFERENCE, RULES)  # with the rules it gives way to (unless_rule/supersedes)
    assert results, f"{rule.id} has no examples"
    problems = [f"{rule.path}:{r.example.line}: {r.problem}" for r in results if not r.ok or r.skipped]
    assert not problems, "\n".join(problems)


def test_reference_rules_are_skipped_without_tables():
    ref = [r for r in RULES if r.reference_kinds]
    # NAT-ICD-SEQ-13 (an asterisk code directly after its dagger) needs the ICD-10 table's USAGE too
    assert {r.id for r in ref} == {"REF-01", "REF-02", "REF-03", "REF-04", "REF-05", "REF-06", "NAT-ICD-SEQ-13"}
    assert all(x.skipped and x.ok for r in ref for x in run_examples(r))


def test_every_rule_has_both_kinds_of_example():
    for rule in RULES:
        assert any(e.expect_fail for e in rule.examples) and any(not e.expect_fail for e in rule.examples)


def test_fixed_rule_ids_exist():
    ids = {r.id for r in RULES}
    assert {"IPG327-01", "IPG327-02", "HTG532-01", "HTG532-02"} <= ids
    assert any(i.startswith("IPG406-") for i in ids) and any(i.startswith("IPG446-") for i in ids)


def test_optional_wording_is_never_an_error():
    """'may also be assigned' / 'if applicable' in the encoded sentence: never an error (issue 2, item 6)."""
    for rule in RULES:
        text = rule.source.text.lower()
        if rule.severity == "error" and "may also be assigned" in text:
            pytest.fail(f"{rule.id} encodes optional wording but is an error")
