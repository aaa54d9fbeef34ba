"""Small synthetic HES extracts for report, baseline and CLI tests (no real data)."""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ["EPIKEY", "PROCODE", "EPIEND", "MAINSPEF",
           "DIAG_01", "DIAG_02", "DIAG_03", "OPERTN_01", "OPERTN_02", "OPERTN_03", "OPERTN_04"]

SCRIPT_ID = "<script>alert('id')</script>"
SCRIPT_CODE = "<script>alert('code')</script>"
FORMULA_IDS = ["=HYPERLINK(\"http://x\")", "+441", "@SUM(A1)", "-7", "\tTAB"]

# (id, provider, end date, specialty, diagnoses, procedures)
ROWS = [
    ("1001", "RXA", "2024-01-15", "100", ["C787", "C187"], ["J124", "Y539"]),        # clean
    ("1002", "RXA", "2024-01-20", "100", ["C787"], ["J124"]),                        # IPG327-01, IPG327-02
    ("1003", "RXB", "2024-02-03", "300", ["C220"], ["J128", "Y123"]),                # HTG532-01, HTG532-02 (warning)
    ("1004", "RXB", "2024-02-10", "300", ["C787"], ["J127"]),                        # IPG406-02 (info)
    ("1005", "RXC", "2024-03-01", "100", ["C7.87"], ["J124", "Y539"]),               # DATA-01
    ("1006", "RXC", "2024-03-02", "100", ["C787", "C182"], ["Y539", "J124"]),        # DATA-03, IPG327-01
    ("1007", "RXA", "2024-03-05", "101", ["I10X"], ["-"]),                           # clean, OPCS placeholder
    ("1008", "RXA", "2024-04-05", "100", ["C787", "C180"], ["J124", "Z291", "J032", "Y539"]),  # IPG327-01
    (SCRIPT_ID, "RXC", "2024-04-06", "100", [SCRIPT_CODE], ["J124"]),                # DATA-01, IPG327-01
    (FORMULA_IDS[0], "=cmd|' /C calc'!A0", "2024-04-07", "100", ["C787"], ["J124"]),
    (FORMULA_IDS[1], "RXB", "2024-04-08", "300", ["C787"], ["J127"]),
    (FORMULA_IDS[2], "RXB", "2024-04-09", "300", ["C787", "C189"], ["J124"]),
    (FORMULA_IDS[3], "RXA", "2024-04-10", "100", ["C787", "C189"], ["J124", "Y534"]),  # clean
    (FORMULA_IDS[4], "RXA", "2024-04-11", "100", ["C787", "C189"], ["J124"]),
    ("-", "RXA", "2024-04-12", "100", ["C787", "C189"], ["J124"]),
    ("1016", "RXA", "not a date", "100", ["C787"], ["J124"]),                        # rejected: bad date
    ("", "RXA", "2024-04-13", "100", ["C787"], ["J124"]),                            # rejected: no id
]


def write_extract(path: Path, rows=ROWS) -> Path:
    """Write rows as a HES wide CSV extract."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for episode_id, provider, end, spec, diags, procs in rows:
            w.writerow([episode_id, provider, end, spec, *(diags + [""] * 3)[:3], *(procs + [""] * 4)[:4]])
    return Path(path)


def run_sample(tmp_path: Path, rows=ROWS, rules=None):
    """Audit a sample extract with the shipped rules; returns the RunResult."""
    from audit.pipeline import run_audit
    from audit.rules import load_rules
    return run_audit(write_extract(tmp_path / "extract.csv", rows), rules or load_rules())
