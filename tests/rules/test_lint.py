"""audit rules lint: malformed and unknown codes, repeated codes, precedence, two rules on one defect."""

import textwrap

from click.testing import CliRunner

from audit.cli import main
from audit.reference import load_reference
from audit.rules.lint import lint_files
from tests.conftest import REPO

HEAD = """\
ruleset: T
source: {guidance: TEST, text: a test}
rules:
"""
RULE = """\
  - id: {id}
    title: t
    severity: error
    require: {require}
    expected: x
    message: "found {{found}}"
    examples: {{pass: [{{diagnoses: [I10X]}}], fail: [{{diagnoses: [I10X]}}]}}
"""
REFERENCE = REPO / "tests" / "fixtures" / "reference"


def rules_file(tmp_path, *rules, name="rules.yaml", extra=""):
    path = tmp_path / name
    body = "".join(RULE.format(id=i, require=r) for i, r in rules)
    path.write_text(HEAD + body + textwrap.dedent(extra), encoding="utf-8")
    return path


def problems(*paths, reference=None, known=()):
    return [(p.line, p.rule, p.problem) for p in lint_files(list(paths), reference, set(known))]


def test_a_clean_file_has_no_problems(tmp_path):
    assert problems(rules_file(tmp_path, ("T-01", "{not: {diagnosis: V01-Y98, position: primary}}"))) == []


def test_a_file_that_does_not_load_is_one_problem_with_its_line(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"020, O21\", position: primary}}"))
    assert problems(path) == [(7, "", "'020' in pattern '020, O21' is not an ICD-10 code or category")]


def test_a_code_already_covered_in_its_pattern(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"A40, A41, A40.1, A41\"}}"))
    assert problems(path) == [(4, "T-01", "in pattern 'A40, A41, A40.1, A41', A40.1 is already covered by A40"),
                              (4, "T-01", "in pattern 'A40, A41, A40.1, A41', A41 is already covered by A41")]


def test_precedence_must_name_a_rule(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: R69}}\n    unless_rule: T-09"))
    assert problems(path) == [(4, "T-01", "unless_rule names T-09, which is not a rule")]
    assert problems(path, known={"T-09"}) == []


def test_two_rules_with_the_same_condition(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"R69, R99\"}}"), ("T-02", "{not: {diagnosis: \"R99,R69\"}}"))
    (line, rule, problem), = problems(path)
    assert (line, rule) == (11, "T-02") and problem.startswith("fires on the same defect as T-01")


def test_a_pair_kept_apart_twice_within_rules_and_tables(tmp_path):
    (tmp_path / "pairs.csv").write_text("first,second,note\nJ44.9,J43.1,x\nI21,I23,\n", encoding="utf-8")
    path = rules_file(tmp_path, ("T-01", "{every_diagnosis: J43, not_coded_with: \"J44, J45\"}"),
                      ("T-02", "{not_coded_together: {diagnosis: {table: pairs.csv}}}"),
                      ("T-03", "{not_coded_together: {diagnosis: [I23, I21.0]}}"),
                      ("T-04", "{every_diagnosis: F10.0, not_coded_with: T36-T50, unless: T51.0}"),
                      ("T-05", "{every_diagnosis: F10.0, not_coded_with: T40}"))
    got = problems(path)
    assert (2, "T-02 row 1", "J44.9 with J43.1 fires on the same defect as T-01 "
                             f"({path}:4: J43 with J44, J45)") in got
    assert (18, "T-03", f"I23 with I21.0 fires on the same defect as T-02 row 2 ({tmp_path / 'pairs.csv'}:3: "
                        "I21 with I23)") in got
    # T-05 fires where T-04 does not (T51.0 excuses only T-04), and T-04 on T36 where T-05 does not
    assert not any(rule in ("T-04", "T-05") for _, rule, _ in got)
    assert len(got) == 2


def test_a_rule_that_gives_way_is_not_a_repeat(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not_coded_together: {diagnosis: [J43, J44]}}\n    supersedes: [T-02]"),
                      ("T-02", "{every_diagnosis: J43, not_coded_with: J44}"))
    assert problems(path) == []


def test_with_the_tables_every_code_and_range_end_is_in_the_classification(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"C61, C78.7, C62\"}}"),
                      ("T-02", "{not: {diagnosis: \"C18.7-C22.9\", position: primary}}"),
                      ("T-03", "{not: {procedure: \"J12.4, Q99.9\"}}"))
    got = problems(path, reference=load_reference(REFERENCE))
    assert [(r, p) for _, r, p in got] == [
        ("T-01", "C62 (in 'C61, C78.7, C62') is not in the ICD-10 classification"),
        ("T-03", "Q99.9 (in 'J12.4, Q99.9') is not in the OPCS-4 classification"),
    ]


def test_range_ends_outside_the_classification(tmp_path):
    path = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"C18.7-C22.8\"}}"))
    got = problems(path, reference=load_reference(REFERENCE))
    assert got == [(4, "T-01", "range C18.7-C22.8 (in 'C18.7-C22.8'): C22.8 is not in the ICD-10 classification")]


def test_the_command_exits_1_with_file_and_line_and_0_when_clean(tmp_path):
    bad = rules_file(tmp_path, ("T-01", "{not: {diagnosis: \"A40, A40.1\"}}"))
    result = CliRunner().invoke(main, ["rules", "lint", "--rules", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4: T-01: in pattern 'A40, A40.1', A40.1 is already covered by A40" in result.output
    good = rules_file(tmp_path, ("T-01", "{not: {diagnosis: A40}}"), name="good.yaml")
    result = CliRunner().invoke(main, ["rules", "lint", "--rules", str(good)])
    assert result.exit_code == 0, result.output


def test_the_shipped_rulesets_are_clean():
    result = CliRunner().invoke(main, ["rules", "lint"])
    assert result.exit_code == 0, result.output


def test_a_code_set_no_rule_uses(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(HEAD.replace("rules:\n", "codesets:\n  sepsis: A40\n  used: A41\n  inner: A42\n"
                                 "  outer: \"@inner, A43\"\nrules:\n")
                    + RULE.format(id="T-01", require="{not: {diagnosis: \"@used, @outer\"}}"), encoding="utf-8")
    assert problems(path) == [(4, "", "code set '@sepsis' is not used")]
