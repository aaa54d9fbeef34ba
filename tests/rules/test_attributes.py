"""Conditions on the episode's sex, age, main specialty, admission method and patient classification; rules
that need a column the extract lacks."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.errors import RuleFileError
from audit.rules import load_rules
from audit.rules.attributes import rules_for_columns
from audit.rules.examples import run_examples
from audit.rules.loader import load_rule_file
from tests.rules.ruletools import holds, one_rule, rule_file


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
    ("{admission_method: [82, 83]}", [{"admission_method": "82"}, {"admission_method": " 83"},
                                      {"admission_method": "82.0"}, {"admission_method": "21"},
                                      {"admission_method": None}, {"admission_method": "99"}],
     [True, True, True, False, False, False]),
    ("{admission_method: [2A, 21]}", [{"admission_method": "2a"}, {"admission_method": "2B"},
                                      {"admission_method": "21"}], [True, False, True]),
    ("{patient_class: [2]}", [{"patient_class": "2"}, {"patient_class": "1"}, {"patient_class": "3"},
                              {"patient_class": ""}, {"patient_class": "9"}],
     [True, False, False, False, False]),
    ("{not: {patient_class: [1]}}", [{"patient_class": "1"}, {"patient_class": "2"}, {"patient_class": None}],
     [False, True, True]),
])
def test_attribute_conditions(tmp_path, condition, rows, expected):
    rows = [{**r, "diagnoses": ["I10X"]} for r in rows]
    assert holds(tmp_path, condition, rows) == expected


def test_an_attribute_the_frame_has_no_column_for_matches_nothing(tmp_path):
    assert holds(tmp_path, "{sex: male}", [{"diagnoses": ["I10X"]}]) == [False]
    assert holds(tmp_path, "{patient_class: [2]}", [{"diagnoses": ["I10X"]}]) == [False]


def test_two_attributes_with_the_same_values_are_kept_apart(tmp_path):
    # each is worked out once a chunk (the chunk's memo): the same values of another column are another test
    rows = [{"diagnoses": ["I10X"], "admission_method": "22", "specialty": "501"}]
    assert holds(tmp_path, "{all: [{specialty: [501]}, {admission_method: [22]}]}", rows) == [True]
    assert holds(tmp_path, "{all: [{specialty: [22]}, {admission_method: [22]}]}", rows) == [False]


@pytest.mark.parametrize("condition, problem", [
    ("{sex: 1}", "'sex' takes male or female"),
    ("{age: 3}", "'age' takes {min: YEARS, max: YEARS}"),
    ("{age: {min: 5, max: 2}}", "age 'min' is above 'max'"),
    ("{age: {under: 2}}", "'age' takes {min: YEARS, max: YEARS}"),
    ("{age: {max: -1}}", "age 'max' takes a number of years from 0 to 150"),
    ("{specialty: []}", "'specialty' takes a main specialty code"),
    ("{admission_method: []}", "'admission_method' takes HES ADMIMETH codes"),
    ("{admission_method: [2]}", "HES ADMIMETH codes, e.g. [21, 22, 2A] (two characters)"),
    ("{admission_method: [emergency]}", "'admission_method' takes HES ADMIMETH codes"),
    ("{admission_method: {min: 21}}", "'admission_method' takes HES ADMIMETH codes"),
    ("{patient_class: [6]}", "'patient_class' takes HES CLASSPAT values 1 to 5"),
    ("{patient_class: day case}", "2 day case, 3 regular day attender"),
    ("{patient_class: [true]}", "'patient_class' takes HES CLASSPAT values 1 to 5"),
])
def test_bad_attribute_conditions_name_the_line(tmp_path, condition, problem):
    with pytest.raises(RuleFileError) as info:
        one_rule(tmp_path, condition)
    assert info.value.line == 7 and problem in str(info.value)


def test_a_bad_condition_in_a_when_names_the_file_and_its_line(tmp_path):
    path = rule_file(tmp_path, """
        ruleset: T
        source: {guidance: TEST, text: a test}
        rules:
          - id: T-01
            title: test rule
            severity: error
            when:
              all:
                - {procedure: J10.3}
                - {patient_class: [day case]}
            require: {procedure: X72}
            expected: something
            message: "found {found}"
            examples: {pass: [{diagnoses: []}], fail: [{diagnoses: []}]}
    """)
    with pytest.raises(RuleFileError) as info:
        load_rule_file(path)
    assert str(info.value.path) == str(path) and info.value.line == 10
    assert str(info.value).startswith(f"{path}:10: 'patient_class' takes HES CLASSPAT values 1 to 5")


def test_describe_reads_as_a_sentence(tmp_path):
    assert one_rule(tmp_path, "{not: {age: {min: 1}}}").require.describe() == \
        "not the patient is at least 1 year old"
    assert one_rule(tmp_path, "{age: {max: 0}}").require.describe() == "the patient is under one year old"
    assert one_rule(tmp_path, "{admission_method: [82, 83]}").require.describe() == \
        "the admission method is 82 or 83"
    assert one_rule(tmp_path, "{patient_class: [2]}").require.describe() == \
        "the patient classification is day case (2)"
    assert one_rule(tmp_path, "{patient_class: [3, 4]}").require.describe() == \
        "the patient classification is regular day attender (3) or regular night attender (4)"
    assert one_rule(tmp_path, "{specialty: [501]}").require.describe() == "the main specialty is 501"


EXAMPLES_RULE = """
    ruleset: T
    source: {guidance: TEST, text: a test}
    rules:
      - id: T-01
        title: a birth episode records Z38
        severity: error
        when: {admission_method: [82, 83]}
        require: {diagnosis: Z38}
        expected: a Z38 code
        message: "found {found}"
        examples:
          pass:
            - {diagnoses: [Z38.0], admission_method: 82}
            - {diagnoses: [P07.3], admission_method: 11}
            - {diagnoses: [P07.3]}
          fail:
            - {diagnoses: [P07.3], admission_method: "83", patient_class: 1}
