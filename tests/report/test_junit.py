import xml.etree.ElementTree as ET

import junitparser

from audit.report.junit import write
from tests.samples import SCRIPT_ID


def test_a_test_case_per_rule_failures_list_episodes(sample_result, tmp_path):
    out = tmp_path / "junit.xml"
    write(sample_result, out)
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(sample_result.rules) + 2  # and the input's rows set aside, uncoded episodes
    assert int(suite.get("tests")) == len(cases)
    failures = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures")) == len(failures) == int(root.get("failures"))
    by_name = {c.get("name").split(":")[0]: c for c in cases}
    ipg327 = by_name["IPG327-01"].find("failure")
    assert ipg327.get("type") == "error"
    assert "1002:" in ipg327.text and SCRIPT_ID in ipg327.text
    assert ipg327.get("message").startswith(f"{(sample_result.findings['rule_id'] == 'IPG327-01').sum()} findings")
    assert by_name["HTG532-02"].find("failure").get("type") == "warning"
    assert by_name["IPG406-02"].find("failure") is None  # info only: listed, not failed
    assert "1004" in by_name["IPG406-02"].find("system-out").text
    assert by_name["IPG446-01"].find("failure") is None
    rejected = by_name["input"].find("failure")
    assert rejected is not None and "line 17" in rejected.text
    for c in cases:
        assert c.get("classname") and c.get("name")


def test_a_junit_consumer_reads_it(sample_result, tmp_path):
    """junitparser, the library CI tools use to read JUnit XML, sees the same suite, cases and failures."""
    out = tmp_path / "junit.xml"
    write(sample_result, out)
    xml = junitparser.JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert len(suites) == 1
    cases = list(suites[0])
    assert len(cases) == len(sample_result.rules) + 2  # and the input's rows set aside, uncoded episodes
    failed = {c.name.split(":")[0] for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)}
    assert {"IPG327-01", "HTG532-02", "input"} <= failed and "IPG406-02" not in failed
    assert suites[0].failures == len(failed)
