import os
import shutil
import subprocess

import openpyxl
import pytest

from audit.report.xlsx import workbook_bytes, write
from tests.samples import FORMULA_IDS, SCRIPT_ID

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def workbook(sample_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    write(sample_result, path)
    return path, openpyxl.load_workbook(path)


def test_sheets_headers_filters_and_frozen_rows(workbook, sample_result):
    _, wb = workbook
    assert wb.sheetnames[:5] == ["Summary", "Findings", "Rejected", "Uncoded", "Rules"]
    assert set(wb.sheetnames[5:]) <= {"Top rules", "Per provider", "Per specialty", "Per coder"}  # audit.report.xlsx_groups
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws["A1"].font.bold
        assert ws.column_dimensions["A"].width >= 8
    findings = wb["Findings"]
    header = [c.value for c in findings[1]]
    assert header[:8] == ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found", "codes"]
    assert findings.max_row == len(sample_result.findings) + 1
    assert findings.auto_filter.ref == f"A1:{findings.cell(1, len(header)).column_letter}{findings.max_row}"
    assert wb["Rejected"].max_row == len(sample_result.rejected) + 1


def test_summary_reconciles(workbook, sample_result):
    _, wb = workbook
    values = {row[0].value: row[1].value for row in wb["Summary"].iter_rows(min_row=2)}
    s = sample_result.summary()
    assert values["Episodes read"] == s["episodes_read"] == values["Episodes audited"] + \
        values["Episodes uncoded (see Uncoded)"] + values["Episodes rejected (see Rejected)"]
    assert values["Read = audited + uncoded + rejected"] == "yes"
    assert values["Errors"] == s["errors"]


def test_no_cell_can_be_a_formula(workbook):
    _, wb = workbook
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    text = [c.value for c in cells if isinstance(c.value, str)]
    assert not [v for v in text if v.startswith(TRIGGERS) and v != "-"]
    ids = [c.value for c in wb["Findings"]["A"][1:]]
    assert "'" + FORMULA_IDS[0] in ids and "'@SUM(A1)" in ids and "-" in ids and SCRIPT_ID in ids


def test_dates_are_dates(workbook):
    _, wb = workbook
    ws = wb["Findings"]
    col = [c.value for c in ws[1]].index("end_date") + 1
    cell = ws.cell(2, col)
    assert cell.is_date and cell.value.year == 2024


def test_same_input_same_bytes(sample_result):
    assert workbook_bytes(sample_result) == workbook_bytes(sample_result)


def test_libreoffice_opens_it(workbook, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing in CI: .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice not installed")
    path, _ = workbook
    subprocess.run([office, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    assert (tmp_path / "report.csv").read_text(encoding="utf-8", errors="replace").strip()