"""


def test_examples_give_admission_method_and_patient_class(tmp_path):
    (rule,) = load_rule_file(rule_file(tmp_path, EXAMPLES_RULE))
    assert [(e.admission_method, e.patient_class) for e in rule.examples] == \
        [("82", None), ("11", None), (None, None), ("83", "1")]
    assert [r.problem for r in run_examples(rule)] == ["", "", "", ""]
    body = EXAMPLES_RULE.replace("[Z38.0], admission_method: 82", "[P07.3], admission_method: 82")
    wrong = rule_file(tmp_path, body, "wrong.yaml")
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(wrong)])
    assert result.exit_code == 1
    assert "wrong.yaml:13: T-01 pass example: expected to pass but failed" in result.output


@pytest.mark.parametrize("example, problem", [
    ("{diagnoses: [Z38.0], patient_class: [2]}", "example 'patient_class' must be a value as the extract"),
    ("{diagnoses: [Z38.0], admission_method: ''}", "example 'admission_method' must be a value"),
    ("{diagnoses: [Z38.0], admission: 82}", "admission"),
])
def test_bad_example_attributes_name_the_line(tmp_path, example, problem):
    body = EXAMPLES_RULE.replace('{diagnoses: [P07.3], admission_method: "83", patient_class: 1}', example)
    with pytest.raises(RuleFileError) as info:
        load_rule_file(rule_file(tmp_path, body))
    assert info.value.line == 17 and problem in str(info.value)


def test_rules_reading_a_missing_column_are_left_out_with_a_note():
    rules = load_rules()
    keep, out, note = rules_for_columns(rules, {"episode_id", "diag_01", "age", "patient_class"})
    assert {r.id for r in out} == {"NAT-ICD-CTX-02", "NAT-ICD-CTX-03"}
    assert note == ("the extract has no SEX (sex) column: 2 rules that need it could not apply "
                    "(NAT-ICD-CTX-02, NAT-ICD-CTX-03)")
    assert len(keep) + len(out) == len(rules)
    assert rules_for_columns(rules, {"sex", "age", "patient_class"})[1:] == ([], None)
    _, out, note = rules_for_columns(rules, {"sex", "age"})
    assert [r.id for r in out] == ["IPG488-04"]
    assert note == ("the extract has no CLASSPAT (patient_class) column: 1 rule that needs it could not "
                    "apply (IPG488-04)")
    _, _, note = rules_for_columns(rules, {"age"})
    assert note.startswith("the extract has no SEX (sex) or CLASSPAT (patient_class) column: 3 rules that "
                           "need them could not apply (")


def test_a_run_without_the_column_says_which_rules_could_not_apply(tmp_path):
    extract = tmp_path / "x.csv"
    extract.write_text("EPIKEY,STARTAGE,CLASSPAT,DIAG_01,DIAG_02\n1,34,1,Z38.0,\n2,30,1,N81.2,\n",
                       encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "audit", "run", str(extract), "--format", "json"],
                          capture_output=True, text=True, check=False)
    summary = json.loads(proc.stdout)["summary"]
    assert {"NAT-ICD-CTX-02", "NAT-ICD-CTX-03"} <= set(summary["rules_not_applicable"])
    assert any(n.startswith("the extract has no SEX (sex) column: 2 rules") for n in summary["notes"])
    findings = {(f["episode_id"], f["rule_id"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("1", "NAT-ICD-CTX-04") in findings  # age is there: Z38 at 34 is reported


# Chemosaturation (J10.3 with X33.8) without X72: IPG488-04 asks for X72 in a day case (CLASSPAT 2).
CHEMOSATURATION = "J10.3,Y53.2,Z37.6,X33.8"
BIRTHS = """
    ruleset: LOCAL
    source: {guidance: LOCAL, text: a local rule}
    rules:
      - id: LOCAL-01
        title: A birth episode without a Z38 place of birth code
        severity: warning
        when: {admission_method: [82, 83]}
        require: {diagnosis: Z38}
        expected: a Z38 code
        message: "Birth episode without Z38 (found {found})"
        examples:
          pass: [{diagnoses: [Z38.0], admission_method: 82}]
          fail: [{diagnoses: [P07.3], admission_method: 83}]
