import json

import pytest

from audit.compare import compare, load_result, write_csv, write_table
from audit.errors import UserError
from audit.report.jsonout import document
from tests.samples import ROWS, run_sample


def as_json(result):
    return json.loads(json.dumps(document(result)))


def test_new_fixed_and_persisting_per_rule(tmp_path):
    old = as_json(run_sample(tmp_path))
    rows = [r for r in ROWS if r[0] != "1002"] + [("2001", "RXA", "2024-05-01", "100", ["C220"], ["J128", "Y123"])]
    new = as_json(run_sample(tmp_path, rows))
    cmp = compare(old, new)
    per = {r["rule_id"]: r for r in cmp["rules"]}
    assert per["IPG327-01"]["fixed"] == 1 and per["IPG327-01"]["new"] == 0
    assert per["IPG327-01"]["persisting"] == per["IPG327-01"]["old_findings"] - 1
    assert per["IPG327-02"]["fixed"] == 1
    assert per["HTG532-01"]["new"] == 1 and per["HTG532-01"]["persisting"] == 1
    assert per["IPG446-01"]["old_findings"] == per["IPG446-01"]["new_findings"] == 0  # every rule listed
    audited_old, audited_new = old["summary"]["episodes_audited"], new["summary"]["episodes_audited"]
    assert per["HTG532-01"]["old_rate"] == round(1000 * 1 / audited_old, 3)
    assert per["HTG532-01"]["new_rate"] == round(1000 * 2 / audited_new, 3)
    assert per["HTG532-01"]["rate_change"] == round(per["HTG532-01"]["new_rate"] - per["HTG532-01"]["old_rate"], 3)
    assert cmp["totals"] == {k: sum(r[k] for r in cmp["rules"]) for k in ("new", "fixed", "persisting")}
    assert per["HTG532-02"]["severity"] == "error/warning"


def test_writers(tmp_path):
    res = as_json(run_sample(tmp_path))
    cmp = compare(res, res)
    assert cmp["totals"]["new"] == cmp["totals"]["fixed"] == 0
    write_table(cmp, tmp_path / "t.txt")
    text = (tmp_path / "t.txt").read_text()
    assert "IPG327-01" in text and "0 new, 0 fixed" in text
    write_csv(cmp, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text().startswith("rule_id,severity,title,old_findings")


def test_baseline_filtered_runs_are_noted(tmp_path):
    res = as_json(run_sample(tmp_path))
    filtered = json.loads(json.dumps(res))
    filtered["summary"]["baseline"] = {"file": "b.json"}
    assert any("baseline" in n for n in compare(res, filtered)["notes"])


@pytest.mark.parametrize("text, problem", [
    ("[", "invalid JSON"), ("{}", "no summary and findings"),
    ('{"summary": {"episodes_audited": "x"}, "findings": []}', "episodes_audited"),
    ('{"summary": {"episodes_audited": 1}, "findings": [{"rule_id": 1}]}', "finding 1"),
])
def test_bad_inputs(tmp_path, text, problem):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(UserError, match=problem):
        load_result(path)
