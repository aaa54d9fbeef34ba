"""The command line: exit codes 0 / 1 / 2, outputs, rule documentation."""

import json

import pytest
from click.testing import CliRunner

from audit.cli import main

HEADER = "EPIKEY,EPIEND,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"


@pytest.fixture
def runner():
    return CliRunner()


def extract(tmp_path, body, name="extract.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return str(path)


def test_exit_0_without_error_findings(runner, tmp_path):
    result = runner.invoke(main, ["run", extract(tmp_path, "1,2025-01-01,C787,C187,J124,Y539\n")])
    assert result.exit_code == 0, result.output
    assert "1 episode read = 1 audited + 0 uncoded + 0 rejected" in result.output


def test_exit_1_with_an_error_finding(runner, tmp_path):
    result = runner.invoke(main, ["run", extract(tmp_path, "1,2025-01-01,C787,C187,J124,\n")])
    assert result.exit_code == 1
    assert "IPG327-01" in result.output


def test_warnings_and_info_alone_exit_0(runner, tmp_path):
    body = "1,2025-01-01,C220,,J128,Y123\n"  # HTG532-01 error: no Y53
    assert runner.invoke(main, ["run", extract(tmp_path, body)]).exit_code == 1
    body = "1,2025-01-01,C787,C187,J127,\n"  # IPG406-02 info only
    result = runner.invoke(main, ["run", extract(tmp_path, body)])
    assert result.exit_code == 0 and "IPG406-02" in result.output


@pytest.mark.parametrize("name, content, fragment", [
    ("missing.csv", None, "no such file"),
    ("empty.csv", "", "empty"),
    ("x.csv", "ID,DIAG_01\n1,C787\n", "no episode id column"),
    ("x.csv", "EPIKEY,NAME\n1,x\n", "no code columns"),
    ("x.doc", "EPIKEY\n", "no code columns"),  # any other extension is read as delimited text
])
def test_exit_2_for_unusable_input(runner, tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = runner.invoke(main, ["run", str(path)])
    assert result.exit_code == 2
    assert fragment in result.output and "Traceback" not in result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1


def test_exit_2_for_a_bad_rule_file(runner, tmp_path):
    rules = tmp_path / "bad.yaml"
    rules.write_text("rules:\n  - id: X-01\n    severity: fatal\n")
    result = runner.invoke(main, ["run", extract(tmp_path, "1,,C787,,J124,\n"), "--rules", str(rules)])
    assert result.exit_code == 2
    assert f"{rules}:2" in result.output and "Traceback" not in result.output


def test_exit_2_for_a_bad_option(runner, tmp_path):
    result = runner.invoke(main, ["run", extract(tmp_path, "1,,C787,,J124,\n"), "--format", "pdf"])
    assert result.exit_code == 2


def test_csv_output_one_row_per_finding(runner, tmp_path):
    out = tmp_path / "f.csv"
    body = "1,2025-01-01,C787,C187,J124,\n=1+2,2025-01-02,C7.87,,J124,Y539\n"
    result = runner.invoke(main, ["run", extract(tmp_path, body), "--format", "csv", "--output", str(out)])
    assert result.exit_code == 1
    lines = out.read_text().splitlines()
    assert lines[0].startswith("episode_id,rule_id,severity,message")
    assert len(lines) == 1 + 2  # IPG327-01 for 1, DATA-01 for 2
    assert "\n'=1+2,DATA-01" in out.read_text()  # an episode id that looks like a formula is neutralised


def test_json_output(runner, tmp_path):
    result = runner.invoke(main, ["run", extract(tmp_path, "1,2025-01-01,C787,C187,J124,\n"), "--format", "json"])
    doc = json.loads(result.output)
    assert doc["summary"]["episodes_read"] == 1 and doc["summary"]["errors"] == 1
    assert doc["findings"][0]["rule_id"] == "IPG327-01" and doc["rejected"] == []


def test_outputs_are_deterministic(runner, tmp_path):
    path = extract(tmp_path, "".join(f"{i},2025-01-01,C787,,J124,\n" for i in range(50)))
    a = runner.invoke(main, ["run", path, "--format", "json", "--chunk-size", "7"]).output
    b = runner.invoke(main, ["run", path, "--format", "json"]).output
    assert a == b


def test_rules_list_and_show(runner):
    listing = runner.invoke(main, ["rules", "list"])
    assert listing.exit_code == 0 and "IPG327-01" in listing.output and "HTG532-02" in listing.output
    show = runner.invoke(main, ["rules", "show", "ipg327-01"])
    assert show.exit_code == 0
    for part in ("What it checks", "Why", "IPG327", "https://www.nice.org.uk/guidance/ipg327", "Examples",
                 "fails", "passes"):
        assert part in show.output


def test_rules_show_unknown(runner):
    result = runner.invoke(main, ["rules", "show", "NOPE-01"])
    assert result.exit_code == 2 and "no rule" in result.output


def test_rules_test_runs_examples(runner, tmp_path):
    assert runner.invoke(main, ["rules", "test"]).exit_code == 0
    bad = tmp_path / "r.yaml"
    bad.write_text("""
source: {guidance: T, text: t}
rules:
  - id: T-01
    title: t
    severity: error
    require: {procedure: Y53.-}
    expected: Y53
    message: m
    examples: {pass: [{procedures: [J12.4]}], fail: [{procedures: [Y53.9]}]}
""")
    result = runner.invoke(main, ["rules", "test", "--rules", str(bad)])
    assert result.exit_code == 1
    assert "expected to pass but failed" in result.output and "expected to fail but passed" in result.output


def test_rules_list_and_test_take_a_settings_file(runner, tmp_path):
    """--config works for 'rules list' (select, ignore, severity) and 'rules test' as it does for 'run'."""
    config = tmp_path / "audit.toml"
    config.write_text('select = ["IPG327"]\nseverity = {"IPG327-02" = "warning"}\n', encoding="utf-8")
    listing = runner.invoke(main, ["rules", "list", "--config", str(config)])
    assert listing.exit_code == 0
    rows = {line.split()[0]: line.split()[1:3] for line in listing.output.splitlines() if line.strip()}
    assert rows["IPG327-01"][0] == "active" and rows["HTG532-01"][0] == "off"
    assert rows["IPG327-02"] == ["active", "warning"]
    assert runner.invoke(main, ["rules", "test", "--config", str(config)]).exit_code == 0
    missing = runner.invoke(main, ["rules", "list", "--config", str(tmp_path / "none.toml")])
    assert missing.exit_code == 2
