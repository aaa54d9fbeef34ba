"""Drafting the four guidance texts gives the shipped rulesets' rules: the same codes, the same strength."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.draft.files import draft_file
from audit.rules.loader import shipped_rules_dir
from tests.draft.signatures import signatures

GUIDANCE = Path("/work/shared/guidance")

# (guidance text, --id, shipped ruleset, the shipped rules the draft cannot write, and why)
CASES = [
    ("rfa-colorectal-liver-metastases.txt", "IPG327", "ipg327-rfa-colorectal-liver-metastases.yaml", {}),
    ("mwa-liver-metastases.txt", "IPG406", "ipg406-mwa-liver-metastases.yaml", {}),
    ("ire-primary-liver-cancer-coding.txt", "HTG532", "htg532-ire-primary-liver-cancer.yaml", {}),
    ("electrochemotherapy-skin-metastases.txt", "IPG446", "ipg446-electrochemotherapy-skin-metastases.yaml",
     # "Chapter Z site code(s)" names no code: the draft leaves a CHECK comment; the reviewer chose Z01-Z93, Z95-Z99
     {"IPG446-01": "Chapter Z site code(s)"}),
]


@pytest.mark.skipif(not GUIDANCE.is_dir(), reason="the shared guidance texts are not on this machine")
@pytest.mark.parametrize(("text", "gid", "shipped", "not_drafted"), CASES, ids=[c[1] for c in CASES])
def test_draft_has_the_shipped_rules(tmp_path, text, gid, shipped, not_drafted):
    out = tmp_path / f"{gid}.yaml"
    yaml_text = draft_file(GUIDANCE / text, gid, out)
    import yaml

    shipped_path = shipped_rules_dir() / "nice" / shipped
    shipped_rules = yaml.safe_load(shipped_path.read_text())["rules"]
    expected = signatures(shipped_path)
    for rule in shipped_rules:  # what the draft cannot write is a comment telling the coding manager to check it
        if rule["id"] in not_drafted:
            expected = {k: v for k, v in expected.items() if not (v == rule["severity"] and k in _one(rule))}
            assert f"CHECK: the text asks for '{not_drafted[rule['id']]}'" in " ".join(yaml_text.split("\n# "))
    assert signatures(out) == expected


def _one(rule: dict) -> set:
    import tempfile

    import yaml
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump({"rules": [rule]}, fh)
    return set(signatures(Path(fh.name)))


@pytest.mark.skipif(not GUIDANCE.is_dir(), reason="the shared guidance texts are not on this machine")
def test_the_htg532_page_without_its_coding_text_has_no_codes():
    from audit.errors import UserError
    with pytest.raises(UserError, match="no OPCS-4 or ICD-10 code"):
        draft_file(GUIDANCE / "ire-primary-liver-cancer-htg532.txt")
