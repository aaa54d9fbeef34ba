"""The command line with reference tables and local options: flags, settings, notes, exit codes."""

import json

from click.testing import CliRunner

from audit.cli import main
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"
SAMPLE = str(FIXTURES / "national" / "hes_national_sample.csv")
REFERENCE = str(FIXTURES / "reference")


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_without_reference_the_summary_says_so_once():
    result = run("run", SAMPLE, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    notes = [n for n in doc["summary"]["notes"] if "reference tables not given" in n]
    assert len(notes) == 1 and "REF-01" in notes[0]
    assert "found_titles" not in doc["findings"][0]
    assert not any(r["rule_id"].startswith("REF-") for r in doc["rules"])


def test_with_reference_titles_appear_in_csv_and_json():
    result = run("run", SAMPLE, "--reference", REFERENCE, "--format", "json")
    doc = json.loads(result.output)
    assert not any("reference tables not given" in n for n in doc["summary"]["notes"])
    n27 = [f for f in doc["findings"] if f["episode_id"] == "N27"]
    assert n27[0]["rule_id"] == "REF-03" and n27[0]["found_titles"] == "C61 Prostate cancer (fixture)"
    csv = run("run", SAMPLE, "--reference", REFERENCE, "--format", "csv").output
    assert csv.splitlines()[0].startswith("episode_id,rule_id,severity,message,guidance,expected,found,found_titles")


def test_table_shows_titles(tmp_path):
    out = tmp_path / "report.txt"
    run("run", SAMPLE, "--reference", REFERENCE, "--output", str(out))
    text = out.read_text()
    assert "Codes" in text and "Prostate cancer" in text


def test_malformed_reference_is_a_one_line_error_with_exit_2():
    result = run("run", SAMPLE, "--reference", str(FIXTURES / "reference-malformed"))
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert "_BROKEN.txt:4 (column GENDER_MASK)" in result.output


def test_missing_reference_folder_exit_2():
    result = run("run", SAMPLE, "--reference", "no/such/folder")
    assert result.exit_code == 2 and "no such reference folder" in result.output


def test_option_flag_and_bad_option():
    on = json.loads(run("run", SAMPLE, "--format", "json", "--option", "procurement_codes_collected=true").output)
    assert {"NAT-OPCS-07", "IPG446-03"} <= {r["rule_id"] for r in on["rules"]}
    bad = run("run", SAMPLE, "--option", "procurement=true")
    assert bad.exit_code == 2 and "unknown option 'procurement'" in bad.output


def test_option_of_a_rule_left_out_by_select_is_still_known(tmp_path, monkeypatch):
    # --select keeps only the data checks; the option belongs to a NICE rule it left out.
    doc = json.loads(run("run", SAMPLE, "--format", "json", "--select", "DATA",
                         "--option", "procurement_codes_collected=true").output)
    assert doc["rules"] and all(r["rule_id"].startswith("DATA") for r in doc["rules"])
    (tmp_path / "audit.toml").write_text('[tool.audit]\nselect = ["DATA"]\n'
                                         '[tool.audit.options]\nprocurement_codes_collected = true\n')
    monkeypatch.chdir(tmp_path)
    assert run("run", SAMPLE, "--format", "json").exit_code in (0, 1)


def test_settings_in_audit_toml(tmp_path, monkeypatch):
    (tmp_path / "audit.toml").write_text(
        f'[tool.audit]\nreference = "{REFERENCE}"\n[tool.audit.options]\nprocurement_codes_collected = true\n')
    monkeypatch.chdir(tmp_path)
    doc = json.loads(run("run", SAMPLE, "--format", "json").output)
    rules = {r["rule_id"] for r in doc["rules"]}
    assert "REF-03" in rules and "NAT-OPCS-07" in rules and "NAT-OPCS-06" not in rules
    # The command line wins over the settings.
    doc = json.loads(run("run", SAMPLE, "--format", "json", "--option", "procurement_codes_collected=false").output)
    assert "NAT-OPCS-06" in {r["rule_id"] for r in doc["rules"]}


def test_rules_list_show_and_test():
    listing = run("rules", "list").output
    assert "NAT-OPCS-07" in listing and "[off unless option procurement_codes_collected]" in listing
    assert "REF-03" in listing and "[needs --reference]" in listing
    shown = run("rules", "show", "NAT-OPCS-06").output
    assert "Off when the local option procurement_codes_collected is on" in shown
    shown = run("rules", "show", "REF-04").output
    assert "Needs your classification tables (--reference DIR)" in shown and "age 7001" in shown
    tested = run("rules", "test")
    assert tested.exit_code == 0 and "6 rules" not in tested.output and "skipped (need --reference)" in tested.output
    tested = run("rules", "test", "--reference", REFERENCE)
    assert tested.exit_code == 0 and "0 failed" in tested.output and "skipped" not in tested.output


def test_with_reference_titles_appear_in_every_report(tmp_path):
    outputs = {fmt: tmp_path / name for fmt, name in (
        ("html", "r.html"), ("junit", "r.junit.xml"), ("sarif", "r.sarif"), ("github", "r.github.log"),
        ("xlsx", "r.xlsx"), ("csv", "r.csv"), ("jsonl", "r.jsonl"), ("table", "r.txt"))}
    args = [x for fmt, path in outputs.items() for x in ("--format", fmt, "--output", str(path))]
    result = run("run", SAMPLE, "--reference", REFERENCE, *args)
    assert result.exit_code == 1, result.output
    for fmt, path in outputs.items():
        if fmt == "xlsx":
            import openpyxl
            sheet = openpyxl.load_workbook(path)["Findings"]
            text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
        else:
            text = path.read_text(encoding="utf-8")
        assert "Prostate cancer (fixture)" in text, fmt
