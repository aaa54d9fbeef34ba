"""Relations between cells, worked out in one pass over the positions (audit.sequence)."""

import numpy as np
import pytest

from audit.sequence import MAIN, NONEMPTY, TARGET, relation_columns


def cells(*rows: str) -> list[np.ndarray]:
    """Flag columns from one string per episode: T target code, c other code, M main code,
    t main code that is a target, . blank."""
    flags = {"T": TARGET | NONEMPTY, "c": NONEMPTY, "M": MAIN | NONEMPTY, "t": MAIN | TARGET | NONEMPTY,
             ".": np.uint8(0)}
    return [np.array([flags[row[j]] for row in rows], dtype=np.uint8) for j in range(len(rows[0]))]


def related(row: str, relation: str, within_block: bool = False) -> list[bool]:
    return [bool(col[0]) for col in relation_columns(cells(row), relation, within_block)]


def test_no_positions():
    assert relation_columns([], "followed_by") == []


def test_unknown_relation():
    with pytest.raises(ValueError):
        relation_columns(cells("cT"), "next_to")


@pytest.mark.parametrize("relation, expected", [
    ("directly_preceded_by", [False, True, False, False, False]),
    ("preceded_by", [False, True, True, True, True]),
])
def test_relations_with_the_target_first(relation, expected):
    assert related("Tcc.c", relation) == expected


@pytest.mark.parametrize("relation, expected", [
    ("directly_followed_by", [False, False, True, True, False]),
    ("directly_preceded_by", [False, False, False, False, False]),
    ("followed_by", [True, True, True, True, False]),
    ("preceded_by", [False, False, False, False, False]),
])
def test_relations_over_a_list_with_a_blank(relation, expected):
    # cells: A, B, A, (blank), T with the target T last; only code cells are ever anchors
    assert related("ccc.T", relation) == expected


@pytest.mark.parametrize("relation, expected", [
    # J12.4 Z29.1 Y53.9 | J03.2 Y53.9 Z29.1, with the Z codes as targets
    ("preceded_by", [False, False, True, False, False, False]),  # the Z at 1 is in the previous block
    ("directly_preceded_by", [False, False, True, False, False, False]),
    ("followed_by", [True, False, False, True, True, False]),
    ("directly_followed_by", [True, False, False, False, True, False]),
])
def test_within_block(relation, expected):
    assert related("MTcMcT", relation, within_block=True) == expected


def test_before_the_first_main_code_is_in_no_block():
    assert related("cTMT", "preceded_by", within_block=True) == [False, False, False, False]
    assert related("cTMT", "followed_by", within_block=True) == [False, False, True, False]
    assert related("cTMT", "followed_by") == [True, True, True, False]


def test_a_main_code_target_counts_in_its_own_block_only():
    assert related("tcMc", "preceded_by", within_block=True) == [False, True, False, False]
    assert related("ct.Mc", "directly_followed_by", within_block=True) == [False, False, False, False, False]
    assert related("ct.Mc", "directly_followed_by") == [True, False, False, False, False]


def test_each_episode_is_walked_on_its_own():
    out = relation_columns(cells("cT", "Tc", ".."), "preceded_by")
    assert [col.tolist() for col in out] == [[False, False, False], [False, True, False]]
