"""Relations between cells as matrix operations (audit.sequence)."""

import numpy as np
import pandas as pd
import pytest

from audit.codes import Kind
from audit.episodes import EMPTY, Blocks, CodeMatrix
from audit.sequence import next_index, previous_index, relation_matrix


def matrix(rows):
    width = max(len(r) for r in rows)
    cols = [pd.Series([r[j] if j < len(r) else "" for r in rows]) for j in range(width)]
    return CodeMatrix.from_columns(cols, Kind.PROCEDURE)


def test_next_and_previous_index():
    mask = np.array([[True, False, True, True, False], [False] * 5])
    assert next_index(mask).tolist() == [[2, 2, 3, 5, 5], [5] * 5]
    assert previous_index(mask).tolist() == [[-1, 0, 0, 2, 3], [-1] * 5]


def test_empty_matrix():
    out = relation_matrix(np.zeros((2, 0), bool), np.zeros((2, 0), bool), "followed_by")
    assert out.shape == (2, 0)


@pytest.mark.parametrize("relation, expected", [
    ("directly_preceded_by", [False, True, False, False, False]),
    ("preceded_by", [False, True, True, True, True]),
])
def test_relations_with_the_target_first(relation, expected):
    target = np.array([[True, False, False, False, False]])
    nonempty = np.array([[True, True, True, False, True]])
    assert relation_matrix(target, nonempty, relation)[0].tolist() == expected


@pytest.mark.parametrize("relation, expected", [
    ("directly_followed_by", [False, False, True, True, False]),
    ("directly_preceded_by", [False, False, False, False, False]),
    ("followed_by", [True, True, True, True, False]),
    ("preceded_by", [False, False, False, False, False]),
])
def test_relations_over_a_list_with_a_blank(relation, expected):
    # cells: A, B, A, (blank), T with the target T last; only code cells are ever anchors
    target = np.array([[False, False, False, False, True]])
    nonempty = np.array([[True, True, True, False, True]])
    assert relation_matrix(target, nonempty, relation)[0].tolist() == expected


def test_within_block():
    m = matrix([["J12.4", "Z29.1", "Y53.9", "J03.2", "Y53.9", "Z29.1"]])
    blocks = Blocks.of(m)
    z = m.take(np.array([c.startswith("Z") for c in m.values.code]), False)
    nonempty = m.index != EMPTY
    # Y at 2 is preceded by Z at 1 in its block; Y at 4 is not (the Z at 1 is in the previous block).
    assert relation_matrix(z, nonempty, "preceded_by", blocks)[0].tolist() == [
        False, False, True, False, False, False]
    assert relation_matrix(z, nonempty, "directly_preceded_by", blocks)[0].tolist() == [
        False, False, True, False, False, False]
    # J12.4's block has a later Z; J03.2's block too (Z at 5); the Y at 4 is followed by Z at 5.
    assert relation_matrix(z, nonempty, "followed_by", blocks)[0].tolist() == [
        True, False, False, True, True, False]
    assert relation_matrix(z, nonempty, "directly_followed_by", blocks)[0].tolist() == [
        True, False, False, False, True, False]
