"""Positions: never primary, must be primary, primary or first secondary (some / every code)."""

from tests.rules.ruletools import holds

ROWS = [
    {"diagnoses": ["Z38.0"]},                    # 0: primary
    {"diagnoses": ["P59.9", "Z38.0"]},           # 1: first secondary
    {"diagnoses": ["P59.9", "P07.3", "Z38.0"]},  # 2: third
    {"diagnoses": ["I10X"]},                     # 3: none
    {"diagnoses": ["Z38.0", "P07.3", "Z38.0"]},  # 4: primary and third
]


def test_never_primary_is_not_of_primary(tmp_path):
    assert holds(tmp_path, "{not: {diagnosis: Z38, position: primary}}", ROWS) == [False, True, True, True, False]


def test_first_secondary_is_the_second_position(tmp_path):
    assert holds(tmp_path, "{diagnosis: Z38, position: first_secondary}", ROWS) == [
        False, True, False, False, False]


def test_some_code_primary_or_first_secondary(tmp_path):
    assert holds(tmp_path, "{diagnosis: Z38, position: primary_or_first_secondary}", ROWS) == [
        True, True, False, False, True]


def test_every_code_primary_or_first_secondary_holds_without_the_code(tmp_path):
    # Every Z38 must be first or second: row 4 has a third one; row 3 has none, so nothing to check.
    assert holds(tmp_path, "{every_diagnosis: Z38, position: primary_or_first_secondary}", ROWS) == [
        True, True, False, True, False]


def test_every_code_must_be_primary(tmp_path):
    rows = [{"diagnoses": ["C97X", "C18.7"]}, {"diagnoses": ["C18.7", "C97X"]}, {"diagnoses": ["C18.7"]}]
    assert holds(tmp_path, "{every_diagnosis: C97, position: primary}", rows) == [True, False, True]


def test_main_procedure_position(tmp_path):
    rows = [{"procedures": ["Y53.9", "J12.4"]}, {"procedures": ["J12.4", "Y53.9"]}, {"procedures": ["-", "Y53.9"]}]
    assert holds(tmp_path, "{procedure: Y53, position: primary}", rows) == [True, False, False]


def test_one_column_frames_have_no_first_secondary(tmp_path):
    assert holds(tmp_path, "{diagnosis: Z38, position: first_secondary}", [{"diagnoses": ["Z38.0"]}]) == [False]
    assert holds(tmp_path, "{every_diagnosis: Z38, position: first_secondary}",
                 [{"diagnoses": ["Z38.0"]}]) == [False]
