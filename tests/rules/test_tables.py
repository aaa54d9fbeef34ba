"""Table-driven rules: pairs or lists of codes in a CSV/YAML table beside the rule file."""

import textwrap
from pathlib import Path

import pytest

from audit.errors import RuleFileError
from audit.rules import load_rule_file, load_rules
from audit.rules.examples import run_examples
from audit.rules.tables import describe_tables
from tests.rules.ruletools import findings

RULE = """\
ruleset: T
source: {guidance: T1, text: a test}
codesets:
  ckd45: "N18.4, N18.5"
rules:
  - id: T-01
    title: codes not coded together
    severity: error
    require: {not_coded_together: {diagnosis: {table: TABLE}}}
    expected: not together
    message: "found {found}; expected {expected}"
    examples: {pass: [{diagnoses: [I21.0]}], fail: [{diagnoses: [I21.0, I23.1]}]}
"""
PAIRS = """\
first,second,unless,note
I21,"I23, I25.8",,complications of a current infarction
J43,J44,,
@ckd45,N19,,a CKD stage with unspecified renal failure
F10.0,T36-T50,T51.0,alcohol with drugs
"""


def setup(tmp_path, table: str = PAIRS, name: str = "pairs.csv"):
    (tmp_path / name).write_text(textwrap.dedent(table), encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(RULE.replace("TABLE", name), encoding="utf-8")
    return path


def test_each_finding_names_its_rows_and_shows_their_codes(tmp_path):
    (rule,) = load_rule_file(setup(tmp_path))
    got = findings(rule, [
        {"id": "a", "diagnoses": ["I21.0", "I23.1", "E11.9", "J43.9", "J44.9"]},
        {"id": "b", "diagnoses": ["N18.5", "N19X", "J43.9"]},
        {"id": "c", "diagnoses": ["F10.0", "T40.1", "T51.0"]},  # unless T51.0
        {"id": "d", "diagnoses": ["F10.0", "T40.1"]},
        {"id": "e", "diagnoses": ["I23.1", "J44.9"]},
    ]).set_index("episode_id")
    assert list(got.index) == ["a", "b", "d"]
    assert got.loc["a", "expected"] == ("not together (pairs.csv row 1, I21 with one of I23, I25.8: complications "
                                        "of a current infarction; pairs.csv row 2, J43 with J44)")
    assert got.loc["a", "found"] == "I21.0 I23.1 J43.9 J44.9"  # not E11.9
    assert got.loc["b", "found"] == "N18.5 N19" and "row 3, one of @ckd45 (N18.4, N18.5) with N19" in got.loc["b", "expected"]
    assert got.loc["b", "message"].startswith("found N18.5 N19; expected not together (pairs.csv row 3")
    assert got.loc["d", "expected"] == "not together (pairs.csv row 4, F10.0 with T36-T50 unless T51.0: alcohol with drugs)"


def test_a_list_table_allows_one_code_of_each_row(tmp_path):
    (rule,) = load_rule_file(setup(tmp_path, 'codes,note\n"L89.0, L89.1, L89.2",one stage\n"K64.0, K64.1",\n',
                                   "stages.csv"))
    got = findings(rule, [{"id": "a", "diagnoses": ["L89.0", "K64.1"]}, {"id": "b", "diagnoses": ["L89.0", "L89.2"]}])
    assert list(got["episode_id"]) == ["b"]
    assert got["expected"].iloc[0] == "not together (stages.csv row 1, more than one of L89.0, L89.1, L89.2: one stage)"
    assert "at most one code of each row of the table stages.csv (2 rows)" in rule.require.describe()


def test_a_yaml_table_is_not_read_as_a_rule_file(tmp_path):
    setup(tmp_path, "- {first: I21, second: [I23, I25.8], note: as the CSV}\n- {first: J43, second: J44}\n",
          "pairs.table.yaml")
    rules = load_rules([tmp_path], builtin=False)
    (rule,) = rules
    assert [r.ok for r in run_examples(rule)] == [True, True]
    assert describe_tables(rule)[1] == "  row 1: I21 with one of I23, I25.8 (as the CSV)"


@pytest.mark.parametrize("table, line, problem", [
    ('first,second,note\nI21,I23,\nJ43,J4X4,\n', 3, "row 2: 'J4X4' in pattern 'J4X4' is not an ICD-10 code"),
    ('first,second,note\nI21,,x\n', 2, "row 1: 'second' is empty"),
    ('first,second,note\nI21,@nothing,x\n', 2, "row 1: unknown code set '@nothing'"),
    ('first,other\nI21,I23\n', 1, "the columns must be first, second, unless, note"),
    ('first,second\nI21,I23,I25\n', 2, "row 1: 3 cells for 2 columns"),
    ('codes\nL89.0\n', 2, "row 1: 'codes' needs at least two codes"),
    ('first,second\n', None, "the table has no rows"),
])
def test_a_bad_table_names_the_table_file_and_row(tmp_path, table, line, problem):
    with pytest.raises(RuleFileError) as info:
        load_rule_file(setup(tmp_path, table))
    assert Path(info.value.path).name == "pairs.csv" and info.value.line == line and problem in str(info.value)


def test_a_missing_table_names_the_rule_file_and_line(tmp_path):
    path = setup(tmp_path)
    (tmp_path / "pairs.csv").unlink()
    with pytest.raises(RuleFileError) as info:
        load_rule_file(path)
    assert info.value.path == str(path) and info.value.line == 9 and "table 'pairs.csv' not found" in str(info.value)


def test_the_shipped_tables_load_and_name_their_rows():
    rule = load_rules().get("NAT-ICD-TAB-01")
    lines = describe_tables(rule)
    assert lines[0].startswith("Table icd10-excludes1-pairs.csv (") and lines[1].startswith("  row 1: I21 with I25.8")


def test_rules_show_lists_the_table_and_its_rows():
    from click.testing import CliRunner

    from audit.cli import main

    out = CliRunner().invoke(main, ["rules", "show", "NAT-ICD-TAB-02"]).output
    assert "Requires: at most one code of each row of the table icd10-stages.csv (" in out
    assert "  Table icd10-stages.csv (" in out and "rulesets/national/icd10-stages.csv):" in out
    assert "    row 1: more than one of L89.0, L89.1, L89.2, L89.3, L89.9 (one stage of pressure ulcer" in out
    shown = CliRunner().invoke(main, ["rules", "show", "NAT-ICD-11"]).output
    assert "directly preceded by @sepsis (A40, A41, A02.1," in shown  # a code set, spelled out by name
