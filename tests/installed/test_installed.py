"""A new user's path, run as a user runs it: the installed ``audit`` command, from a folder of their own.

Each test here would have caught one of the defects a new user met (issue 20): reports that failed after
``pip install .``, misnamed columns accepted, settings typos ignored, a silent ``-o``, uncoded episodes
audited as clean, and the rest.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from tests.installed.conftest import wheel_names

EVERY_FILE = ("r.csv", "r.json", "r.jsonl", "r.parquet", "r.xlsx", "r.html", "r.junit.xml", "r.sarif", "r.txt")


def test_every_file_the_package_reads_is_in_the_wheel(built_wheel):
    """Every non-Python file of audit/ and rulesets/ that git tracks is in the wheel (templates, rule files,
    data tables): a file left out works in the checkout and fails after ``pip install .``."""
    tracked = subprocess.run(["git", "ls-files", "audit", "rulesets"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    names = wheel_names(built_wheel)
    wanted = {("audit/rulesets/" + p.removeprefix("rulesets/")) if p.startswith("rulesets/") else p
              for p in tracked if not p.endswith(".py")}
    assert wanted and wanted <= names, sorted(wanted - names)


def test_every_report_format_from_a_folder_of_the_users_own(installed, user_folder):
    args = [a for name in EVERY_FILE for a in ("-o", name)]
    run = installed.run("run", "hes_sample.csv", *args, cwd=user_folder)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    for name in EVERY_FILE:
        assert (user_folder / name).stat().st_size > 0, name
        assert f"wrote the" in run.stderr and str(name) in run.stderr
    assert "<!DOCTYPE html>" in (user_folder / "r.html").read_text(encoding="utf-8")
    summary = json.loads((user_folder / "r.json").read_text(encoding="utf-8"))["summary"]
    assert summary["episodes_read"] == (summary["episodes_audited"] + summary["episodes_uncoded"]
                                        + summary["episodes_rejected"])
    assert summary["reconciliation"] in run.stderr  # said on standard error as well
    ET.parse(user_folder / "r.junit.xml")
    assert json.loads((user_folder / "r.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert pq.read_table(user_folder / "r.parquet").num_rows == summary["findings"]
    assert openpyxl.load_workbook(user_folder / "r.xlsx").sheetnames[0] == "Summary"
    assert not [p.name for p in user_folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


def test_quiet_says_nothing_and_github_goes_to_standard_output(installed, user_folder):
    run = installed.run("run", "hes_sample.csv", "-o", "report.html", "-o", "junit.xml", "-o", "results.sarif",
                        "--format", "github", "-q", cwd=user_folder)
    assert run.returncode == 1 and run.stderr == ""
    assert run.stdout.startswith("::") and all((user_folder / n).exists()
                                               for n in ("report.html", "junit.xml", "results.sarif"))


def test_rules_list_show_and_test(installed, user_folder):
    listing = installed.run("rules", "list", cwd=user_folder)
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split()[:4] == ["ID", "STATUS", "SEVERITY", "GUIDANCE"]
    status = {r.split()[0]: r.split()[1] for r in rows}
    assert status["IPG327-01"] == "active" and status["IPG446-03"] == "option"  # off unless the option is set
    show = installed.run("rules", "show", "IPG327", cwd=user_folder)  # a prefix: every IPG327 rule
    assert show.returncode == 0 and "IPG327-01:" in show.stdout and "IPG327-02:" in show.stdout
    assert "What it checks" in show.stdout and "Why" in show.stdout and "Examples" in show.stdout
    tested = installed.run("rules", "test", cwd=user_folder)
    assert tested.returncode == 0, tested.stdout
    assert " passed, 0 failed" in tested.stdout.splitlines()[-1]


def test_rules_test_of_the_users_own_rules_counts_only_theirs(installed, user_folder):
    mine = user_folder / "my-rules"
    mine.mkdir()
    (mine / "local.yaml").write_text(LOCAL_RULE, encoding="utf-8")
    tested = installed.run("rules", "test", "--rules", "my-rules", "-v", cwd=user_folder)
    assert tested.returncode == 0, tested.stdout
    lines = tested.stdout.splitlines()
    assert lines[-1] == "2 passed, 0 failed"
    assert sum("LOCAL-01" in line for line in lines) == 2  # -v: each example with its verdict


def test_extend_rules_adds_to_the_shipped_rulesets(installed, user_folder):
    (user_folder / "local.yaml").write_text(LOCAL_RULE, encoding="utf-8")
    plain = installed.run("rules", "list", cwd=user_folder).stdout
    extended = installed.run("rules", "list", "--extend-rules", "local.yaml", cwd=user_folder).stdout
    assert "LOCAL-01" not in plain and "LOCAL-01" in extended and "IPG327-01" in extended
    (user_folder / "audit.toml").write_text('extend-rules = ["local.yaml"]\n', encoding="utf-8")
    run = installed.run("run", "hes_sample.csv", "--format", "json", cwd=user_folder)
    doc = json.loads(run.stdout)
    assert {"LOCAL-01", "IPG327-01"} <= {r["rule_id"] for r in doc["rules"]}
    only = installed.run("rules", "list", "--rules", "local.yaml", cwd=user_folder).stdout
    assert "IPG327-01" not in only  # --rules keeps its meaning: instead of the shipped rulesets


def test_baseline_and_compare(installed, user_folder):
    made = installed.run("baseline", "create", "hes_sample.csv", "-o", "baseline.json", cwd=user_folder)
    assert made.returncode == 0, made.stderr
    again = installed.run("run", "hes_sample.csv", "--baseline", "baseline.json", "-o", "feb.json",
                          cwd=user_folder)
    assert again.returncode == 0, again.stderr  # every finding accepted
    assert installed.run("run", "hes_sample.csv", "-o", "jan.json", cwd=user_folder).returncode == 1
    compared = installed.run("compare", "jan.json", "jan.json", "--format", "json", cwd=user_folder)
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)


@pytest.mark.parametrize("settings, said", [
    ('failon = "never"\n', "audit.toml:1: unknown key 'failon'; did you mean fail-on?"),
    ('ignored = ["IPG446"]\n', "audit.toml:1: unknown key 'ignored'; did you mean ignore?"),
    ('[column]\nepisode_id = "X"\n', "audit.toml:1: unknown table [column]; did you mean [columns]?"),
    ('[extract]\ndelimter = "pipe"\n', "audit.toml:2: unknown key 'delimter' in [extract]; did you mean "
                                       "delimiter?"),
    ('[columns]\nepisode = "X"\n', "audit.toml [columns]: unknown column role 'episode'; did you mean "
                                   "episode_id?"),
])
def test_typos_in_settings_are_exit_2(installed, user_folder, settings, said):
    (user_folder / "audit.toml").write_text(settings, encoding="utf-8")
    run = installed.run("run", "hes_sample.csv", cwd=user_folder)
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr


def test_typos_in_pyproject_name_its_own_tables(installed, user_folder):
    (user_folder / "pyproject.toml").write_text('[tool.audit]\nselect = ["ALL"]\n\n[tool.audit.column]\nx = 1\n',
                                                encoding="utf-8")
    run = installed.run("run", "hes_sample.csv", cwd=user_folder)
    assert run.returncode == 2
    assert "pyproject.toml:4: unknown table [tool.audit.column]; did you mean [tool.audit.columns]?" in run.stderr


def test_a_misnamed_code_column_is_exit_2(installed, user_folder):
    run = installed.run("run", "hes_sample.csv", "--column", "diagnoses=DX", cwd=user_folder)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "diagnoses mapped to 'DX'" in run.stderr and "DIAG_01" in run.stderr  # the role, the name, the columns


def test_a_file_without_diagnosis_columns_says_which_rules_could_not_apply(installed, user_folder):
    lines = (user_folder / "hes_sample.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if not name.startswith("DIAG_")]
    (user_folder / "px.csv").write_text("\n".join(",".join(row.split(",")[i] for i in keep) for row in lines)
                                        + "\n", encoding="utf-8")
    run = installed.run("run", "px.csv", "-o", "px.json", "-o", "px.html", "-o", "px.xlsx", cwd=user_folder)
    assert run.returncode in (0, 1), run.stderr
    summary = json.loads((user_folder / "px.json").read_text(encoding="utf-8"))["summary"]
    assert summary["missing_code_columns"] == ["diagnosis"]
    assert "IPG327-02" in summary["rules_not_applicable"] and "IPG327-01" not in summary["rules_not_applicable"]
    note = next(n for n in summary["notes"] if n.startswith("the extract has no diagnosis columns"))
    assert "IPG327-02" in note
    assert note.split(":")[0] in (user_folder / "px.html").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(user_folder / "px.xlsx")
    assert any(note == row[1] for row in wb["Summary"].iter_rows(values_only=True))


def test_uncoded_episodes_and_a_footer_row_are_listed_apart(installed, user_folder):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["EPIKEY", "DIAG_01", "OPERTN_01", "OPERTN_02"])
    ws.append(["E1", "C78.7", "J12.4", ""])  # IPG327-01: no Y53 in the J12.4 block
    ws.append(["E2", "", "", ""])  # not yet coded
    ws.append(["E3", "I10X", "-", ""])  # coded: the placeholder says no operation was performed
    ws.append(["Total: 3 episodes", None, None, None])  # a spreadsheet's footer row
    wb.save(user_folder / "month.xlsx")
    run = installed.run("run", "month.xlsx", "-o", "m.json", "-o", "m.xlsx", "-o", "m.html", cwd=user_folder)
    assert run.returncode == 1, run.stderr
    doc = json.loads((user_folder / "m.json").read_text(encoding="utf-8"))
    s = doc["summary"]
    assert (s["episodes_read"], s["episodes_audited"], s["episodes_uncoded"], s["episodes_rejected"]) == (4, 2, 2, 0)
    assert [u["episode_id"] for u in doc["uncoded"]] == ["E2", "Total: 3 episodes"]
    assert {f["episode_id"] for f in doc["findings"]} == {"E1"}  # the rules never ran on E2 or the footer
    assert "4 episodes read = 2 audited + 2 uncoded + 0 rejected" in run.stderr
    assert openpyxl.load_workbook(user_folder / "m.xlsx")["Uncoded"].max_row == 3
    assert "2 uncoded" in " ".join((user_folder / "m.html").read_text(encoding="utf-8").split())


def test_long_layout_counts_episodes_and_rows_apart(installed, user_folder):
    (user_folder / "long.csv").write_text(
        "EPIKEY,CODE_TYPE,POSITION,CODE\n1,diagnosis,1,C787\n1,procedure,1,J124\n1,procedure,2,Y539\n"
        ",procedure,1,J124\n2,diagnosis,1,I10X\n", encoding="utf-8")
    run = installed.run("run", "long.csv", "--format", "json", cwd=user_folder)
    s = json.loads(run.stdout)["summary"]
    assert (s["episodes_read"], s["episodes_audited"], s["episodes_rejected"], s["rows_without_episode_id"]) \
        == (2, 2, 0, 1)
    table = installed.run("run", "long.csv", cwd=user_folder)
    assert "2 episodes read = 2 audited + 0 uncoded + 0 rejected; 1 row without an episode id set aside" \
        in " ".join(table.stdout.split())


def test_plurals_and_a_closed_pipe(installed, user_folder):
    (user_folder / "one.csv").write_text("EPIKEY,DIAG_01,OPERTN_01\n1,C787,J124\n", encoding="utf-8")
    run = installed.run("run", "one.csv", "--select", "IPG327-01", cwd=user_folder)
    assert "1 episode read = 1 audited" in run.stdout and "in 1 episode\n" in run.stdout
    assert "1 error, 0 warnings" in run.stdout
    piped = subprocess.run(f"'{installed.bin / 'audit'}' rules list | head -1", shell=True, cwd=user_folder,
                           capture_output=True, text=True, check=False)
    assert piped.stdout.startswith("ID") and "Traceback" not in piped.stderr


LOCAL_RULE = """\
ruleset: LOCAL
source: {guidance: LOCAL}
rules:
  - id: LOCAL-01
    title: Unspecified morbidity (R69) coded
    severity: warning
    source: {text: "Our trust codes the condition, not R69."}
    require: {not: {diagnosis: R69}}
    expected: the condition instead of R69
    message: "R69 coded ({found})"
    examples:
      pass: [{diagnoses: [I10X]}]
      fail: [{diagnoses: [R69X]}]
"""
