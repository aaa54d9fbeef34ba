"""Every finding says where its episode is in the extract: a CSV's line (SARIF's region, GitHub's line=), or
another format's row number (said as a row, never as a line of a binary file)."""

from __future__ import annotations

import json

import pandas as pd

from audit.pipeline import run_audit
from audit.report import github, sarif
from audit.rules import load_rules

CSV = (
    "EPIKEY,DIAG_01,OPERTN_01,OPERTN_02\n"
    "A1,C787,J124,Y539\n"  # line 2: clean for IPG327-01 (Y53 in the J12.4 block)
    '"B2","C78.7",J124,\n'  # line 3: J12.4 without Y53
    "\n"  # a blank line: skipped, and counted in the lines after it
    "C3,C787,J124,\n"  # line 5
)


def _run(path):
    return run_audit(path, load_rules())


def _lines(result, rule="IPG327-01"):
    f = result.findings
    return dict(zip(f.loc[f["rule_id"] == rule, "episode_id"], f.loc[f["rule_id"] == rule, "line"]))


def test_csv_findings_carry_the_line_their_record_starts_on(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(CSV)
    result = _run(path)
    assert result.located_by == "line"
    assert _lines(result) == {"B2": 3, "C3": 5}
    log = sarif.document(result)
    by_episode = {r["properties"]["episode_id"]: r for r in log["runs"][0]["results"]
                  if r["ruleId"] == "IPG327-01"}
    region = by_episode["C3"]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 5}
    annotations = [a for a in github.lines(result) if "IPG327-01" in a and "episode C3" in a]
    assert annotations and all(f"file={path},line=5," in a for a in annotations)


def test_parquet_and_sheet_rows_are_rows_not_lines(tmp_path):
    frame = pd.DataFrame({"EPIKEY": ["A1", "B2", "C3"], "DIAG_01": ["C787"] * 3,
                          "OPERTN_01": ["J124"] * 3, "OPERTN_02": ["Y539", "", ""]})
    for name, write, first_row in (("e.parquet", frame.to_parquet, 1), ("e.xlsx", frame.to_excel, 2)):
        path = tmp_path / name
        write(path, index=False)
        result = _run(path)
        assert result.located_by == "row"
        assert _lines(result) == {"B2": first_row + 1, "C3": first_row + 2}
        log = json.loads(json.dumps(sarif.document(result)))
        c3 = next(r for r in log["runs"][0]["results"]
                  if r["ruleId"] == "IPG327-01" and r["properties"]["episode_id"] == "C3")
        assert "region" not in c3["locations"][0]["physicalLocation"]
        assert c3["properties"]["row"] == first_row + 2
        said = next(a for a in github.lines(result) if "IPG327-01" in a and "episode C3" in a)
        assert ",line=" not in said and f"episode C3 (row {first_row + 2}):" in said


def test_a_long_file_s_episode_is_at_its_first_row(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("EPIKEY,CODE_TYPE,POSITION,CODE\n"
                    "A1,D,1,C787\nA1,P,1,J124\n"
                    "B2,D,1,C787\nB2,P,1,J124\nB2,P,2,Y539\n"
                    "C3,D,1,C787\nC3,P,1,J124\n")
    assert _lines(_run(path)) == {"A1": 2, "C3": 7}


def test_the_artifact_is_the_path_as_given(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "my extract.csv").write_text(CSV)
    monkeypatch.chdir(tmp_path)
    from pathlib import Path

    log = sarif.document(_run(Path("data/my extract.csv")))
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == "data/my%20extract.csv"
