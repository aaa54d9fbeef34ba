"""Named code sets: defined once in a rule file (``codesets:``), used as ``@name`` by its rules."""

import textwrap

import pytest

from audit.errors import RuleFileError
from audit.rules import load_rule_file
from audit.rules.examples import run_examples
from tests.rules.ruletools import findings

RULES = """\
ruleset: T
source: {guidance: T1, text: a test}
codesets:
  sepsis: "A40, A41, B37.7"
  after_sepsis: ["@sepsis", T81.4]
  obstetric: O00-O99
rules:
  - id: T-01
    title: R65.1 not after sepsis
    severity: error
    require: {every_diagnosis: R65.1, directly_preceded_by: "@after_sepsis"}
    expected: R65.1 after its sepsis code
    message: "found {found}"
    examples:
      pass: [{diagnoses: [B37.7, R65.1]}, {diagnoses: [T81.4, R65.1]}]
      fail: [{diagnoses: [R65.1]}, {diagnoses: [B37.9, R65.1]}]
  - id: T-02
    title: Diabetes in an obstetric episode
    severity: error
    require: {every_diagnosis: "E10, E11", not_coded_with: "@obstetric"}
    expected: O24
    message: "found {found}"
    examples:
      pass: [{diagnoses: [E11.9]}]
      fail: [{diagnoses: [O26.8, E11.9]}]
"""


def write(tmp_path, text):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_set_is_expanded_where_it_is_used_and_keeps_its_name(tmp_path):
    one, two = load_rule_file(write(tmp_path, RULES))
    target = one.require.relation.target.pattern
    assert target.text == "@after_sepsis (A40, A41, B37.7, T81.4)"
    assert "@after_sepsis (A40, A41, B37.7, T81.4)" in one.require.describe()
    assert all(r.ok for rule in (one, two) for r in run_examples(rule))
    got = findings(one, [{"id": "a", "diagnoses": ["B37.7", "R65.1"]}, {"id": "b", "diagnoses": ["A39.0", "R65.1"]}])
    assert list(got["episode_id"]) == ["b"]


def test_an_unknown_set_names_file_line_and_the_sets_there(tmp_path):
    path = write(tmp_path, RULES.replace('"@after_sepsis"', '"@sepis"'))
    with pytest.raises(RuleFileError) as info:
        load_rule_file(path)
    assert str(info.value) == f"{path}:11: unknown code set '@sepis' (code sets of this file: after_sepsis, " \
                              "obstetric, sepsis)"


@pytest.mark.parametrize("definition, line, problem", [
    ('  Sepsis: "A40"', 4, "code set name 'Sepsis' must be lower case"),
    ('  sepsis: "A40, 020"', 4, "code set 'sepsis': '020' in pattern 'A40, 020' is not an ICD-10 code"),
    ("  sepsis: \"@sepsis\"", 4, "refers to itself"),
    ("  sepsis: \"@nothing\"", 4, "unknown code set '@nothing'"),
    ("  sepsis: 12", 4, "code set 'sepsis' must be codes"),
])
def test_a_bad_set_names_its_own_line(tmp_path, definition, line, problem):
    text = RULES.replace('  sepsis: "A40, A41, B37.7"', definition).replace('"@sepsis", ', "")
    with pytest.raises(RuleFileError) as info:
        load_rule_file(write(tmp_path, text))
    assert info.value.line == line and problem in str(info.value)


def test_sets_belong_to_their_file(tmp_path):
    """The same name in two files means each file's own codes (the engine keys patterns by their codes)."""
    from audit.engine import compile_rules
    from audit.rules.model import RuleSet

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = load_rule_file(write(tmp_path / "a", RULES))
    b = load_rule_file(write(tmp_path / "b", RULES.replace('"A40, A41, B37.7"', '"A40"').replace("T-0", "U-0")
                             .replace("{diagnoses: [B37.7, R65.1]}, ", "").replace("{diagnoses: [R65.1]}, ",
                                                                                  "{diagnoses: [B37.7, R65.1]}, ")))
    compiled = compile_rules(RuleSet([*a, *b]))
    texts = {p.text for p in compiled.patterns[a[0].require.kind]}
    assert {"@after_sepsis (A40, A41, B37.7, T81.4)", "@after_sepsis (A40, T81.4)"} <= texts
    assert all(r.ok for rule in b for r in run_examples(rule))
