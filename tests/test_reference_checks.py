"""Checks against the reference tables through the engine: invalid codes, sex, age, asterisk; titles."""

import pandas as pd
import pytest

from audit.engine import TITLES, compile_rules, evaluate
from audit.reference import CodeTable, load_reference
from audit.rules import load_rules
from audit.rules.model import RuleSet
from tests.conftest import REPO, episodes_frame

REFERENCE = load_reference(REPO / "tests" / "fixtures" / "reference")
REF_RULES = RuleSet([r for r in load_rules() if r.id.startswith("REF-")])


@pytest.fixture(scope="module")
def compiled():
    return compile_rules(REF_RULES, REFERENCE)


def pairs(found: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(found["episode_id"], found["rule_id"]))


def test_invalid_sex_age_and_asterisk(compiled):
    rows = [
        {"id": "ok", "diagnoses": ["C78.7", "C18.7"], "procedures": ["J12.4", "Y53.9"], "sex": "1", "age": "64"},
        {"id": "bad-code", "diagnoses": ["C78.9", "E10"], "procedures": ["J12"], "sex": "1", "age": "64"},
        {"id": "modifier", "diagnoses": ["S72.01", "W19.4"], "sex": "2", "age": "80"},
        {"id": "male-code", "diagnoses": ["C61X"], "sex": "2", "age": "70"},
        {"id": "female-code", "diagnoses": ["O80.0"], "sex": "1", "age": "30"},
        {"id": "sex-unknown", "diagnoses": ["O80.0"], "sex": "9", "age": "30"},
        {"id": "child", "diagnoses": ["O80.0"], "sex": "2", "age": "7"},
        {"id": "newborn", "diagnoses": ["Z38.0"], "sex": "1", "age": "7003"},
        {"id": "adult-newborn-code", "diagnoses": ["Z38.0"], "sex": "1", "age": "45"},
        {"id": "age-unknown", "diagnoses": ["Z38.0"], "sex": "1", "age": "999"},
        {"id": "asterisk-first", "diagnoses": ["G01X", "A39.0"], "sex": "1", "age": "20"},
        {"id": "dagger-asterisk", "diagnoses": ["A39.0", "G01X"], "sex": "1", "age": "20"},
        {"id": "asterisk-alone", "diagnoses": ["I10X", "G01X"], "sex": "1", "age": "20"},
    ]
    found = evaluate(episodes_frame(rows), compiled)
    assert pairs(found) == {
        ("bad-code", "REF-01"), ("bad-code", "REF-02"), ("male-code", "REF-03"), ("female-code", "REF-03"),
        ("child", "REF-04"), ("adult-newborn-code", "REF-04"), ("asterisk-first", "REF-05"),
        ("asterisk-first", "REF-06"), ("asterisk-alone", "REF-06")}
    by = found.set_index(["episode_id", "rule_id"])
    assert by.loc[("bad-code", "REF-01"), "found"] == "C78.9 E10"
    assert by.loc[("bad-code", "REF-02"), "found"] == "J12"
    assert by.loc[("asterisk-alone", "REF-06"), "found"] == "G01"


def test_found_titles_beside_codes(compiled):
    rows = [{"id": "1", "diagnoses": ["C78.9", "C61X"], "sex": "2", "age": "50"}]
    found = evaluate(episodes_frame(rows), compiled)
    assert list(found.columns[:8]) == ["episode_id", "rule_id", "severity", "message", "guidance", "expected",
                                       "found", TITLES]
    titles = dict(zip(found["rule_id"], found[TITLES]))
    assert titles == {"REF-01": "C78.9 (not in ICD-10)", "REF-03": "C61 Prostate cancer (fixture)"}


def test_titles_for_other_rules_and_no_titles_without_tables():
    rules = RuleSet([r for r in load_rules() if r.id == "IPG327-02"])
    rows = [{"id": "1", "diagnoses": ["C78.7"], "procedures": ["J12.4", "Y53.9"]}]
    with_tables = evaluate(episodes_frame(rows), compile_rules(rules, REFERENCE))
    assert with_tables[TITLES].tolist() == [
        "C78.7 Secondary cancer of liver (fixture); J12.4 Percutaneous radiofrequency ablation of liver (fixture)"]
    without = evaluate(episodes_frame(rows), compile_rules(rules))
    assert TITLES not in without.columns


def test_lookups_are_per_distinct_code_not_per_episode(monkeypatch):
    compiled = compile_rules(REF_RULES, REFERENCE)  # a fresh run: its vocabulary starts empty
    sizes = []
    original = CodeTable.facts

    def counting(self, codes):
        sizes.append(len(codes))
        return original(self, codes)

    monkeypatch.setattr(CodeTable, "facts", counting)
    rows = [{"id": str(i), "diagnoses": ["C61X", "I10X"], "procedures": ["J12.4"], "sex": str(1 + i % 2),
             "age": "60"} for i in range(2000)]
    found = evaluate(episodes_frame(rows), compiled)
    assert sorted(sizes) == [1, 2]  # once per classification, over its distinct values
    assert len(found) == 1000 and set(found["rule_id"]) == {"REF-03"}
    evaluate(episodes_frame(rows), compiled)  # a second chunk with the same codes looks nothing up again
    assert sorted(sizes) == [1, 2]


def test_without_tables_reference_checks_never_hold():
    found = evaluate(episodes_frame([{"id": "1", "diagnoses": ["C78.9"]}]), compile_rules(REF_RULES))
    assert found.empty
