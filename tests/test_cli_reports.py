"""The command line: formats and outputs, gating exit codes, baselines, compare, redaction, settings."""

import json

import openpyxl
import pytest
from click.testing import CliRunner

from audit.cli import main
from tests.conftest import REPO
from tests.samples import ROWS, write_extract

NICE_RULES = REPO / "rulesets" / "nice"

NEW_ERROR = ("3001", "RXA", "2024-05-01", "100", ["C787", "C181"], ["J124"])  # IPG327-01
NEW_WARNING = ("3002", "RXA", "2024-05-02", "100", ["C787"], ["J127"])  # IPG406-02 (info)


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # settings are read from the current folder
    monkeypatch.delenv("AUDIT_REDACT_KEY", raising=False)
    runner = CliRunner()

    def invoke(*args, env=None):
        args = [str(a) for a in args]
        if args[0] in ("run", "baseline") and "--rules" not in args:
            args += ["--rules", str(NICE_RULES)]  # counts below are of the NICE rules (and built-in checks)
        return runner.invoke(main, args, env=env, catch_exceptions=False)
    return invoke


@pytest.fixture
def extract(tmp_path):
    return write_extract(tmp_path / "extract.csv")


@pytest.mark.parametrize("options, code", [
    ([], 1),
    (["--fail-on", "never"], 0),
    (["--exit-zero"], 0),
    (["--select", "IPG406"], 0),  # info findings only
    (["--select", "IPG406", "--fail-on", "info"], 1),
    (["--select", "HTG532-02", "--fail-on", "warning"], 1),
    (["--select", "HTG532-02"], 0),  # a warning does not fail at the default fail-on error
    (["--max-findings", "13"], 1),  # 14 error findings
    (["--max-findings", "14"], 0),
    (["--ignore", "IPG327,DATA,HTG532-01"], 0),
    (["--severity", "IPG327=warning", "--ignore", "DATA,HTG532-01"], 0),
    (["--severity", "IPG327=warning", "--ignore", "DATA,HTG532-01", "--fail-on", "warning"], 1),
])
def test_gating_exit_codes(cli, extract, options, code):
    result = cli("run", extract, "--format", "json", *options)
    assert result.exit_code == code, result.output
    json.loads(result.stdout)


def test_settings_file_and_command_line(cli, extract, tmp_path):
    (tmp_path / "audit.toml").write_text('select = ["IPG406"]\nfail-on = "info"\n[severity]\n"IPG406-02" = "info"\n')
    assert cli("run", extract, "--format", "json").exit_code == 1
    assert cli("run", extract, "--format", "json", "--fail-on", "error").exit_code == 0  # CLI wins
    listing = cli("rules", "list").stdout.splitlines()
    status = {line.split()[0]: line.split()[1] for line in listing}
    assert status["IPG406-01"] == "active" and status["IPG327-01"] == "off"
    assert "info (set)" in next(line for line in listing if line.startswith("IPG406-02"))
    (tmp_path / "audit.toml").write_text('select = ["NOPE"]\n')
    bad = cli("run", extract)
    assert bad.exit_code == 2 and "no rule matches 'NOPE'" in bad.stderr and "Traceback" not in bad.output


def test_several_formats_in_one_run(cli, extract, tmp_path):
    result = cli("run", extract, "--format", "csv", "-o", "a.csv", "--format", "html", "-o", "r.html",
                 "-o", "x.xlsx", "-o", "r.sarif", "-o", "j.junit.xml", "-o", "f.parquet", "-o", "f.jsonl")
    assert result.exit_code == 1, result.stderr  # 2 formats, 7 outputs: the rest by their extensions
    result = cli("run", extract, "-o", "a.csv", "-o", "r.html", "-o", "x.xlsx", "-o", "r.sarif",
                 "-o", "j.junit.xml", "-o", "f.parquet", "-o", "f.jsonl", "-o", "r.json")
    assert result.exit_code == 1 and result.stdout == ""
    for name in ("a.csv", "r.html", "x.xlsx", "r.sarif", "j.junit.xml", "f.parquet", "f.jsonl", "r.json"):
        assert (tmp_path / name).stat().st_size > 0
    assert "<!DOCTYPE html>" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize("args, problem", [
    (["--format", "csv", "-o", "r.html"], "the extension says html"),
    (["-o", "report.weird"], "cannot tell the format"),
    (["--format", "csv", "--format", "json"], "more than one report would go to standard output"),
    (["--redact"], "--redact needs a key"),
    (["--baseline", "missing.json"], "no such baseline file"),
    (["--statistics", "--format", "json"], "--statistics prints to standard output"),
    (["--severity", "IPG327"], "RULE=SEVERITY"),
])
def test_option_errors_exit_2(cli, extract, args, problem):
    result = cli("run", extract, *args)
    assert result.exit_code == 2 and problem in result.stderr and "Traceback" not in result.output


