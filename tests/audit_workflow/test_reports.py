"""Score reports: the JSON's exact keys and figures, HTML escaped, Excel safe, same score same bytes."""

from __future__ import annotations

import io
import json

import openpyxl

from audit.audit_workflow import reports
from audit.audit_workflow.score import score
from tests.audit_workflow.test_score import ORIGINAL, RECODED, frame

SCRIPT = "<script>alert(1)</script>"


def scored_with_hostile_ids():
    original = frame([(SCRIPT, "100", ["C787"], []), ("=SUM(A1)", "=cmd", ["C787"], [])])
    recoded = frame([(SCRIPT, "100", ["C18.7"], []), ("=SUM(A1)", "=cmd", ["C787"], [])])
    return score(original, recoded)


def test_json_has_exactly_the_keys_and_the_hand_computed_figures():
    report = json.loads(reports.json_text(score(ORIGINAL, RECODED)))
    assert report == {
        "episodes_scored": 5, "not_recoded": ["E6"],
        "areas": {  # see test_score for the arithmetic
            "primary_diagnosis": {"correct": 3, "errors": 2, "percent": 60.0, "ci_low": 23.07, "ci_high": 88.24,
                                  "attainment": "not met"},
            "secondary_diagnoses": {"correct": 6, "errors": 6, "percent": 50.0, "ci_low": 25.38,
                                    "ci_high": 74.62, "attainment": "not met"},
            "primary_procedure": {"correct": 1, "errors": 3, "percent": 25.0, "ci_low": 4.56, "ci_high": 69.94,
                                  "attainment": "not met"},
            "secondary_procedures": {"correct": 2, "errors": 1, "percent": 66.67, "ci_low": 20.77,
                                     "ci_high": 93.85, "attainment": "not met"},
        },
        "rules": [],
    }


def test_html_is_escaped_and_deterministic():
    s = scored_with_hostile_ids()
    html = reports.html_text(s)
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html == reports.html_text(scored_with_hostile_ids())
    assert "script-src" not in html  # no script at all: the policy allows styles only


def test_excel_neutralises_formulas_and_is_deterministic():
    data = reports.xlsx_bytes(scored_with_hostile_ids())
    assert data == reports.xlsx_bytes(scored_with_hostile_ids())
    wb = openpyxl.load_workbook(io.BytesIO(data))
    values = [c.value for ws in wb for row in ws.iter_rows() for c in row]
    assert "'=SUM(A1)" in values and "'=cmd" in values
    assert not any(c.data_type == "f" for ws in wb for row in ws.iter_rows() for c in row)


def test_html_and_excel_list_the_errors_by_code():
    s = score(ORIGINAL, RECODED)
    html = reports.html_text(s)
    assert 'id="codes-in-error"' in html and "<code>E87.1</code></td><td><code>E87.6</code>" in html
    wb = openpyxl.load_workbook(io.BytesIO(reports.xlsx_bytes(s)))
    rows = [tuple(c.value for c in r) for r in wb["Errors"].iter_rows(min_row=2)]
    assert ("E3", "secondary_diagnoses", "wrong", "E87.1", "E87.6") in rows and len(rows) == 12
