import shutil
import subprocess

import openpyxl
import pytest

from audit.report.xlsx import workbook_bytes


@pytest.fixture(scope="module")
def workbook(sample_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    path.write_bytes(workbook_bytes(sample_result))
    return path


def test_per_group_sheets_with_rates_and_charts(sample_result, workbook):
    wb = openpyxl.load_workbook(workbook)
    assert {"Top rules", "Per provider", "Per specialty"} <= set(wb.sheetnames)
    sheet = wb["Per specialty"]
    head = [c.value for c in sheet[1]]
    assert head[:3] == ["Specialty", "Episodes coded", "Findings"] and "Findings per 1,000 episodes" in head
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert sum(r[1] for r in rows) == sample_result.episodes_audited
    assert sum(r[2] for r in rows) == len(sample_result.findings)
    assert any(str(r[0]).startswith("300 General Medicine") for r in rows)
    for r in rows:
        assert r[5] == pytest.approx(round(1000 * r[2] / r[1], 1))
    for name in ("Top rules", "Per provider", "Per specialty"):
        charts = wb[name]._charts
        assert len(charts) == 1 and charts[0].series, name
    top = [[c.value for c in r] for r in wb["Top rules"].iter_rows(min_row=2)]
    counts = [r[1] for r in top]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


def test_same_input_same_workbook_bytes(sample_result):
    assert workbook_bytes(sample_result) == workbook_bytes(sample_result)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_workbook(workbook, tmp_path):
    out = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                          "--convert-to", "csv", "--outdir", str(tmp_path), str(workbook)],
                         capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "report.csv").read_text(encoding="utf-8", errors="replace").startswith("Measure")
