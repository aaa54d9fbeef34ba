"""Every rule carries passing and failing examples in its YAML; this runs them all (as sqlfluff does)."""

import pytest

from audit.rules import load_rules
from audit.rules.examples import run_examples

RULES = list(load_rules())


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_examples(rule):
    problems = [f"{rule.path}:{r.example.line}: {r.problem}" for r in run_examples(rule) if not r.ok]
    assert not problems, "\n".join(problems)


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