"""


def _run(*args):
    result = CliRunner().invoke(main, ["run", *map(str, args), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_admission_method_and_patient_class_through_audit_run(tmp_path):
    extract = tmp_path / "hes.csv"
    extract.write_text(
        "EPIKEY,ADMIMETH,CLASSPAT,DIAG_01,OPERTN_01,OPERTN_02,OPERTN_03,OPERTN_04,OPERTN_05\n"
        f"D1,11,2,C78.7,{CHEMOSATURATION},\n"           # a day case without X72
        f"D2,11,2,C78.7,{CHEMOSATURATION},X72.1\n"      # a day case with it
        f"O3,21,1,C78.7,{CHEMOSATURATION},\n"           # an ordinary admission: not asked for
        f"R4,13,3,C78.7,{CHEMOSATURATION},\n"           # a regular day attender: not a day case
        "B5,82,1,P07.3,,,,,\n"                         # a birth without Z38
        "B6,83,1,Z38.1,,,,,\n"
        "B7,2A,1,P07.3,,,,,\n",
        encoding="utf-8")
    doc = _run(extract, "--extend-rules", rule_file(tmp_path, BIRTHS, "births.yaml"))
    found = {(f["episode_id"], f["rule_id"]) for f in doc["findings"]}
    assert {k for k in found if k[1] in ("IPG488-04", "LOCAL-01")} == \
        {("D1", "IPG488-04"), ("B5", "LOCAL-01")}
    (finding,) = [f for f in doc["findings"] if f["rule_id"] == "IPG488-04"]
    assert finding["severity"] == "warning"
    # read for the rules only: the findings carry the attributes they always did
    assert not {"admission_method", "patient_class"} & set(finding)
    assert "IPG488-04" not in doc["summary"]["rules_not_applicable"]
    assert not any("CLASSPAT" in n or "ADMIMETH" in n for n in doc["summary"]["notes"])


def test_local_column_names_by_option_and_settings(tmp_path):
    extract = tmp_path / "pas.csv"
    extract.write_text("Episode No,How Admitted,Class,Dx1,Proc1,Proc2,Proc3,Proc4\n"
                       f"E1,82,2,P07.3,{CHEMOSATURATION}\n", encoding="utf-8")
    births = rule_file(tmp_path, BIRTHS, "births.yaml")
    mapping = ["episode_id=Episode No", "diagnoses=Dx", "procedures=Proc", "admission_method=How Admitted",
               "patient_class=Class"]
    by_option = _run(extract, "--extend-rules", births, *[a for m in mapping for a in ("--column", m)])
    toml = tmp_path / "audit.toml"
    toml.write_text("[columns]\n" + "".join(f'{m.split("=")[0]} = "{m.split("=")[1]}"\n' for m in mapping))
    by_settings = _run(extract, "--extend-rules", births, "--config", toml)
    for doc in (by_option, by_settings):
        found = {f["rule_id"] for f in doc["findings"] if f["episode_id"] == "E1"}
        assert {"IPG488-04", "LOCAL-01"} <= found
    result = CliRunner().invoke(main, ["run", str(extract), "--column", "patient_class=Klass", *sum(
        (["--column", m] for m in mapping[:3]), [])])
    assert result.exit_code == 2 and "no column 'Klass' for patient_class (mapped)" in result.output


def test_a_run_without_classpat_leaves_the_day_case_rule_out_and_says_so(tmp_path):
    extract = tmp_path / "hes.csv"
    extract.write_text("EPIKEY,DIAG_01,OPERTN_01,OPERTN_02,OPERTN_03,OPERTN_04\n"
                       f"D1,C78.7,{CHEMOSATURATION}\n", encoding="utf-8")
    doc = _run(extract, "--extend-rules", rule_file(tmp_path, BIRTHS, "births.yaml"))
    summary = doc["summary"]
    assert {"IPG488-04", "LOCAL-01"} <= set(summary["rules_not_applicable"])
    assert any(n.startswith("the extract has no SEX (sex), STARTAGE (age), ADMIMETH (admission_method) or "
                            "CLASSPAT (patient_class) column: ") and "IPG488-04" in n and "LOCAL-01" in n
               for n in summary["notes"])
    assert not {f["rule_id"] for f in doc["findings"]} & {"IPG488-04", "LOCAL-01"}
