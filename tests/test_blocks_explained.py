"""``{blocks}``: an every-block rule's message says which block lacks what, and where the codes it would want
are instead, never contradicting the codes it shows (audit.blocks_explained)."""

import pytest

from audit.engine import compile_rules, evaluate
from audit.errors import RuleFileError
from audit.rules import load_rules
from tests.conftest import episodes_frame

RULE = """\
ruleset: T
source: {guidance: IPG327, title: t, url: "https://www.nice.org.uk/guidance/ipg327", text: "J12.4 with Y53"}
rules:
  - id: T-01
    title: J12.4 without Y53 in its block
    severity: error
    when: {procedure: J12.4}
    require: %s
    expected: a Y53.- code in the J12.4 block
    message: "%s"
    examples:
      pass:
        - {procedures: [J12.4, Y53.9]}
      fail:
        - {procedures: [J12.4]}
"""


def _messages(tmp_path, procedures_lists, require="{every_block: {main: J12.4, must_contain: Y53.-}}",
              message="{blocks}"):
    path = tmp_path / "t.yaml"
    path.write_text(RULE % (require, message))
    compiled = compile_rules(load_rules([path], builtin=False))
    frame = episodes_frame([{"id": str(i), "procedures": p} for i, p in enumerate(procedures_lists)])
    findings = evaluate(frame, compiled)
    return dict(zip(findings["episode_id"], findings["message"]))


def test_a_qualifier_of_another_block_is_named_with_its_owner(tmp_path):
    got = _messages(tmp_path, [["J12.4", "J03.2", "Y53.9"]])
    assert got == {"0": "J12.4 at position 1 has no Y53.- in its block (the Y53.9 belongs to J03.2)"}


@pytest.mark.parametrize("procedures, message", [
    (["J12.4"], "J12.4 at position 1 has no Y53.- in its block"),
    # Block sequencing: a qualifier before any main code belongs to no block.
    (["Y53.9", "J12.4"], "J12.4 at position 2 has no Y53.- in its block (the Y53.9 comes before any main code)"),
    # A second J12.4 is named by position: its code alone would not say which block has the Y53.
    (["J12.4", "Y53.9", "J12.4"], "J12.4 at position 3 has no Y53.- in its block (the Y53.9 belongs to J12.4 at "
                                  "position 1)"),
    (["J12.4", "J12.4", "Z94.1"], "J12.4 at position 1 has no Y53.- in its block; J12.4 at position 2 has no "
                                  "Y53.- in its block"),
    # Two Y53.9 elsewhere in one block: one note.
    (["J03.2", "Y53.9", "Y53.9", "J12.4"], "J12.4 at position 4 has no Y53.- in its block (the Y53.9 belongs to "
                                           "J03.2)"),
])
def test_each_failing_block_is_said(tmp_path, procedures, message):
    assert _messages(tmp_path, [procedures]) == {"0": message}


def test_positions_count_codes_not_blank_cells(tmp_path):
    assert _messages(tmp_path, [["J03.2", "", "J12.4"]]) == {"0": "J12.4 at position 2 has no Y53.- in its block"}


def test_every_lacking_code_of_a_block_is_named(tmp_path):
    got = _messages(tmp_path, [["J12.4", "Y53.4"], ["J12.4"]],
                    require="{every_block: {main: J12.4, must_contain: [Y53.-, Z29.1]}}")
    assert got == {"0": "J12.4 at position 1 has no Z29.1 in its block",
                   "1": "J12.4 at position 1 has no Y53.- and no Z29.1 in its block"}


def test_where_another_part_of_the_rule_fails_blocks_shows_the_codes(tmp_path):
    require = "{all: [{every_block: {main: J12.4, must_contain: Y53.-}}, {procedure: Y53.9}]}"
    got = _messages(tmp_path, [["J12.4", "Y53.4"]], require=require, message="{blocks}; found {found}")
    assert got == {"0": "J12.4 Y53.4; found J12.4 Y53.4"}


def test_blocks_needs_an_every_block_test(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(RULE % ("{procedure: Y53.-}", "{blocks}"))
    with pytest.raises(RuleFileError, match=r"t.yaml:10: .*\{blocks\}.*every_block"):
        load_rules([path], builtin=False)


def test_shipped_block_rules_never_contradict_what_they_show(audit_rows):
    findings = audit_rows([{"id": "e", "diagnoses": ["C78.7", "C18.7"], "procedures": ["J12.4", "J03.2", "Y53.9"]}])
    message = findings.loc[findings["rule_id"] == "IPG327-01", "message"].item()
    assert message.startswith("Radiofrequency ablation of liver: J12.4 at position 1 has no Y53.- in its block "
                              "(the Y53.9 belongs to J03.2); expected ")
