"""``audit run``'s extract options: layouts, column mapping, settings, strict, rejects, effective dates."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main
from tests.conftest import REPO

HEAD = "EPIKEY,PROCODE,EPIEND,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"


NICE_RULES = REPO / "rulesets" / "nice"  # expected findings here are of the NICE rules and built-in checks


def run(*args: str):
    return CliRunner().invoke(main, ["run", *map(str, args), "--rules", str(NICE_RULES)])


def doc(result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def local_csv(tmp_path) -> Path:
    """A trust's own extract: its own column names, pipe-delimited."""
    path = tmp_path / "pas.txt"
    path.write_text(
        "Episode No|Site|Discharged|Dx1|Dx2|Proc1|Proc2|Coded By\n"
        "E1|RXX|31/03/2024|C787|C187|J124|Y539|Team A\n"
        "E2|RXX|01/04/2024|C787||J124||Team B\n",
        encoding="utf-8",
    )
    return path


MAPPING = [
    "episode_id=Episode No",
    "provider=Site",
    "end_date=Discharged",
    "diagnoses=Dx",
    "procedures=Proc",
    "coder=Coded By",
]


def test_column_options_map_local_names(local_csv):
    result = run(local_csv, "--format", "json", *[a for m in MAPPING for a in ("--column", m)])
    assert result.exit_code == 1, result.stderr
    findings = doc(result)["findings"]
    assert {(f["episode_id"], f["rule_id"]) for f in findings} == {("E2", "IPG327-01"), ("E2", "IPG327-02")}
    assert {(f["provider"], f["end_date"], f["coder"]) for f in findings} == {("RXX", "2024-04-01", "Team B")}


def test_columns_from_audit_toml(local_csv, tmp_path):
    toml = "[columns]\n" + "".join(f'{m.split("=")[0]} = "{m.split("=")[1]}"\n' for m in MAPPING)
    (tmp_path / "audit.toml").write_text(toml)
    result = run(local_csv, "--format", "json", "--config", tmp_path / "audit.toml")
    assert result.exit_code == 1, result.stderr
    assert doc(result)["summary"]["episodes_audited"] == 2


