"""Sequence relations: directly followed / preceded by, followed / preceded by anywhere, within a block."""

from tests.rules.ruletools import holds


def test_directly_preceded_by(tmp_path):
    rows = [
        {"diagnoses": ["U07.1", "U07.5"]},
        {"diagnoses": ["M30.3", "U07.2", "U07.5"]},
        {"diagnoses": ["U07.1", "M30.3", "U07.5"]},  # not directly
        {"diagnoses": ["U07.5", "U07.1"]},           # after, not before
        {"diagnoses": ["I10X"]},                     # no U07.5
    ]
    every = "{every_diagnosis: U07.5, directly_preceded_by: 'U07.1, U07.2'}"
    some = "{diagnosis: U07.5, directly_preceded_by: 'U07.1, U07.2'}"
    assert holds(tmp_path, every, rows) == [True, True, False, False, True]
    assert holds(tmp_path, some, rows) == [True, True, False, False, False]


def test_directly_followed_by_as_a_prohibition(tmp_path):
    rows = [
        {"diagnoses": ["A41.9", "B96.2"]},
        {"diagnoses": ["A41.5", "N39.0", "B96.2"]},
        {"diagnoses": ["N39.0", "B96.2", "A41.9"]},
    ]
    cond = "{not: {diagnosis: 'A40, A41', directly_followed_by: 'B95, B96'}}"
    assert holds(tmp_path, cond, rows) == [False, True, True]


def test_blank_cells_are_skipped(tmp_path):
    # DIAG_02 blank: the next code after A41.9 is B96.2.
    rows = [{"diagnoses": ["A41.9", "", "B96.2"]}, {"diagnoses": ["U07.1", "", "U07.5"]}]
    assert holds(tmp_path, "{diagnosis: A41, directly_followed_by: B96}", rows) == [True, False]
    assert holds(tmp_path, "{diagnosis: U07.5, directly_preceded_by: U07.1}", rows) == [False, True]


def test_every_code_is_checked_not_just_one(tmp_path):
    rows = [{"diagnoses": ["U07.1", "U07.5", "I10X", "U07.5"]}]
    assert holds(tmp_path, "{diagnosis: U07.5, directly_preceded_by: U07.1}", rows) == [True]
    assert holds(tmp_path, "{every_diagnosis: U07.5, directly_preceded_by: U07.1}", rows) == [False]


def test_followed_and_preceded_by_in_any_position(tmp_path):
    rows = [
        {"diagnoses": ["O72.0", "I10X", "O43.2"]},
        {"diagnoses": ["O43.2", "I10X", "O72.0"]},
        {"diagnoses": ["O43.2"]},
    ]
    assert holds(tmp_path, "{every_diagnosis: O43.2, preceded_by: 'O72.0, O73.0'}", rows) == [True, False, False]
    assert holds(tmp_path, "{diagnosis: O43.2, followed_by: O72}", rows) == [False, True, False]


def test_within_block_respects_blocks(tmp_path):
    rows = [
        {"procedures": ["J12.4", "Y53.9", "Z29.1"]},           # 0 Y before Z: fine
        {"procedures": ["J12.4", "Z29.1", "Y53.9"]},           # 1 Y after Z in the block
        {"procedures": ["J12.4", "Z29.1", "J03.2", "Y53.9"]},  # 2 Y in the next block
    ]
    cond = "{not: {procedure: Y01-Y99, preceded_by: Z01-Z99, within_block: true}}"
    assert holds(tmp_path, cond, rows) == [True, False, True]
    anywhere = "{not: {procedure: Y01-Y99, preceded_by: Z01-Z99}}"
    assert holds(tmp_path, anywhere, rows) == [True, False, False]


def test_directly_followed_by_within_block_stops_at_the_next_main_code(tmp_path):
    rows = [
        {"procedures": ["K40.1", "Z94.1"]},
        {"procedures": ["K40.1", "C71.2", "Z94.2"]},  # the next code is a main code
        {"procedures": ["K40.1", "Y53.9", "Z94.1"]},  # Z94 in the block, but not directly
    ]
    cond = "{procedure: K01-K99, directly_followed_by: Z94, within_block: true}"
    assert holds(tmp_path, cond, rows) == [True, False, False]
    followed = "{procedure: K01-K99, followed_by: Z94, within_block: true}"
    assert holds(tmp_path, followed, rows) == [True, False, True]


def test_within_block_directly_preceded_by_and_codes_before_any_main_code(tmp_path):
    rows = [
        {"procedures": ["J12.4", "Y53.9"]},
        {"procedures": ["-", "Z29.1", "Y53.9"]},  # no main code: no block
    ]
    cond = "{procedure: Y53, directly_preceded_by: 'J12.4, Z29.1', within_block: true}"
    assert holds(tmp_path, cond, rows) == [True, False]
    assert holds(tmp_path, "{every_procedure: Y01-Z99, preceded_by: A01-X99}", rows) == [True, False]


def test_relation_target_with_usage_needs_markers_or_tables(tmp_path):
    # Without tables, the code's own marker counts: G01* after a dagger-marked A39.0.
    rows = [{"diagnoses": ["A390-D", "G01*"]}, {"diagnoses": ["I10X", "G01*"]}]
    cond = "{every_diagnosis: A00-Z99, usage: asterisk, preceded_by: {diagnosis: A00-Z99, usage: dagger}}"
    assert holds(tmp_path, cond, rows) == [True, False]
