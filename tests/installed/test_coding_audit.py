"""``audit sample`` and ``audit score`` from the installed wheel, in a folder of the user's own."""

from __future__ import annotations

import json

import openpyxl


def _fill(path, changed_primary: str) -> None:
    """The auditor's work: the original codes copied, the first episode's primary diagnosis changed."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Sample"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        for j, name in enumerate(header):
            if name.startswith("ORIGINAL_"):
                ws.cell(row=r, column=header.index(name[len("ORIGINAL_"):]) + 1, value=ws.cell(r, j + 1).value)
    ws.cell(row=2, column=header.index("DIAG_01") + 1, value=changed_primary)
    wb.save(path)


def test_a_months_coding_audit(installed, user_folder):
    sampled = installed.run("sample", "hes_sample.csv", "--size", 20, "--seed", 2026, "-o", "sample.xlsx",
                            cwd=user_folder)
    assert sampled.returncode == 0, sampled.stderr
    assert "sampled 20 of 94" in sampled.stderr
    assert openpyxl.load_workbook(user_folder / "sample.xlsx").sheetnames == ["Sample", "Instructions"]
    _fill(user_folder / "sample.xlsx", "R69X")
    scored = installed.run("score", "hes_sample.csv", "sample.xlsx", "-o", "audit.json", "-o", "audit.html",
                           "-o", "audit.xlsx", cwd=user_folder)
    assert scored.returncode == 0, scored.stderr
    report = json.loads((user_folder / "audit.json").read_text(encoding="utf-8"))
    assert report["episodes_scored"] == 20
    assert report["areas"]["primary_diagnosis"]["correct"] == 19  # 19 of 20: 95%, exceeded
    assert report["areas"]["primary_diagnosis"]["attainment"] == "exceeded"
    assert "Rule precision" in (user_folder / "audit.html").read_text(encoding="utf-8")
    below = installed.run("score", "hes_sample.csv", "sample.xlsx", "--fail-below", "exceeded", "--no-rules",
                          cwd=user_folder)
    assert below.returncode == 0, below.stderr  # 95% is not under 95%
    (user_folder / "audit.toml").write_text("[attainment.met]\nprimary_diagnosis = 99\nsecondary_diagnoses = 80\n"
                                            "primary_procedure = 90\nsecondary_procedures = 80\n")
    below = installed.run("score", "hes_sample.csv", "sample.xlsx", "--fail-below", "met", "--no-rules",
                          cwd=user_folder)
    assert below.returncode == 1 and "primary_diagnosis" in below.stderr
    missing = installed.run("score", "hes_sample.csv", "nowhere.xlsx", cwd=user_folder)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
