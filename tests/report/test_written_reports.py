"""Reports are written whole or not at all: under a temporary name in the same folder, renamed when complete;
one report that fails does not stop the others."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from audit import cli
from audit.errors import UserError
from audit.report import write_report
from tests.conftest import REPO

SAMPLE = str(REPO / "sample_episodes" / "hes_sample.csv")


def test_a_report_is_renamed_into_place_when_complete(sample_result, tmp_path):
    out = tmp_path / "r.html"
    write_report(sample_result, "html", out)
    assert out.read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


def test_a_failed_report_leaves_neither_a_half_file_nor_a_temporary_one(sample_result, tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    out.write_text("last month's report\n")

    def half_then_fail(result, output):
        output.write_text('{"summary": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("audit.report.jsonout.write", half_then_fail)
    with pytest.raises(UserError, match=r"r\.json: cannot write the json report \(No space left on device\)"):
        write_report(sample_result, "json", out)
    assert out.read_text() == "last month's report\n"  # untouched: never a file that looks finished
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_an_interrupted_report_is_not_left_behind(sample_result, tmp_path, monkeypatch):
    def interrupted(result, output):
        output.write_text("<html>")
        raise KeyboardInterrupt

    monkeypatch.setattr("audit.report.html.write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(sample_result, "html", tmp_path / "r.html")
    assert not list(tmp_path.iterdir())


def test_one_failing_report_does_not_stop_the_others(tmp_path, monkeypatch):
    def broken(result, output):
        raise ValueError("a bug in the writer")

    monkeypatch.setattr("audit.report.junit.write", broken)
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        done = runner.invoke(cli.main, ["run", SAMPLE, "-o", "r.html", "-o", "junit.xml", "-o", "r.sarif"])
        written = sorted(os.listdir("."))
    assert done.exit_code == 3  # our bug, not the user's: exit 3, with its traceback
    assert "internal error writing the junit report" in done.output and "a bug in the writer" in done.output
    assert written == ["r.html", "r.sarif"]
    assert "wrote the html report to r.html" in done.output and "wrote the sarif report to r.sarif" in done.output
    assert "junit.xml" not in done.output.split("internal error")[0]
