"""The new condition keys are validated with file:line errors; each becomes the condition it says."""

import pytest

from audit.errors import RuleFileError
from audit.rules import conditions as c
from tests.rules.ruletools import one_rule


@pytest.mark.parametrize("require, message", [
    ("{every_diagnosis: Z38}", "needs a test"),
    ("{diagnosis: Z38, position: third}", "position must be one of"),
    ("{diagnosis: Z38, procedure: J12.4}", "not several"),
    ("{diagnosis: Z38, colour: red}", "unknown key 'colour'"),
    ("{diagnosis: U07.5, directly_preceded_by: U07.1, followed_by: U07.2}", "give one of"),
    ("{diagnosis: U07.5, within_block: true, preceded_by: U07.1}", "'within_block' goes with a procedure"),
    ("{procedure: Y53, within_block: true}", "'within_block' goes with a procedure"),
    ("{procedure: Y53, preceded_by: J12.4, within_block: yes please}", "'within_block' takes true or false"),
    ("{diagnosis: S72, has_character: 6}", "'has_character' takes"),
    ("{procedure: J12, has_character: 5}", "'has_character' takes"),
    ("{diagnosis: M47, character: 5}", "needs one of 'in' or 'not_in'"),
    ("{diagnosis: M47, not_in: [2]}", "goes with 'character: N'"),
    ("{diagnosis: M47, character: 5, in: [22]}", "single characters"),
    ("{diagnosis: M47, character: 9, in: [2]}", "from 1 to 5"),
    ("{diagnosis: C81, unless: Z85}", "'unless' goes with"),
    ("{diagnosis: C81, coded_with: C77, not_coded_with: C78}", "not both"),
    ("{procedure: Y53, usage: dagger}", "'usage' takes dagger or asterisk"),
    ("{diagnosis: G01, usage: manifestation}", "'usage' takes dagger or asterisk"),
    ("{diagnosis: U07.5, preceded_by: {procedure: J12.4}}", "unknown key 'procedure' in a relation's target"),
    ("{diagnosis: U07.5, preceded_by: U07.9Q}", "not an ICD-10 code"),
    ("{position: primary}", "is a test on codes"),
    ("{not_coded_together: {diagnosis: [E10]}}", "at least two groups"),
    ("{not_coded_together: {diagnosis: [E10, E11], procedure: [J12, J13]}}", "one of diagnosis or procedure"),
    ("{sex_conflict: procedure}", "carry no sex or age limits"),
    ("{invalid_code: everything}", "'invalid_code' takes diagnosis or procedure"),
    ("{age_limit: diagnosis}", "unknown condition 'age_limit'"),
])
def test_bad_conditions_name_file_and_line(tmp_path, require, message):
    with pytest.raises(RuleFileError) as err:
        one_rule(tmp_path, require)
    assert message in str(err.value)
    assert err.value.line is not None and str(err.value).startswith(f"{tmp_path / 'rules.yaml'}:")


@pytest.mark.parametrize("extra, message", [
    ("enabled_by: Procurement Codes", "takes an option name"),
    ("enabled_by: a\ndisabled_by: b", "not both"),
])
def test_bad_options(tmp_path, extra, message):
    with pytest.raises(RuleFileError, match=message):
        one_rule(tmp_path, "{diagnosis: C78.7}", extra=extra)


def test_plain_code_condition_stays_a_has_code_test(tmp_path):
    rule = one_rule(tmp_path, "{diagnosis: Z38, position: first_secondary}")
    assert rule.require == c.HasCode(rule.require.pattern, "first_secondary")


def test_code_test_is_built_with_every_part(tmp_path):
    rule = one_rule(tmp_path, "{every_procedure: Y01-Y99, preceded_by: Z01-Z99, within_block: true, "
                              "character: 4, not_in: [0], coded_with: {diagnosis: C78.7}}")
    cond = rule.require
    assert isinstance(cond, c.CodeTest) and cond.every
    assert cond.relation.kind == "preceded_by" and cond.relation.within_block
    assert cond.characters == (c.CharacterTest(4, values=("0",), allowed=False),)
    assert isinstance(cond.coded_with, c.HasCode)
    assert "every procedure Y01-Y99 does not have 0 as its fourth character and is preceded by Z01-Z99 in its " \
           "OPCS-4 block and is coded with diagnosis C78.7" == cond.describe()


def test_reference_needs(tmp_path):
    assert one_rule(tmp_path, "{not: {invalid_code: procedure}}").reference_kinds == {c.Kind.PROCEDURE}
    assert one_rule(tmp_path, "{not: {diagnosis: A00-Z99, usage: asterisk, position: primary}}"
                    ).reference_kinds == {c.Kind.DIAGNOSIS}
    assert one_rule(tmp_path, "{diagnosis: C78.7}").reference_kinds == set()


def test_example_sex_and_age(tmp_path):
    from audit.rules.loader import load_rule_file
    from tests.rules.ruletools import rule_file
    path = rule_file(tmp_path, """
        source: {guidance: T, text: t}
        rules:
          - id: T-01
            title: t
            severity: error
            require: {diagnosis: C61}
            expected: e
            message: m
            examples:
              pass: [{diagnoses: [C61X], sex: 1, age: 7003}]
              fail: [{diagnoses: [I10X], sex: [1]}]
        """)
    with pytest.raises(RuleFileError, match=r"rules.yaml:11: example 'sex' must be a value"):
        load_rule_file(path)
