"""Precedence: a rule gives way to another on the same episode (unless_rule / supersedes)."""

import textwrap

import pytest

from audit.engine import compile_rules, evaluate
from audit.errors import RuleFileError
from audit.rules import load_rule_file, load_rules
from audit.rules.examples import run_examples
from audit.rules.model import RuleSet
from tests.conftest import episodes_frame

RULES = """\
ruleset: T
source: {guidance: T1, text: a test}
rules:
  - id: T-01
    title: a secondary without a primary
    severity: error
    require: {every_diagnosis: C77-C79, coded_with: "C00-C76, C80, Z85"}
    PRECEDENCE_1
    expected: a primary
    message: "found {found}"
    examples:
      pass: [{diagnoses: [C78.7, C18.7]}, {diagnoses: [C83.3, C77.2], note: "T-02 reports it"}]
      fail: [{diagnoses: [C78.7]}]
  - id: T-02
    title: a lymphoma with a secondary
    severity: error
    require: {every_diagnosis: C81-C96, not_coded_with: C77-C79, unless: "C00-C75, C80, Z85"}
    PRECEDENCE_2
    expected: no secondary
    message: "found {found}"
    examples:
      pass: [{diagnoses: [C83.3]}]
      fail: [{diagnoses: [C83.3, C77.2]}]
"""
EPISODES = [{"id": "lymphoma", "diagnoses": ["C83.3", "C77.2"]}, {"id": "secondary", "diagnoses": ["C78.7"]},
            {"id": "both", "diagnoses": ["C83.3", "C77.2", "C81.0"]}]


def load(tmp_path, first: str = "", second: str = "") -> list:
    text = RULES.replace("PRECEDENCE_1", first or "description: t").replace("PRECEDENCE_2", second or "description: t")
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_rule_file(path)


def found(rules) -> set:
    got = evaluate(episodes_frame(EPISODES), compile_rules(RuleSet(rules)))
    return set(zip(got["episode_id"], got["rule_id"]))


def test_without_precedence_one_defect_gets_two_findings(tmp_path):
    assert found(load(tmp_path)) == {("lymphoma", "T-01"), ("lymphoma", "T-02"), ("secondary", "T-01"),
                                     ("both", "T-01"), ("both", "T-02")}


@pytest.mark.parametrize("first, second", [("unless_rule: T-02", ""), ("", "supersedes: [T-01]")])
def test_the_rule_that_gives_way_keeps_its_findings_elsewhere(tmp_path, first, second):
    rules = load(tmp_path, first, second)
    assert found(rules) == {("lymphoma", "T-02"), ("secondary", "T-01"), ("both", "T-02")}
    assert found(rules[:1]) == {("lymphoma", "T-01"), ("secondary", "T-01"), ("both", "T-01")}  # T-02 not run
    assert all(r.ok for r in run_examples(rules[0], context=RuleSet(rules)))
    assert not all(r.ok for r in run_examples(rules[0]))  # alone, the lymphoma example fails


@pytest.mark.parametrize("first, problem", [
    ("unless_rule: T-01", "'unless_rule' names the rule itself"),
    ("unless_rule: t-02", "'unless_rule' takes a rule id or a list of them"),
    ("supersedes: [T-02, 3]", "'supersedes' takes a rule id or a list of them"),
])
def test_bad_precedence_names_the_line(tmp_path, first, problem):
    with pytest.raises(RuleFileError) as info:
        load(tmp_path, first)
    assert info.value.line == 8 and problem in str(info.value)


def test_shipped_lymphoma_rules_give_one_finding():
    rules = load_rules()
    assert rules.get("NAT-ICD-03").unless_rule == ("NAT-ICD-15",)
    shipped = [rules.get("NAT-ICD-03"), rules.get("NAT-ICD-15")]
    got = evaluate(episodes_frame([{"id": "a", "diagnoses": ["C83.3", "C77.2"]}]), compile_rules(RuleSet(shipped)))
    assert list(got["rule_id"]) == ["NAT-ICD-15"]


def test_shipped_ire_rules_one_finding_per_episode():
    """IRE (J12.8 + Y12.3) for liver metastases: IPG445-01 supersedes HTG532-02; primary liver cancer: HTG532-02."""
    rules = load_rules()
    shipped = RuleSet([rules.get("HTG532-02"), rules.get("IPG445-01")])
    ire = ["J12.8", "Y12.3", "Y53.4"]
    got = evaluate(episodes_frame([{"id": "metastases", "diagnoses": ["C18.7"], "procedures": ire},
                                   {"id": "primary", "diagnoses": ["K74.6"], "procedures": ire}]),
                   compile_rules(shipped))
    assert set(zip(got["episode_id"], got["rule_id"])) == {("metastases", "IPG445-01"), ("primary", "HTG532-02")}


def test_rules_show_says_which_rules_a_rule_gives_way_to():
    from click.testing import CliRunner

    from audit.cli import main

    assert "Gives way to IPG445-01: no finding on an episode where it has one." in \
        CliRunner().invoke(main, ["rules", "show", "HTG532-02"]).output  # IPG445-01 supersedes it
    shown = CliRunner().invoke(main, ["rules", "show", "IPG445-01"]).output
    assert "Supersedes HTG532-02: where this rule has a finding, that rule has none." in shown
    assert "Gives way to NAT-ICD-15" in CliRunner().invoke(main, ["rules", "show", "NAT-ICD-03"]).output
