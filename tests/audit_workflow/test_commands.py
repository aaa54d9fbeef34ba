"""``audit sample`` and ``audit score`` end to end: the workbook in between, exit codes, reports."""

from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner

from audit.cli import main
from tests.conftest import REPO

HES = REPO / "sample_episodes" / "hes_sample.csv"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fill(path, change=None, leave_blank=(), extra=None):
    """Copy the original codes into the auditor's columns; ``change``: {row: {column: value}}."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Sample"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if r in leave_blank:
            continue
        for j, name in enumerate(header):
            if name.startswith("ORIGINAL_"):
                ws.cell(row=r, column=header.index(name[len("ORIGINAL_"):]) + 1, value=ws.cell(r, j + 1).value)
        for name, value in (change or {}).get(r, {}).items():
            ws.cell(row=r, column=header.index(name) + 1).value = value
    if extra:
        ws.cell(row=ws.max_row + 1, column=1, value=extra)
        ws.cell(row=ws.max_row, column=header.index("DIAG_01") + 1, value="C787")
    wb.save(path)
    return [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]


@pytest.fixture
def sample(tmp_path):
    out = tmp_path / "sample.xlsx"
    got = run("sample", HES, "--size", 10, "--seed", 5, "-o", out)
    assert got.exit_code == 0, got.output
    return out


def test_same_seed_same_bytes(sample, tmp_path):
    again = tmp_path / "again.xlsx"
    assert run("sample", HES, "--size", 10, "--seed", 5, "-o", again).exit_code == 0
    assert again.read_bytes() == sample.read_bytes()
    other = tmp_path / "other.xlsx"
    assert run("sample", HES, "--size", 10, "--seed", 6, "-o", other).exit_code == 0
    assert other.read_bytes() != sample.read_bytes()


def test_only_audited_episodes_are_sampled(tmp_path):
    out = tmp_path / "all.csv"
    got = run("sample", HES, "--size", 1000, "--seed", 1, "-o", out)
    assert got.exit_code == 0
    import pandas as pd

    ids = pd.read_csv(out, dtype=str)["EPISODE_ID"]
    # the sample extract: 96 rows, 94 audited (one rejected, one uncoded): all 94 taken, nothing else
    assert len(ids) == 94 and ids.is_unique
    assert "sampled 94 of 94 eligible episodes (94 audited)" in got.output


def test_score_the_filled_in_workbook(sample, tmp_path):
    ids = fill(sample, change={2: {"DIAG_01": "R69X"}}, leave_blank=(11,))
    out = tmp_path / "score.json"
    got = run("score", HES, sample, "-o", out, "-o", tmp_path / "score.html", "-o", tmp_path / "score.xlsx")
    assert got.exit_code == 0, got.output
    report = json.loads(out.read_text())
    assert set(report) == {"episodes_scored", "not_recoded", "areas", "rules"}
    assert report["episodes_scored"] == 9 and report["not_recoded"] == [ids[-1]]
    pd_area = report["areas"]["primary_diagnosis"]
    assert set(pd_area) == {"correct", "errors", "percent", "ci_low", "ci_high", "attainment"}
    assert (pd_area["correct"], pd_area["errors"]) == (8, 1)  # one primary diagnosis changed of 9
    assert all(set(r) == {"rule_id", "flagged", "confirmed"} for r in report["rules"])
    html = (tmp_path / "score.html").read_text()
    assert "Rule precision" in html and '<mark class="differs">R69X</mark>' in html
    assert openpyxl.load_workbook(tmp_path / "score.xlsx").sheetnames[:3] == ["Scores", "Error types",
                                                                                 "Rule precision"]


def test_fail_below_and_its_exit_codes(sample):
    fill(sample, change={2: {"DIAG_01": "R69X"}})
    assert run("score", HES, sample, "--no-rules").exit_code == 0
    got = run("score", HES, sample, "--no-rules", "--fail-below", "met")  # 9 / 10 = 90%: met
    assert got.exit_code == 0, got.output
    got = run("score", HES, sample, "--no-rules", "--fail-below", "exceeded")  # 90% < 95%
    assert got.exit_code == 1 and "primary_diagnosis" in got.output
    got = run("score", HES, sample, "--fail-below", "brilliant")
    assert got.exit_code == 2 and "levels of attainment are met, exceeded" in got.output


def test_an_id_not_in_the_original_is_exit_2_naming_it(sample):
    fill(sample, extra="NOT-THERE")
    got = run("score", HES, sample, "--no-rules")
    assert got.exit_code == 2 and "NOT-THERE" in got.output and "Traceback" not in got.output


def test_rule_precision_confirmed_when_the_auditor_changes_the_coding(tmp_path):
    original = tmp_path / "orig.csv"
    original.write_text("EPIKEY,MAINSPEF,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"
                        "P1,100,C787,,J124,\n"  # IPG327: RFA of a liver secondary without the site of the primary
                        "P2,100,C787,,J124,\n"
                        "P3,100,C787,C187,J124,Y539\n")
    recoded = tmp_path / "recoded.csv"
    recoded.write_text("EPIKEY,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"
                       "P1,C787,C187,J124,Y539\n"  # the auditor adds what the rules asked for: confirmed
                       "P2,C787,,J124,\n"  # the auditor agrees with the coder: not confirmed
                       "P3,C787,C187,J124,Y539\n")
    out = tmp_path / "score.json"
    assert run("score", original, recoded, "-o", out, "--select", "IPG327").exit_code == 0
    report = json.loads(out.read_text())
    rules = {r["rule_id"]: (r["flagged"], r["confirmed"]) for r in report["rules"]}
    assert rules and all(v == (2, 1) for v in rules.values()), rules
    # P1: C18.7 and Y53.9 omitted: secondary diagnoses 1 correct (P3) of 2; secondary procedures 1 of 2
    assert report["areas"]["secondary_diagnoses"]["correct"] == 1
    assert report["areas"]["secondary_diagnoses"]["errors"] == 1


def test_rule_precision_of_a_rule_reading_the_patient_classification(tmp_path):
    original = tmp_path / "orig.csv"
    original.write_text("EPIKEY,CLASSPAT,DIAG_01,OPERTN_01,OPERTN_02,OPERTN_03,OPERTN_04,OPERTN_05\n"
                        "D1,2,C787,J103,Y532,Z376,X338,\n")  # a day case's chemosaturation without X72 (IPG488-04)
    recoded = tmp_path / "recoded.csv"
    recoded.write_text("EPIKEY,DIAG_01,OPERTN_01,OPERTN_02,OPERTN_03,OPERTN_04,OPERTN_05\n"
                       "D1,C787,J103,Y532,Z376,X338,X721\n")  # the re-coding has no CLASSPAT: the original's is used
    out = tmp_path / "score.json"
    assert run("score", original, recoded, "-o", out, "--select", "IPG488").exit_code == 0
    rules = {r["rule_id"]: (r["flagged"], r["confirmed"]) for r in json.loads(out.read_text())["rules"]}
    assert rules == {"IPG488-04": (1, 1)}


def test_sample_accepts_the_options_of_audit_run(tmp_path):
    renamed = tmp_path / "local.csv"
    text = HES.read_text().replace("EPIKEY", "EPISODE_NO", 1)
    renamed.write_text(text)
    out = tmp_path / "s.xlsx"
    got = run("sample", renamed, "--column", "episode_id=EPISODE_NO", "--size", 5, "--seed", 1,
              "--stratify", "specialty", "--weight", "findings", "--filter", "specialty=100,300", "-o", out)
    assert got.exit_code == 0, got.output
    ws = openpyxl.load_workbook(out)["Sample"]
    header = [c.value for c in ws[1]]
    specialties = {ws.cell(r, header.index("SPECIALTY") + 1).value for r in range(2, ws.max_row + 1)}
    assert specialties <= {"100", "300"} and ws.max_row == 6
    got = run("sample", renamed, "--size", 5, "-o", out)
    assert got.exit_code == 2 and "Traceback" not in got.output


def test_the_sample_does_not_depend_on_the_chunk_size(sample, tmp_path):
    small = tmp_path / "small.xlsx"
    assert run("sample", HES, "--size", 10, "--seed", 5, "--chunk-size", 7, "-o", small).exit_code == 0
    assert small.read_bytes() == sample.read_bytes()


def test_a_weighted_sample_is_scored_weighted_with_the_auditors_error_types(tmp_path):
    out = tmp_path / "weighted.xlsx"
    got = run("sample", HES, "--size", 12, "--seed", 9, "--weight", "findings", "-o", out)
    assert got.exit_code == 0, got.output
    ws = openpyxl.load_workbook(out)["Sample"]
    header = [c.value for c in ws[1]]
    p = [ws.cell(r, header.index("INCLUSION_PROBABILITY") + 1).value for r in range(2, ws.max_row + 1)]
    assert len(set(p)) == 2  # episodes with findings have the larger chance
    fill(out, change={2: {"DIAG_01": "R69X", "ERROR_TYPE": "sequencing"}})
    report = tmp_path / "w.xlsx"
    got = run("score", HES, out, "--no-rules", "-o", report)
    assert got.exit_code == 0, got.output
    printed = run("score", HES, out, "--no-rules").output
    assert "weighted by inclusion probability" in printed
    types = openpyxl.load_workbook(report)["Error types"]
    rows = [tuple(c.value for c in row) for row in types.iter_rows(min_row=2)]
    assert ("primary_diagnosis", "auditor: sequencing", 1) in rows
    # the weighted percent: 1 - w(row 2) / sum(w) over the 12 (weights 1 / p)
    weights = [1 / x for x in p]
    expected = 100 * (1 - weights[0] / sum(weights))
    assert f"{expected:6.2f}%" in printed


def test_sample_and_score_read_a_database_like_a_file(sample, tmp_path):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    import pandas as pd

    url = f"sqlite:///{tmp_path / 'extract.db'}"
    pd.read_csv(HES, dtype=str).to_sql("episodes", sqlalchemy.create_engine(url), index=False)
    from_db = tmp_path / "db.xlsx"
    assert run("sample", url, "--table", "episodes", "--size", 10, "--seed", 5, "-o", from_db).exit_code == 0
    ids = [[c.value for c in openpyxl.load_workbook(p)["Sample"]["A"]] for p in (from_db, sample)]
    assert ids[0] == ids[1]  # the same episodes as from the file
    fill(sample, change={2: {"DIAG_01": "R69X"}})
    got = run("score", url, "--table", "episodes", sample, "--no-rules")
    assert got.exit_code == 0 and "9 correct, 1 errors" in got.output


def test_the_csv_sample_filled_in_is_scored_too(tmp_path):
    import pandas as pd

    out = tmp_path / "sample.csv"
    assert run("sample", HES, "--size", 10, "--seed", 3, "-o", out).exit_code == 0
    filled = pd.read_csv(out, dtype=str, keep_default_na=False)
    for name in [c for c in filled.columns if c.startswith("ORIGINAL_")]:
        filled[name[len("ORIGINAL_"):]] = filled[name]
    filled.loc[9, "DIAG_01"] = ""  # not re-coded yet
    filled.to_csv(out, index=False)
    report = tmp_path / "score.json"
    assert run("score", HES, out, "-o", report, "--no-rules").exit_code == 0
    got = json.loads(report.read_text())
    assert got["episodes_scored"] == 9 and got["not_recoded"] == [filled.loc[9, "EPISODE_ID"]]
    assert got["areas"]["primary_diagnosis"]["percent"] == 100.0


def test_nothing_to_sample_is_exit_2_and_nothing_scored_fails_the_gate(sample):
    got = run("sample", HES, "--filter", "specialty=999", "--seed", 1, "-o", sample.parent / "none.xlsx")
    assert got.exit_code == 2 and "no audited episode passes the filters" in got.output
    # the sample as written: nobody has re-coded anything yet
    got = run("score", HES, sample, "--no-rules")
    assert got.exit_code == 0 and "0 episodes scored; 10 not yet re-coded" in got.output
    got = run("score", HES, sample, "--no-rules", "--fail-below", "met")
    assert got.exit_code == 1 and "no episode scored" in got.output


def test_errors_on_episodes_no_rule_flagged_are_what_the_rules_miss(tmp_path):
    original = tmp_path / "orig.csv"
    original.write_text("EPIKEY,MAINSPEF,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"
                        "M1,100,C787,C187,J124,Y539\n"  # clean for the rules
                        "M2,100,C787,C187,J124,Y539\n")
    recoded = tmp_path / "recoded.csv"
    recoded.write_text("EPIKEY,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02\n"
                       "M1,C787,C182,J124,Y539\n"  # the auditor changes a secondary diagnosis: no rule saw it
                       "M2,C787,C187,J124,Y539\n")
    out = tmp_path / "score.xlsx"
    assert run("score", original, recoded, "-o", out, "--select", "IPG327").exit_code == 0
    ws = openpyxl.load_workbook(out)["Missed by the rules"]
    assert [c.value for c in ws[2]] == ["M1", 0, 1, 0, 0] and ws.max_row == 2