def test_columns_from_pyproject_in_the_current_folder(local_csv, tmp_path, monkeypatch):
    settings = (
        '[tool.audit.columns]\nepisode_id = "Episode No"\ndiagnoses = "Dx"\nprocedures = "Proc"\n'
        '[tool.audit.extract]\ndelimiter = "pipe"\n'
    )
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(settings)
    monkeypatch.chdir(folder)  # settings are read from the current folder
    result = CliRunner().invoke(main, ["run", str(local_csv), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    assert doc(result)["summary"]["episodes_audited"] == 2


def test_command_line_beats_settings(local_csv, tmp_path):
    (tmp_path / "audit.toml").write_text(
        '[columns]\nepisode_id = "Nope"\ndiagnoses = "Dx"\nprocedures = "Proc"\n'
    )
    bad = run(local_csv, "--config", tmp_path / "audit.toml")
    assert bad.exit_code == 2 and "no episode id column: looked for 'Nope' (mapped)" in bad.stderr
    good = run(local_csv, "--config", tmp_path / "audit.toml", "--column", "episode_id=Episode No")
    assert good.exit_code == 1, good.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--column", "episodeid=X"], "unknown column role 'episodeid'"),
        (["--column", "episode_id"], "expected ROLE=NAME"),
        (["--column", "end_date=Left"], "no column 'Left' for end_date (mapped)"),
        (["--delimiter", "ab"], "--delimiter 'ab'"),
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
    ],
)
def test_bad_options_exit_2(tmp_path, args, message):
    path = tmp_path / "e.csv"
    path.write_text(HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n")
    result = run(path, *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_bad_settings_exit_2(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n")
    (tmp_path / "a.toml").write_text('[extract]\nlayout = "diagonal"\n')
    (tmp_path / "b.toml").write_text('[columns]\nepisode = "X"\n')
    assert "layout: 'diagonal' is not one of" in run(path, "--config", tmp_path / "a.toml").stderr
    assert (
        "b.toml [columns]: unknown column role 'episode'; did you mean episode_id?"
        in run(path, "--config", tmp_path / "b.toml").stderr
    )


def test_layout_and_separator_options(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("EPIKEY,DIAG_ALL,OPERTN_ALL\n1,C787 / C187,J124 / Y539\n2,C787,J124\n")
    detected = doc(run(path, "--format", "json"))
    assert {(f["episode_id"], f["rule_id"]) for f in detected["findings"]} == {
        ("2", "IPG327-01"),
        ("2", "IPG327-02"),
    }
    assert (
        "codes in DIAG_ALL, OPERTN_ALL split on '/' (detected; give --separator to change it)"
        in detected["summary"]["notes"]
    )
    given = doc(run(path, "--format", "json", "--layout", "concatenated", "--separator", ";"))
    assert ("1", "DATA-01") in {(f["episode_id"], f["rule_id"]) for f in given["findings"]}  # not split


def test_strict_passes_a_clean_file_and_rejects_file_is_written(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n")
    result = run(path, "--strict", "--rejects", tmp_path / "r.csv")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r.csv").read_text() == "line,episode_id,reason\n"


def test_strict_still_writes_the_rejects(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n1,RXX,2024-03-31,C787,C187,J124,Y539\n")
    result = run(path, "--strict", "--rejects", tmp_path / "r.csv")
    assert result.exit_code == 2
    assert (
        "1 row set aside (--strict); first: line 3: duplicate episode id (first at line 2)" in result.stderr
    )
    assert (tmp_path / "r.csv").read_text().splitlines()[1] == "3,1,duplicate episode id (first at line 2)"


def test_table_summary_reconciles(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n,RXX,2024-03-31,C787,C187,J124,Y539\n"
        "3,RXX,,C787,C187,J124,Y539\n"
    )
    result = run(path)
    assert result.exit_code == 0, result.stderr
    assert "3 episodes read = 2 audited + 0 uncoded + 1 rejected" in result.stdout
    assert "note: 1 episode has no end date" in result.stdout


# -- effective dates, through the command line ------------------------------------------------

RULE = textwrap.dedent("""\
    ruleset: TEST
    title: Effective-date test rules
    source: {guidance: TEST-1, title: A synthetic guidance, date: "2020-01"}
    rules:
      - id: TEST-01
        title: J12.4 needs a Y53 code (2020 to 2022 only)
        severity: error
        source: {text: "J12.4 is assigned with Y53.-."}
        effective: {from: 2020-01-01, to: 2022-12-31}
        when: {procedure: J12.4}
        require: {procedure: Y53.-}
        expected: a Y53.- code
        message: "J12.4 without a Y53.- code (found {found})"
        examples:
          pass: [{procedures: [J12.4, Y53.9]}]
          fail: [{procedures: [J12.4], end_date: 2021-06-01}]
    """)


@pytest.fixture
def dated_rule(tmp_path) -> Path:
    path = tmp_path / "test-rule.yaml"
    path.write_text(RULE)
    return path


def test_rule_applies_only_to_episodes_ending_inside_its_dates(tmp_path, dated_rule):
    path = tmp_path / "e.csv"
    path.write_text(
        "EPIKEY,EPIEND,OPERTN_01\n"
        "before,2019-12-31,J124\nfirst-day,20200101,J124\nlast-day,31/12/2022,J124\n"
        "after,2023-01-01,J124\nno-end,,J124\nanother-no-end,,J124\n"
    )
    result = run(path, "--rules", dated_rule, "--format", "json")
    assert result.exit_code == 1, result.stderr
    d = doc(result)
    fired = [f["episode_id"] for f in d["findings"] if f["rule_id"] == "TEST-01"]
    assert fired == ["first-day", "last-day", "no-end", "another-no-end"]
    assert d["summary"]["episodes_without_end_date"] == 2
    assert (
        "2 episodes have no end date and were audited against every rule, whatever its effective dates"
        in d["summary"]["notes"]
    )
    table = run(path, "--rules", dated_rule)
    assert "note: 2 episodes have no end date and were audited against every rule" in table.stdout


def test_no_end_date_column_counts_every_episode(tmp_path, dated_rule):
    path = tmp_path / "e.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"EPIKEY": ["1", "2", "3"], "OPERTN_01": ["J124", "J124", "Y539"]}), path)
    d = doc(run(path, "--rules", dated_rule, "--format", "json"))
    assert d["summary"]["episodes_without_end_date"] == 3
    assert [f["episode_id"] for f in d["findings"] if f["rule_id"] == "TEST-01"] == ["1", "2"]


def test_without_dated_rules_the_count_is_still_given(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(HEAD + "1,RXX,2024-03-31,C787,C187,J124,Y539\n2,RXX,,C787,C187,J124,Y539\n")
    d = doc(run(path, "--format", "json"))
    assert d["summary"]["episodes_without_end_date"] == 1
    assert "1 episode has no end date" in d["summary"]["notes"]
