import pandas as pd
import pytest

from audit.errors import UserError
from audit.rules import load_rules
from audit.selection import (
    Settings,
    apply_settings,
    exit_code,
    parse_severity_options,
    resolve_settings,
    rule_statuses,
    split_selectors,
)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def active(rules, settings):
    return [s.rule.id for s in rule_statuses(rules, settings) if s.active]


def test_split_selectors():
    assert split_selectors(["ipg327, HTG532-01", "DATA"]) == ("IPG327", "HTG532-01", "DATA")


def test_default_selects_every_rule(rules):
    assert active(rules, resolve_settings({})) == [r.id for r in rules]


def test_select_and_ignore_by_id_or_prefix(rules):
    assert active(rules, resolve_settings({}, select=["IPG327", "HTG532-01"])) == \
        ["HTG532-01", "IPG327-01", "IPG327-02"]
    got = active(rules, resolve_settings({}, ignore=["IPG", "DATA-03", "NAT", "REF"]))
    assert got == ["DATA-01", "DATA-02", "HTG532-01", "HTG532-02"]


def test_the_more_specific_selector_wins(rules):
    s = resolve_settings({"select": ["IPG327-02"], "ignore": ["IPG327"]})
    assert active(rules, s) == ["IPG327-02"]
    s = resolve_settings({"select": ["IPG327"], "ignore": ["IPG327-02"]})
    assert active(rules, s) == ["IPG327-01"]


def test_command_line_wins_over_config(rules):
    config = {"select": ["IPG406"], "ignore": ["IPG406-02"], "fail-on": "warning", "max-findings": 3}
    s = resolve_settings(config, select=["IPG327"], fail_on="info")
    assert s.select == ("IPG327",) and s.ignore == ("IPG406-02",) and s.fail_on == "info" and s.max_findings == 3
    assert active(rules, s) == ["IPG327-01", "IPG327-02"]
    assert resolve_settings({"fail_on": "never"}).fail_on == "never"  # underscores accepted too


def test_severity_overrides(rules):
    s = resolve_settings({"severity": {"IPG406-02": "warning", "HTG532": "info"}},
                         severity=parse_severity_options(["htg532-01=error"]))
    applied = {r.id: r for r in apply_settings(rules, s)}
    assert applied["IPG406-02"].severity == "warning"
    assert applied["HTG532-01"].severity == "error"  # the longer key wins
    assert applied["HTG532-02"].severities == ("info",)  # variants follow the override
    assert applied["IPG327-01"].severity == "error"


@pytest.mark.parametrize("config, cli, problem", [
    ({"select": "IPG327"}, {}, None),
    ({"select": [1]}, {}, "must be a list"),
    ({"severity": {"IPG327-01": "fatal"}}, {}, "must be one of"),
    ({"severity": "warning"}, {}, "must be a table"),
    ({"fail-on": "sometimes"}, {}, "fail-on"),
    ({"max-findings": -1}, {}, "max-findings"),
    ({}, {"select": ["NOPE"]}, "no rule matches 'NOPE'"),
    ({"ignore": ["XYZ"]}, {}, "no rule matches 'XYZ'"),
])
def test_bad_settings_are_user_errors(rules, config, cli, problem):
    if problem is None:
        rule_statuses(rules, resolve_settings(config, **cli))
        return
    with pytest.raises(UserError, match=problem):
        rule_statuses(rules, resolve_settings(config, **cli))


def test_bad_severity_option():
    with pytest.raises(UserError, match="RULE=SEVERITY"):
        parse_severity_options(["IPG406-02"])


def _tally(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per severity, as audit.findings.Findings.tally counts them (per rule too)."""
    return findings.groupby("severity").size().rename("findings").reset_index()


def test_gate():
    findings = pd.DataFrame({"severity": ["error", "warning", "info", "warning"]})
    f = _tally(findings)
    assert exit_code(f, Settings()) == 1
    assert exit_code(f, Settings(max_findings=1)) == 0
    assert exit_code(f, Settings(fail_on="warning", max_findings=2)) == 1
    assert exit_code(f, Settings(fail_on="warning", max_findings=3)) == 0
    assert exit_code(f, Settings(fail_on="never")) == 0
    assert exit_code(f, Settings(), exit_zero=True) == 0
    assert exit_code(_tally(findings.iloc[1:]), Settings()) == 0
    assert exit_code(_tally(findings.iloc[0:0]), Settings(fail_on="info")) == 0
