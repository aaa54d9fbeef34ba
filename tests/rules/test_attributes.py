"""Conditions on the episode's sex, age and main specialty; rules that need a column the extract lacks."""

import subprocess
import sys

import pytest

from audit.errors import RuleFileError
from audit.rules import load_rules
from audit.rules.attributes import rules_for_columns
from tests.rules.ruletools import holds, one_rule


@pytest.mark.parametrize("condition, rows, expected", [
    ("{sex: male}", [{"sex": "1"}, {"sex": "2"}, {"sex": "M"}, {"sex": "9"}, {"sex": None}],
     [True, False, True, False, False]),
    ("{not: {sex: female}}", [{"sex": "1"}, {"sex": "2"}, {"sex": "0"}], [True, False, True]),
    ("{age: {max: 0}}", [{"age": "7001"}, {"age": "7007"}, {"age": "1"}, {"age": ""}, {"age": "999"}],
     [True, True, False, False, False]),
    ("{age: {min: 16, max: 64}}", [{"age": "15"}, {"age": "16"}, {"age": "64"}, {"age": "65"}],
     [False, True, True, False]),
    ("{specialty: [501, 560]}", [{"specialty": "501"}, {"specialty": " 560 "}, {"specialty": "300"},
                                 {"specialty": None}], [True, True, False, False]),
])
def test_attribute_conditions(tmp_path, condition, rows, expected):
    rows = [{**r, "diagnoses": ["I10X"]} for r in rows]
    assert holds(tmp_path, condition, rows) == expected


def test_an_attribute_the_frame_has_no_column_for_matches_nothing(tmp_path):
    assert holds(tmp_path, "{sex: male}", [{"diagnoses": ["I10X"]}]) == [False]


@pytest.mark.parametrize("condition, problem", [
    ("{sex: 1}", "'sex' takes male or female"),
    ("{age: 3}", "'age' takes {min: YEARS, max: YEARS}"),
    ("{age: {min: 5, max: 2}}", "age 'min' is above 'max'"),
    ("{age: {under: 2}}", "'age' takes {min: YEARS, max: YEARS}"),
    ("{age: {max: -1}}", "age 'max' takes a number of years from 0 to 150"),
    ("{specialty: []}", "'specialty' takes a main specialty code"),
])
def test_bad_attribute_conditions_name_the_line(tmp_path, condition, problem):
    with pytest.raises(RuleFileError) as info:
        one_rule(tmp_path, condition)
    assert info.value.line == 7 and problem in str(info.value)


def test_describe_reads_as_a_sentence(tmp_path):
    assert one_rule(tmp_path, "{not: {age: {min: 1}}}").require.describe() == \
        "not the patient is at least 1 year old"
    assert one_rule(tmp_path, "{age: {max: 0}}").require.describe() == "the patient is under one year old"


def test_rules_reading_a_missing_column_are_left_out_with_a_note():
    rules = load_rules()
    keep, out, note = rules_for_columns(rules, {"episode_id", "diag_01", "age"})
    assert {r.id for r in out} == {"NAT-ICD-CTX-02", "NAT-ICD-CTX-03"}
    assert note == ("the extract has no SEX (sex) column: 2 rules that need it could not apply "
                    "(NAT-ICD-CTX-02, NAT-ICD-CTX-03)")
    assert len(keep) + len(out) == len(rules)
    assert rules_for_columns(rules, {"sex", "age"})[1:] == ([], None)


def test_a_run_without_the_column_says_which_rules_could_not_apply(tmp_path):
    import json

    extract = tmp_path / "x.csv"
    extract.write_text("EPIKEY,STARTAGE,DIAG_01,DIAG_02\n1,34,Z38.0,\n2,30,N81.2,\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "audit", "run", str(extract), "--format", "json"],
                          capture_output=True, text=True, check=False)
    summary = json.loads(proc.stdout)["summary"]
    assert {"NAT-ICD-CTX-02", "NAT-ICD-CTX-03"} <= set(summary["rules_not_applicable"])
    assert any(n.startswith("the extract has no SEX (sex) column: 2 rules") for n in summary["notes"])
    findings = {(f["episode_id"], f["rule_id"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("1", "NAT-ICD-CTX-04") in findings  # age is there: Z38 at 34 is reported
