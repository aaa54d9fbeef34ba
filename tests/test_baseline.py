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
    doc["entries"][0]["reason"] = None  # edited by hand: no reason
    assert baseline.create(result, doc)["entries"][0]["reason"] == ""


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


@pytest.mark.parametrize("spill_rows", [None, 1])
def test_save_writes_what_create_makes(tmp_path, monkeypatch, spill_rows):
    from audit import findings as findings_module

    if spill_rows is not None:
        monkeypatch.setattr(findings_module, "SPILL_ROWS", spill_rows)
    result = run_sample(tmp_path)
    previous = baseline.create(result)
    previous["entries"][1]["reason"] = 'agreed: "see\\ minutes"\n2024'  # text JSON has to escape
    expected, saved = tmp_path / "expected.json", tmp_path / "saved.json"
    baseline.write(baseline.create(result, previous), expected)
    written = baseline.save(result, previous, saved)
    assert saved.read_bytes() == expected.read_bytes()
    assert len(written) == len(previous["entries"]) and written.reasons_kept() == 1
    assert baseline.load(saved)["entries"][1]["reason"] == 'agreed: "see\\ minutes"\n2024'


def test_one_entry_a_fingerprint_the_last_found_kept(tmp_path):
    result = run_sample(tmp_path)
    frame = result.findings
    twice = frame.iloc[[0, 0]].assign(severity=["warning", "error"], found=["A B", "B A"])
    result.all_findings = type(result.all_findings).held(twice.reset_index(drop=True))
    entries = baseline.create(result)["entries"]
    assert [(e["severity"], e["found"]) for e in entries] == [("error", "B A")]


def test_empty_baseline(tmp_path):
    result = run_sample(tmp_path, [r for r in ROWS if r[0] == "1001"])
    result.all_findings = type(result.all_findings).held(result.findings.iloc[0:0])
    saved = tmp_path / "b.json"
    assert len(baseline.save(result, None, saved)) == 0
    assert json.loads(saved.read_text())["entries"] == []
    baseline.write(baseline.create(result), tmp_path / "c.json")
    assert saved.read_bytes() == (tmp_path / "c.json").read_bytes()


@pytest.mark.parametrize("text", ["", "J12.4", "J12.4 Y53.9", " J12.4\tY53.9\u00a0C22.9 ", "A\u2003B\x1fC",
                                  '"C 7.87" J12.4', 'J12.4 "x"'])
def test_code_tokens_are_the_patterns_tokens(text):
    assert baseline.code_tokens(text) == baseline._TOKEN.findall(text)
