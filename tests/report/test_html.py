import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from audit.report import html
from audit.report.html import render, write
from tests.report.browser import Browser, chromium_path
from tests.samples import SCRIPT_CODE, SCRIPT_ID


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.scripts, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


@pytest.fixture(scope="module")
def page(sample_result):
    return render(sample_result)


def test_everything_from_the_data_is_escaped(page):
    assert SCRIPT_ID not in page and SCRIPT_CODE not in page
    assert "&lt;script&gt;alert(&#39;id&#39;)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(&#39;code&#39;)&lt;/script&gt;" in page
    parsed = _Collect()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1  # only the report's own filter script
    assert not any(k.startswith("on") for _, k, _ in parsed.attrs)  # no inline event handlers at all


def test_self_contained_and_offline(page):
    parsed = _Collect()
    parsed.feed(page)
    assert "link" not in parsed.tags and "img" not in parsed.tags and "iframe" not in parsed.tags
    assert not [v for _, k, v in parsed.attrs if k == "src"]
    assert not re.search(r"url\(", page)
    # the only external URLs are links to the guidance a rule cites
    hrefs = [v for tag, k, v in parsed.attrs if k == "href" and not v.startswith("#")]
    assert hrefs and all(v.startswith("https://") for v in hrefs)
    csp = next(v for tag, k, v in parsed.attrs if k == "content" and "default-src" in (v or ""))
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp


def test_totals_charts_and_table(page, sample_result):
    s = sample_result.summary()
    assert (f"{s['episodes_read']} episodes read = {s['episodes_audited']} audited + {s['episodes_uncoded']} uncoded"
            f" + {s['episodes_rejected']} rejected") in " ".join(page.split())
    for chart in ("chart-rule", "chart-severity", "chart-provider", "chart-specialty", "chart-month"):
        assert f'id="{chart}"' in page
    assert "chart-coder" not in page  # no coder column in this extract
    rows = re.findall(r'<tr data-severity="(\w+)" data-rule="([\w-]+)">', page)
    assert len(rows) == len(sample_result.findings)
    assert rows[0] == ("error", "IPG327-01")
    assert 'id="rule-IPG327-01"' in page and "Y53.- Approach to organ under" in " ".join(page.split())


def test_episode_codes_in_order_with_offending_codes_highlighted(page):
    # episode 1008: C78.7 C18.0 | J12.4 Z29.1 J03.2 Y53.9, IPG327-01 found J12.4 Y53.9
    row = next(r for r in page.split("<tr ") if "<code>1008</code>" in r)
    codes = re.findall(r'<span class="code( hit)?">([^<]+)</span>', row)
    assert codes == [("", "C78.7"), ("", "C18.0"), (" hit", "J12.4"), ("", "Z29.1"), ("", "J03.2"),
                     (" hit", "Y53.9")]
    assert '<span class="glabel">Dx</span>' in row and '<span class="glabel">Px</span>' in row


def test_findings_are_grouped_by_episode(page, sample_result):
    # One tbody an episode, in extract order: its heading (id, codes) once, then a row a finding of it.
    groups = re.findall(r'<tbody class="episode-group">(.*?)</tbody>', page, re.S)
    f = sample_result.findings
    assert len(groups) == f["episode_id"].nunique()
    ids = [re.search(r"<code>([^<]*)</code>", g).group(1) for g in groups]
    assert ids == list(dict.fromkeys(f["episode_id"].map(lambda v: str(escape(str(v))))))
    for group, (_, rows) in zip(groups, f.groupby("line", sort=True)):
        assert group.count('class="episode-row"') == 1
        assert re.findall(r'data-rule="([\w-]+)"', group) == list(rows["rule_id"])
        assert f"{len(rows)} finding" in group


def test_same_input_same_bytes(sample_result):
    assert render(sample_result) == render(sample_result)
    assert re.search(r"20\d\d-\d\d-\d\dT", render(sample_result)) is None  # no timestamp


def test_table_is_capped_but_counts_are_not(sample_result, monkeypatch):
    monkeypatch.setattr(html, "MAX_ROWS", 3)
    page = render(sample_result)
    assert len(re.findall(r"<tr data-severity=", page)) == 3
    assert 'id="rows-capped"' in page and f"of {len(sample_result.findings)} findings" in page


def test_no_findings(sample_result):
    empty = type(sample_result)(sample_result.source, sample_result.rules, sample_result.findings.iloc[0:0],
                                sample_result.rejected.iloc[0:0], 3, 3)
    page = render(empty)
    assert 'id="no-findings"' in page and 'id="findings-table"' not in page


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="chromium is not installed (CI installs Debian's chromium, and there this test must run)")
def test_renders_in_headless_chromium(sample_result, tmp_path):
    pytest.importorskip("websocket", reason="websocket-client (test extra) drives Chromium's DevTools protocol")
    report = tmp_path / "report.html"
    write(sample_result, report)
    with Browser(width=1360, height=1000) as browser:
        browser.load(report)
        assert browser.console_errors() == []
        charts = browser.evaluate("document.querySelectorAll('svg.chart').length")
        bars = browser.evaluate("Array.from(document.querySelectorAll('svg.chart rect.bar'))"
                                ".filter(r => r.getBBox().width > 0 && r.getBBox().height > 0).length")
        assert charts == 5 and bars >= 10
        chart_box = browser.evaluate("(() => { const r = document.querySelector('#chart-rule svg')"
                                     ".getBoundingClientRect(); return [r.width, r.height]; })()")
        assert chart_box[0] > 300 and chart_box[1] > 100
        visible = "Array.from(document.querySelectorAll('#findings-table tr[data-severity]')).filter(r => !r.hidden && !r.parentNode.hidden).length"
        assert browser.evaluate(visible) == len(sample_result.findings)
        assert browser.evaluate("document.querySelectorAll('#findings-table .code.hit').length") > 0
        # the injected text is shown as text, and did not become an element
        assert browser.evaluate("document.querySelectorAll('script').length") == 1
        assert SCRIPT_ID in browser.evaluate("document.getElementById('findings-table').innerText")
        # the filter box works
        browser.evaluate("(() => { const i = document.getElementById('filter-text'); i.value = 'htg532';"
                         " i.dispatchEvent(new Event('input')); })()")
        assert browser.evaluate(visible) == int(sample_result.findings["rule_id"].str.startswith("HTG532").sum())
        assert "of" in browser.evaluate("document.getElementById('filter-count').textContent")
        browser.evaluate("(() => { const i = document.getElementById('filter-text'); i.value = 'no such thing';"
                         " i.dispatchEvent(new Event('input')); })()")
        assert browser.evaluate(visible) == 0
        assert browser.evaluate("document.getElementById('filter-empty').hidden") is False
        browser.evaluate("(() => { const i = document.getElementById('filter-text'); i.value = '';"
                         " i.dispatchEvent(new Event('input')); })()")
        shot = tmp_path / "report.png"
        browser.screenshot(shot)
        assert browser.console_errors() == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    keep = os.environ.get("AUDIT_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
        shutil.copy(report, Path(keep) / "report.html")


def test_coder_chart_when_the_extract_has_coders(sample_result):
    with_coder = type(sample_result)(sample_result.source, sample_result.rules,
                                     sample_result.findings.assign(
                                         coder=(["ann", "bob"] * len(sample_result.findings))[:len(sample_result.findings)]),
                                     sample_result.rejected, sample_result.episodes_read,
                                     sample_result.episodes_audited)
    page = render(with_coder)
    assert 'id="chart-coder"' in page and "Findings per coder" in page
    assert "Coder: ann" in page
