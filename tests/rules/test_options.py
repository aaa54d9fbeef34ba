"""Local rule options: enabled_by / disabled_by, [tool.audit.options], --option; what runs and the notes."""

import pytest

from audit.errors import UserError
from audit.rules import load_rules
from audit.rules.model import RuleSet
from audit.rules.options import option_names, resolve_options, select_rules
from tests.rules.ruletools import one_rule

RULES = load_rules()


def test_shipped_option():
    assert option_names(RULES) == ["procurement_codes_collected"]


def test_enabled_and_disabled_by(tmp_path):
    on = one_rule(tmp_path, "{diagnosis: C78.7}", extra="enabled_by: local_thing")
    off = one_rule(tmp_path, "{diagnosis: C78.7}", extra="disabled_by: local_thing")
    assert (on.active({}), off.active({})) == (False, True)
    assert (on.active({"local_thing": True}), off.active({"local_thing": True})) == (True, False)


def test_resolve_from_settings_then_command_line():
    assert resolve_options(RULES, {"procurement_codes_collected": True}) == {"procurement_codes_collected": True}
    assert resolve_options(RULES, {"procurement_codes_collected": True},
                           ["procurement_codes_collected=no"]) == {"procurement_codes_collected": False}
    assert resolve_options(RULES) == {}


@pytest.mark.parametrize("settings, cli, message", [
    ({"procurement_codes": True}, (), "unknown option 'procurement_codes'"),
    ({}, ("procurement_codes_collected",), "expected NAME=VALUE"),
    ({}, ("procurement_codes_collected=maybe",), "expected true or false"),
    ({"procurement_codes_collected": 3}, (), "expected true or false"),
    ("yes", (), "must be a table"),
])
def test_bad_options_are_user_errors(settings, cli, message):
    with pytest.raises(UserError, match=message):
        resolve_options(RULES, settings, cli)


def test_select_rules_by_option_and_reference():
    active, notes = select_rules(RULES, {})
    ids = {r.id for r in active}
    assert "NAT-OPCS-06" in ids and "NAT-OPCS-07" not in ids and "IPG446-03" not in ids
    assert not any(r.id.startswith("REF-") for r in active)
    assert len(notes) == 2
    # the six REF checks and NAT-ICD-SEQ-13 (an asterisk directly after its dagger needs the table's USAGE)
    assert notes[0].startswith("ICD-10 and OPCS-4 reference tables not given (--reference DIR): 7 checks")
    assert "NAT-OPCS-07 (on when procurement_codes_collected is set)" in notes[1]
    active, notes = select_rules(RULES, {"procurement_codes_collected": True})
    ids = {r.id for r in active}
    assert "NAT-OPCS-06" not in ids and {"NAT-OPCS-07", "IPG446-03"} <= ids
    assert "NAT-OPCS-06 (off because procurement_codes_collected is set)" in notes[1]


def test_everything_runs_when_nothing_is_left_out():
    plain = RuleSet([r for r in RULES if not r.option and not r.reference_kinds])
    active, notes = select_rules(plain, {})
    assert len(active) == len(plain) and notes == []
