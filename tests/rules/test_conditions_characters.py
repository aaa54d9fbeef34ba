"""Character tests: requires a fifth character; a character may not take given values."""

from tests.rules.ruletools import findings, holds, one_rule


def test_has_fifth_character(tmp_path):
    rows = [{"diagnoses": ["S72.00"]}, {"diagnoses": ["S72.0"]}, {"diagnoses": ["S720-"]}, {"diagnoses": ["S7201"]},
            {"diagnoses": ["I10X"]}]
    assert holds(tmp_path, "{every_diagnosis: 'S72, J96', has_character: 5}", rows) == [True, False, False, True, True]


def test_x_padding_is_not_a_fourth_character(tmp_path):
    rows = [{"diagnoses": ["C61X"]}, {"diagnoses": ["C61.9"]}]
    assert holds(tmp_path, "{diagnosis: C61, has_character: 4}", rows) == [False, True]


def test_character_not_in(tmp_path):
    rows = [{"diagnoses": ["M47.92"]}, {"diagnoses": ["M47.94"]}, {"diagnoses": ["M47.9"]}]
    cond = "{every_diagnosis: M47.9, character: 5, not_in: [2, 6, 8]}"
    assert holds(tmp_path, cond, rows) == [False, True, True]  # no fifth character passes 'not_in'


def test_character_in(tmp_path):
    rows = [{"diagnoses": ["S72.01"]}, {"diagnoses": ["S72.02"]}, {"diagnoses": ["S72.0"]}]
    assert holds(tmp_path, "{every_diagnosis: S72, character: 5, in: [0, 1]}", rows) == [True, False, False]


def test_procedure_fourth_character(tmp_path):
    rows = [{"procedures": ["J12.4"]}, {"procedures": ["J12.9"]}]
    assert holds(tmp_path, "{not: {procedure: J12, character: 4, in: [9]}}", rows) == [True, False]


def test_found_points_at_the_code_without_its_character(tmp_path):
    rule = one_rule(tmp_path, "{every_diagnosis: S72, has_character: 5}")
    got = findings(rule, [{"id": "a", "diagnoses": ["S720-", "W19.9"]}])
    assert got["found"].tolist() == ["S72.0"]
