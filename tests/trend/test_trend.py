import base64
import csv
import io
import json
import os
import re

import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.trend import trend
from audit.trend.output import render
from tests.report.browser import Browser, chromium_path


def _finding(rule, episode, found, coder, severity="error"):
    return {"rule_id": rule, "episode_id": episode, "found": found, "coder": coder, "severity": severity,
            "message": f"{rule} <b>on</b> {episode}"}


def _run(source, audited, findings):
    rules = [{"rule_id": "R1", "severity": "error", "title": "Rule one"},
             {"rule_id": "R2", "severity": "warning", "title": "Rule <two>"}]
    return {"summary": {"source": source, "episodes_audited": audited}, "rules": rules, "findings": findings}


@pytest.fixture
def three_months(tmp_path):
    months = {
        "2026-01": _run("jan.csv", 100, [_finding("R1", "E1", "A", "ann"), _finding("R1", "E2", "A", "bob"),
                                         _finding("R2", "E3", "B", "ann", "warning")]),
        "2026-02": _run("feb.csv", 200, [_finding("R1", "E1", "A", "ann"), _finding("R2", "E4", "B", "bob", "warning")]),
        "2026-03": _run("mar.csv", 50, [_finding("R2", "E4", "B", "bob", "warning"), _finding("R1", "E9", "A", "")]),
    }
    paths = []
    for name, doc in months.items():
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(p)
    return paths


def test_three_months_side_by_side(three_months):
    t = trend(three_months)
    assert [r["label"] for r in t["runs"]] == ["2026-01", "2026-02", "2026-03"]
    assert [(r["new"], r["fixed"], r["persisting"]) for r in t["runs"]] == [(None, None, None), (1, 2, 1), (1, 1, 1)]
    r1 = next(r for r in t["rules"] if r["rule_id"] == "R1")
    assert r1["findings"] == [2, 1, 1] and r1["rates"] == [20.0, 5.0, 20.0]
    assert (r1["new"], r1["fixed"], r1["persisting"]) == ([0, 1], [1, 1], [1, 0])
    coders = {c["coder"]: c for c in t["coders"]}
    assert set(coders) == {"ann", "bob", "(blank)"}
    assert coders["bob"]["findings"] == [1, 1, 1] and coders["bob"]["persisting"] == [0, 1]


def test_needs_two_runs_and_results(three_months, tmp_path):
    runner = CliRunner()
    one = runner.invoke(main, ["trend", str(three_months[0])])
    assert one.exit_code == 2 and "at least two runs" in one.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    wrong = runner.invoke(main, ["trend", str(three_months[0]), str(bad)])
    assert wrong.exit_code == 2 and "bad.json" in wrong.output


def test_json_and_csv(three_months, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["trend", *map(str, three_months), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == json.loads(json.dumps(trend(three_months)))
    table = runner.invoke(main, ["trend", *map(str, three_months), "-o", str(tmp_path / "t.csv")])
    assert table.exit_code == 0, table.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text(encoding="utf-8"))))
    r1 = [r for r in rows if r["table"] == "rule" and r["group"] == "R1"]
    assert [(r["run"], r["findings"], r["new"], r["fixed"]) for r in r1] == [
        ("2026-01", "2", "", ""), ("2026-02", "1", "0", "1"), ("2026-03", "1", "1", "1")]
    assert {r["group"] for r in rows if r["table"] == "coder"} == {"ann", "bob", "(blank)"}


def test_html_escaped_and_deterministic(three_months):
    page = render(trend(three_months))
    assert page == render(trend(three_months))
    assert "Rule &lt;two&gt;" in page and "<two>" not in page
    assert 'id="chart-runs"' in page and 'id="chart-moves"' in page and 'id="trend-coders"' in page
    assert "<script" not in page


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="chromium is not installed (CI installs Debian's chromium, and there this test must run)")
def test_trend_renders_in_headless_chromium(three_months, tmp_path):
    pytest.importorskip("websocket", reason="websocket-client (test extra) drives Chromium's DevTools protocol")
    out = tmp_path / "trend.html"
    result = CliRunner().invoke(main, ["trend", *map(str, three_months), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with Browser(width=1360, height=1000) as browser:
        browser.load(out)
        assert browser.console_errors() == []
        assert browser.evaluate("document.querySelectorAll('svg.chart').length") == 3
        bars = browser.evaluate("Array.from(document.querySelectorAll('svg.chart rect.bar'))"
                                ".filter(r => r.getBBox().width > 0 && r.getBBox().height > 0).length")
        assert bars >= 6
        heads = browser.evaluate("Array.from(document.querySelectorAll('#trend-rules thead th'))"
                                 ".map(t => t.textContent)")
        assert heads[1:4] == ["2026-01", "2026-02", "2026-03"]
        pdf = base64.b64decode(browser.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69)["data"])
        assert browser.console_errors() == []
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf[:5] == b"%PDF-" and 1 <= pages <= 4  # a handout of a few A4 pages
