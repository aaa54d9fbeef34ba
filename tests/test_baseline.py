import json

import pytest

from audit import baseline
from audit.errors import UserError
from audit.redact import redact_result
from tests.samples import ROWS, run_sample


def test_fingerprint_is_stable_and_ignores_code_order():
    a = baseline.fingerprint("IPG327-01", "1002", "J12.4 Y53.9")
    assert a == baseline.fingerprint("IPG327-01", "1002", "Y53.9 J12.4")
    assert a != baseline.fingerprint("IPG327-01", "1003", "J12.4 Y53.9")
    assert a != baseline.fingerprint("IPG327-02", "1002", "J12.4 Y53.9")
    assert len(a) == 32
    assert baseline.code_tokens('"C 7.87" J12.4') == ['"C 7.87"', "J12.4"]


def test_create_then_apply_leaves_no_new_findings(tmp_path):
    result = run_sample(tmp_path)
    doc = baseline.create(result)
    assert len(doc["entries"]) == len(result.findings)
    assert all(e["reason"] == "" for e in doc["entries"])
    assert [(e["rule_id"], e["episode_id"]) for e in doc["entries"]] == \
        sorted((e["rule_id"], e["episode_id"]) for e in doc["entries"])
    path = tmp_path / "baseline.json"
    baseline.write(doc, path)
    again = run_sample(tmp_path)
    baseline.apply(again, baseline.load(path), path)
    assert len(again.findings) == 0
    assert again.baseline["matched"] == len(result.findings) and again.baseline["stale"] == 0
    assert again.summary()["baseline"]["new"] == 0


def test_new_findings_and_stale_entries(tmp_path):
    first = run_sample(tmp_path)
    doc = baseline.create(first)
    fixed = [r for r in ROWS if r[0] != "1002"]  # 1002 corrected
    fixed.append(("2001", "RXA", "2024-05-01", "100", ["C787"], ["J124"]))  # a new mistake
    later = run_sample(tmp_path, fixed)
    baseline.apply(later, doc, tmp_path / "b.json")
    assert set(later.findings["episode_id"]) == {"2001"}
    stale = later.baseline["stale_entries"]
    was_1002 = {(r, "1002") for r in first.findings.loc[first.findings["episode_id"] == "1002", "rule_id"]}
    assert {("IPG327-01", "1002"), ("IPG327-02", "1002")} <= was_1002
    assert {(e["rule_id"], e["episode_id"]) for e in stale} == was_1002
    assert later.baseline["stale"] == len(was_1002)


def test_reasons_are_kept_when_recreated(tmp_path):
    result = run_sample(tmp_path)
    doc = baseline.create(result)
    doc["entries"][0]["reason"] = "agreed with the coding manager"
    again = baseline.create(result, doc)
    assert again["entries"][0]["reason"] == "agreed with the coding manager"
    assert json.dumps(again) == json.dumps(baseline.create(result, doc))  # deterministic


def test_redacted_baselines_need_redacted_runs(tmp_path):
    result = run_sample(tmp_path)
    redact_result(result, "k")
    doc = baseline.create(result)
    assert doc["redacted"] and all(e["episode_id"].startswith("R-") for e in doc["entries"] if e["episode_id"])
    plain = run_sample(tmp_path)
    with pytest.raises(UserError, match="made with --redact"):
        baseline.apply(plain, doc, tmp_path / "b.json")
    same_key = run_sample(tmp_path)
    redact_result(same_key, "k")
    baseline.apply(same_key, doc, tmp_path / "b.json")
    assert len(same_key.findings) == 0


@pytest.mark.parametrize("text, problem", [
    ("{", "invalid JSON"),
    ('{"tool": "other", "entries": []}', "not a baseline file"),
    ('{"tool": "coding-audit", "version": 9, "entries": []}', "version 9"),
    ('{"tool": "coding-audit", "version": 1, "entries": [{"rule_id": "X"}]}', "entry 1"),
])
def test_bad_baseline_files(tmp_path, text, problem):
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(UserError, match=problem):
        baseline.load(path)
    with pytest.raises(UserError, match="no such baseline"):
        baseline.load(tmp_path / "missing.json")
