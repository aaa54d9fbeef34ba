"""Every kind of phrasing nice-facts.md lists, in both of NICE's layouts, drafted into the right rules.

The texts in texts/ are synthetic (written for these tests): KIND.opcs46.txt is the older "OPCS4.6 Code(s)"
layout (no address, so --id is given), KIND.coding.txt the newer "Coding recommendations" layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.draft.files import draft_file
from audit.errors import UserError
from audit.rules.examples import run_all_examples
from audit.rules.loader import load_rules
from tests.draft.signatures import signatures

TEXTS = Path(__file__).parent / "texts"
F = frozenset
MWA = F({"J03.2", "Y13.7", "J12.7", "J08.3"})

# kind: ({(when procedures, require codes, enabled_by): severity}, comments the draft must carry)
EXPECTED = {
    "approach-groups": ({(F({"J12.7"}), F({"J12.7", "Y53"}), ""): "error",
                         (MWA, F({"C22.0"}), ""): "error"}, []),
    "technique-groups": ({(F({"K26.2", "Y49.4"}) - {"Y49.4"}, F({"K26.2", "Y79", "Y53"}), ""): "error"}, []),
    "one-of-following": ({(F({"G21.5", "G15.4", "G15.6"}), F({"G21.5", "G15.4", "G15.6", "Y53"}), ""): "error"}, []),
    "category-code": ({(F({"J02", "Y11.4"}), F({"C22.9", "C78.7"}), ""): "error"}, []),
    "care-setting-paired-organ": ({(F({"Y12.3"}), F({"X72"}), ""): "error",
                                   (F({"Y12.3"}), F({"X70-X71"}), "procurement_codes_collected"): "error"},
                                  ["depends on the care setting", "'Chapter Z site code(s)' (required) but names no "
                                   "code", "(if a paired organ)' applies only"]),
    "site-position": ({(F({"V52.2"}), F({"V52.2", "Y53"}), ""): "error",
                       (F({"V52.2"}), F({"V55"}), ""): "error"}, ["states a position"]),
    "optional-brackets": ({(F({"J02", "Y11.4"}), F({"J02", "Y11.4", "Y53.2"}), ""): "info"}, []),
    "default-code": ({(F({"J12.4"}), F({"J12.4", "Y53"}), ""): "error"}, []),
    "icd-and": ({(F({"J12.4"}), F({"J12.4", "Y53"}), ""): "error",
                 (F({"J12.4"}), F({"C78.7", "C18"}), ""): "error"}, []),
    "icd-or": ({(F({"E48.7"}), F({"C34", "C78.0"}), ""): "error"}, []),
    "plus-or-lines": ({(F({"L31.4", "L35.3"}), F({"L31.4", "L35.3", "Y53"}), ""): "error",
                       (F({"L31.4", "L35.3"}), F({"I67.2"}), ""): "error"}, []),
    "no-connector": ({(F({"K35.5", "Z32.2"}), F({"K35.5", "Z32.2", "Y53"}), ""): "error"}, []),
    "includes-excludes": ({(F({"K35.5", "Z32.2"}), F({"K35.5", "Z32.2", "Y53"}), ""): "error"},
                          ["Not required: 'Includes: K35.8", "Not required: 'Excludes: K36.1"]),
    "snomed": ({(F({"L88.2"}), F({"L88.2", "Y53"}), ""): "error"},
               ["SNOMED CT concept 448606008", "SNOMED CT concept 72866009"]),
    "stray-spaces": ({(F({"J57.6", "Y75.2"}), F({"K86.8"}), ""): "error",
                      (F({"J57.6", "Y75.2"}), F({"J66.1", "J66.2", "J66.3"}), ""): "info"}, []),
}
LAYOUTS = ("opcs46", "coding")


def _id(kind: str) -> str:
    """The id the kind's "Coding recommendations" text gives in its address (for --id in the other layout)."""
    return re.search(r"guidance/(ipg\d+)", (TEXTS / f"{kind}.coding.txt").read_text()).group(1).upper()


def _draft(tmp_path: Path, kind: str, layout: str) -> tuple[Path, str]:
    text = TEXTS / f"{kind}.{layout}.txt"
    out = tmp_path / f"{kind}.yaml"
    gid = _id(kind) if layout == "opcs46" else None  # the other layout gives its address
    return out, draft_file(text, gid, out)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_phrasing_gives_its_rules(tmp_path, kind, layout):
    out, text = _draft(tmp_path, kind, layout)
    expected, comments = EXPECTED[kind]
    assert signatures(out) == expected
    flat = " ".join(line.removeprefix("# ") for line in text.splitlines() if line.startswith("#"))
    for comment in comments:
        assert comment in flat


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_draft_loads_and_its_examples_pass(tmp_path, kind, layout):
    out, _ = _draft(tmp_path, kind, layout)
    rules = load_rules([out], builtin=False)
    results = run_all_examples(rules)
    assert results and all(r.ok for r in results), [(r.rule.id, r.problem) for r in results if not r.ok]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_guidance_id_title_and_address(tmp_path, layout):
    _, text = _draft(tmp_path, "icd-and", layout)
    gid = _id("icd-and")
    assert f"ruleset: {gid}\n" in text and f"url: https://www.nice.org.uk/guidance/{gid.lower()}\n" in text
    assert 'title: "Synthetic ablation of colorectal liver metastases"' in text
    assert f"  - id: {gid}-01\n" in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_source_sentences_are_quoted_from_the_file(tmp_path, layout):
    _, text = _draft(tmp_path, "icd-and", layout)
    assert ("a code from category C18.- Malignant neoplasm of colon would be recorded." in text)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_code_writes_nothing(tmp_path, layout):
    out = tmp_path / "none.yaml"
    with pytest.raises(UserError, match="no OPCS-4 or ICD-10 code"):
        draft_file(TEXTS / f"no-code.{layout}.txt", "IPG999", out)
    assert not out.exists()


def test_draft_is_deterministic(tmp_path):
    first = draft_file(TEXTS / "approach-groups.coding.txt")
    assert draft_file(TEXTS / "approach-groups.coding.txt") == first


def test_default_code_is_in_the_expected_text(tmp_path):
    _, text = _draft(tmp_path, "default-code", "coding")
    assert "Y53.- (Y53.9 if unspecified)" in text
    assert "procedures: [J12.4, Y53.9]" in text


def test_missing_id_is_a_check_comment(tmp_path):
    text = draft_file(TEXTS / "icd-and.opcs46.txt")
    assert "ruleset: DRAFT\n" in text and "# CHECK: no guidance id" in text


def test_bracketed_id_without_an_address(tmp_path):
    """A page pasted without its address still names its id: "Interventional procedures guidance [IPG424]"."""
    page = tmp_path / "page.txt"
    page.write_text("Interventional procedures guidance [IPG424]\n"
                    + (TEXTS / "icd-and.opcs46.txt").read_text(encoding="utf-8"), encoding="utf-8")
    text = draft_file(page)
    assert "ruleset: IPG424\n" in text and "url: https://www.nice.org.uk/guidance/ipg424\n" in text
    assert "CHECK: no guidance id" not in text


def test_bad_id_is_one_line(tmp_path):
    with pytest.raises(UserError, match="expected a NICE guidance id"):
        draft_file(TEXTS / "icd-and.opcs46.txt", "ipg 12; rm")
