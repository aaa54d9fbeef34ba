import os
import re
import base64

import pytest

from audit.report.about import about, group_rates, group_tallies, headline, run_context
from audit.report.html import render, write
from audit.report.specialties import label, names
from tests.report.browser import Browser, chromium_path


def test_specialty_names_from_the_data_dictionary_codes():
    assert label("300") == "300 General Medicine" and label(" 100") == "100 General Surgery"
    assert label("999x") == "999x" and len(names()) > 50


def test_what_the_report_is_about(sample_result):
    sample_result.about = run_context({"title": "January audit", "organisation": "Example Trust",
                                       "select": ["IPG", "NAT"]}, {"procurement_codes_collected": True})
    try:
        a = about(sample_result)
        assert a["title"] == "January audit" and a["organisation"] == "Example Trust"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d", a["period"])
        assert ("select", "IPG, NAT") in a["settings"] and ("options.procurement_codes_collected", "True") in \
            a["settings"]
        page = render(sample_result)
        assert "January audit" in page and "Example Trust" in page and 'id="about-settings"' in page
        assert page == render(sample_result)  # no clock
    finally:
        sample_result.about = {}
    assert about(sample_result)["organisation"]  # the extract's providers when no setting names one


def test_rates_against_the_episodes_each_coded(sample_result):
    per_group, flagged, with_error = group_tallies(sample_result)
    rates = {g["column"]: g for g in group_rates(sample_result, per_group, flagged)}
    profile = sample_result.profile
    for column, g in rates.items():
        assert sum(r["episodes"] for r in g["rows"]) == sample_result.episodes_audited
        assert sum(r["findings"] for r in g["rows"]) == len(sample_result.findings)
        for r in g["rows"]:
            assert float(r["findings_rate"].replace(",", "")) == pytest.approx(
                1000 * r["findings"] / r["episodes"], abs=0.05)
    assert any(r["value"].startswith("300 ") for r in rates["specialty"]["rows"])
    errors = sample_result.findings.query("severity == 'error'")["episode_id"].nunique()
    assert with_error == errors
    clean = 100 * (sample_result.episodes_audited - errors) / sample_result.episodes_audited
    assert headline(sample_result, with_error) == f"{clean:.1f}"
    assert f'id="headline-clean">{clean:.1f}%' in render(sample_result)
    assert profile.counts("specialty").sum() == sample_result.episodes_audited


@pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                    reason="chromium is not installed (CI installs Debian's chromium, and there this test must run)")
def test_printed_handout_is_a_few_pages(sample_result, tmp_path):
    pytest.importorskip("websocket", reason="websocket-client (test extra) drives Chromium's DevTools protocol")
    report = tmp_path / "report.html"
    write(sample_result, report)
    with Browser(width=794, height=1123) as browser:  # A4 at 96 dpi
        browser.load(report)
        browser.call("Emulation.setEmulatedMedia", media="print")
        assert browser.evaluate("getComputedStyle(document.querySelector("
                                "'section[aria-labelledby=findings-h]')).display") == "none"
        assert browser.evaluate("getComputedStyle(document.getElementById('chart-rule')).display") != "none"
        assert browser.evaluate("document.querySelector('#chart-rule svg').getBoundingClientRect().width") > 200
        shot = tmp_path / "print.png"
        browser.screenshot(shot)
        pdf = base64.b64decode(browser.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69,
                                            printBackground=True)["data"])
        assert browser.console_errors() == []
    png = shot.read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width == 794 and height > 1000 and len(png) > 20_000
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 6, pages  # summary, charts, rates and the rules with findings: a handout
