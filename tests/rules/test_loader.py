"""Loading validates every rule file: one clear message naming file and line."""

import textwrap

import pytest

from audit.errors import RuleFileError
from audit.rules import conditions as c
from audit.rules import load_rule_file, load_rules

GOOD_RULE = """\
ruleset: T
source: {guidance: T1, title: Test guidance, text: "J12.4 needs Y53"}
rules:
  - id: T-01
    title: J12.4 without Y53
    severity: error
    when: {procedure: J12.4}
    require: {every_block: {main: J12.4, must_contain: Y53.-}}
    expected: a Y53.- code
    message: "no Y53 (found {found}); expected {expected}"
    examples:
      pass: [{procedures: [J12.4, Y53.9]}]
      fail: [{procedures: [J12.4]}]
"""


def write(tmp_path, text, name="rules.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path, text):
    with pytest.raises(RuleFileError) as info:
        load_rule_file(write(tmp_path, text))
    return info.value


def test_good_rule_loads(tmp_path):
    (rule,) = load_rule_file(write(tmp_path, GOOD_RULE))
    assert rule.id == "T-01" and rule.source.guidance == "T1" and rule.line == 4
    assert isinstance(rule.require, c.InBlock) and rule.require.every


@pytest.mark.parametrize("old, new, line, fragment", [
    ("    severity: error", "    severity: fatal", 6, "severity must be one of"),
    ("    title: J12.4 without Y53\n", "    title: J12.4 without Y53\n    colour: red\n", 6, "unknown key 'colour'"),
    ("    when: {procedure: J12.4}", "    when: {procedure: I12.4}", 7, "'I12.4'"),
    ("    when: {procedure: J12.4}", "    when: {procedure: J12.4, position: last}", 7, "position must be one of"),
    ("    when: {procedure: J12.4}", "    when: {proc: J12.4}", 7, "unknown condition 'proc'"),
    ("    when: {procedure: J12.4}", "    when: {diagnosis: C78.7, procedure: J12.4}", 7, "not several"),
    ("    when: {procedure: J12.4}", "    when: {all: []}", 7, "non-empty list"),
    ("    expected: a Y53.- code\n", "", 4, "missing 'expected'"),
    ("  - id: T-01", "  - id: t 01", 4, "rule id"),
    ("{found}); expected {expected}", "{found}); expected {codes}", 10, "unknown placeholder {codes}"),
    ("      fail: [{procedures: [J12.4]}]", "      fail: []", 13, "non-empty list"),
    ("      pass: [{procedures: [J12.4, Y53.9]}]", "      pass: [{procedures: [J12.4], severity: error}]", 12,
     "passing example has no severity"),
    ("must_contain: Y53.-}}", "contains: Y53.-}}", 8, "needs 'must_contain'"),
    ("    severity: error\n", "    severity: error\n    effective: {from: 2020-13-01}\n", 7, "must be a date"),
    ("    severity: error\n", "    severity: error\n    severity: info\n", 7, "duplicate key"),
    ("    message: \"no Y53", "    message: [\"no Y53", 11, "flow sequence started at line 10"),
])
def test_bad_rule_files_name_file_and_line(tmp_path, old, new, line, fragment):
    assert old in GOOD_RULE
    err = error_of(tmp_path, GOOD_RULE.replace(old, new))
    assert fragment in str(err)
    assert str(err).startswith(f"{tmp_path / 'rules.yaml'}:")
    assert err.line == line, str(err)


def test_duplicate_ids_in_one_file(tmp_path):
    rules = GOOD_RULE.split("rules:\n")[1]
    err = error_of(tmp_path, GOOD_RULE + rules)
    assert "duplicate rule id T-01" in str(err) and err.line == 14


def test_duplicate_ids_across_files(tmp_path):
    write(tmp_path, GOOD_RULE, "a.yaml")
    write(tmp_path, GOOD_RULE, "b.yaml")
    with pytest.raises(RuleFileError) as info:
        load_rules([tmp_path], builtin=False)
    assert "b.yaml:4" in str(info.value) and "a.yaml:4" in str(info.value)


def test_missing_source_text(tmp_path):
    err = error_of(tmp_path, GOOD_RULE.replace(', text: "J12.4 needs Y53"', ""))
    assert "missing 'text'" in str(err)


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("- just a list\n", "must be a mapping"),
    ("rules: {}\n", "non-empty list"),
    ("!!python/object/apply:os.system ['echo hacked']\n", "invalid YAML"),
])
def test_unusable_files(tmp_path, text, fragment):
    assert fragment in str(error_of(tmp_path, text))


def test_missing_path():
    with pytest.raises(RuleFileError, match="no such rule file"):
        load_rules(["/nonexistent/rules.yaml"])


def test_shipped_rules_load_with_builtin_data_checks():
    ids = {r.id for r in load_rules()}
    assert {"DATA-01", "DATA-02", "DATA-03"} <= ids