def test_statistics(cli, extract):
    result = cli("run", extract, "--statistics")
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["8", "IPG327-01", "error"]
    assert lines[-1].split() == ["17", "total"]
    assert result.stderr == ""  # no progress bar when standard error is not a terminal


def test_ci_gates_on_new_error_findings_only(cli, extract, tmp_path):
    made = cli("baseline", "create", extract, "-o", "baseline.json")
    assert made.exit_code == 0 and "wrote 17 baseline entries" in made.stderr
    doc = json.loads((tmp_path / "baseline.json").read_text())
    assert {"fingerprint", "rule_id", "episode_id", "found", "reason"} <= set(doc["entries"][0])
    assert cli("run", extract, "--baseline", "baseline.json").exit_code == 0

    later = write_extract(tmp_path / "later.csv", [r for r in ROWS if r[0] != "1002"] + [NEW_WARNING])
    result = cli("run", later, "--baseline", "baseline.json", "--format", "json")
    assert result.exit_code == 0  # only an info finding is new
    out = json.loads(result.stdout)
    assert [f["episode_id"] for f in out["findings"]] == ["3002"]
    assert out["summary"]["baseline"]["stale"] == 2
    assert {e["episode_id"] for e in out["summary"]["baseline"]["stale_entries"]} == {"1002"}

    worse = write_extract(tmp_path / "worse.csv", ROWS + [NEW_ERROR])
    result = cli("run", worse, "--baseline", "baseline.json", "--format", "json")
    assert result.exit_code == 1
    assert [f["episode_id"] for f in json.loads(result.stdout)["findings"]] == ["3001"]


def test_compare_command(cli, extract, tmp_path):
    cli("run", extract, "-o", "old.json")
    later = write_extract(tmp_path / "later.csv", [r for r in ROWS if r[0] != "1002"] + [NEW_ERROR])
    cli("run", later, "-o", "new.json")
    table = cli("compare", "old.json", "new.json")
    assert table.exit_code == 0 and "IPG327-01" in table.stdout and "1 new, 2 fixed" in table.stdout
    data = json.loads(cli("compare", "old.json", "new.json", "--format", "json").stdout)
    per = {r["rule_id"]: r for r in data["rules"]}
    assert (per["IPG327-01"]["new"], per["IPG327-01"]["fixed"]) == (1, 1)
    bad = cli("compare", "old.json", "nothing.json")
    assert bad.exit_code == 2 and "nothing.json" in bad.stderr


def test_redact_every_output(cli, extract, tmp_path):
    env = {"AUDIT_REDACT_KEY": "a-secret"}
    result = cli("run", extract, "--redact", "-o", "a.csv", "-o", "r.html", "-o", "x.xlsx", "-o", "r.sarif",
                 "-o", "j.xml", "-o", "f.jsonl", "-o", "r.json", "--format", "github", "-o", "gh.txt", env=env)
    assert result.exit_code == 1, result.stderr  # github to gh.txt: the one file without a known extension
    result = cli("run", extract, "--redact", "-o", "a.csv", "-o", "r.html", "-o", "x.xlsx", "-o", "r.sarif",
                 "-o", "j.xml", "-o", "f.jsonl", "-o", "r.json", env=env)
    assert result.exit_code == 1
    gh = cli("run", extract, "--redact", "--redact-key", "a-secret", "--format", "github")
    texts = [(tmp_path / n).read_text(encoding="utf-8") for n in
             ("a.csv", "r.html", "r.sarif", "j.xml", "f.jsonl", "r.json")] + [gh.stdout]
    wb = openpyxl.load_workbook(tmp_path / "x.xlsx")
    texts.append("\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row))
    for text in texts:
        for hidden in ("HYPERLINK", "@SUM", "+441", "alert(&#39;id", "alert('id", "1016"):
            assert hidden not in text
    first = json.loads((tmp_path / "r.json").read_text())["findings"][0]["episode_id"]
    assert first.startswith("R-") and first in texts[-2]
    made = cli("baseline", "create", extract, "--redact", "-o", "b.json", env=env)
    assert made.exit_code == 0 and "1002" not in (tmp_path / "b.json").read_text()
    assert cli("run", extract, "--redact", "--baseline", "b.json", env=env).exit_code == 0
    assert cli("run", extract, "--baseline", "b.json").exit_code == 2
