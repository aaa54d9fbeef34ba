import numpy as np
import pandas as pd

from audit.codes import Kind
from audit.episodes import EMPTY, Blocks, CodeMatrix, code_columns


def matrix(rows, kind=Kind.PROCEDURE, categorical=False):
    width = max(len(r) for r in rows)
    cols = [pd.Series([r[j] if j < len(r) else "" for r in rows]) for j in range(width)]
    if categorical:
        cols = [c.astype("category") for c in cols]
    return CodeMatrix.from_columns(cols, kind)


def test_distinct_values_are_shared_across_columns():
    m = matrix([["J124", "Y539"], ["Y539", "J124"]])
    assert m.index[0, 0] == m.index[1, 1] and m.index[0, 1] == m.index[1, 0]
    assert len(m.values.raw) == 2  # each distinct value once, whatever the column
    assert (m.index != EMPTY).all()


def test_placeholders_and_blanks_are_empty():
    m = matrix([["-", ""], ["&", "J124"]])
    assert m.index[0, 0] == EMPTY and m.index[0, 1] == EMPTY and m.index[1, 0] == EMPTY
    assert m.index[1, 1] != EMPTY


def test_categorical_and_string_columns_agree():
    rows = [["J124", "Y539", "Z942"], ["H229", "", ""]]
    a, b = matrix(rows), matrix(rows, categorical=True)
    assert (a.take(a.values.code, "") == b.take(b.values.code, "")).all()


def test_blocks_follow_pyz_sequencing():
    # J12.4 Y53.9 Z29.1 | H22.9 Y53.4 | Z94.2 orphan before any main in row 2
    m = matrix([["J124", "Y539", "Z291", "H229", "Y534"], ["Z942", "J128", "Y123", "", ""]])
    blocks = Blocks.of(m)
    assert blocks.owner[0].tolist() == [0, 0, 0, 3, 3]
    assert blocks.owner[1].tolist()[:3] == [-1, 1, 1]
    assert blocks.is_main[0].tolist() == [True, False, False, True, False]
    y53 = m.take(np.array([c.startswith("Y53") for c in m.values.code]), False)
    contains = blocks.contains(y53)
    assert contains[0, 0] and contains[0, 3]
    assert not contains[1].any()  # Z94.2 before any main code belongs to no block


def test_invalid_codes_do_not_break_a_block():
    m = matrix([["J124", "junk", "Y539"]])
    assert Blocks.of(m).owner[0].tolist() == [0, 0, 0]


def test_code_columns_in_position_order():
    frame = pd.DataFrame(columns=["episode_id", "diag_10", "diag_02", "proc_01", "diag_01", "diagnosis"])
    assert code_columns(frame, Kind.DIAGNOSIS) == ["diag_01", "diag_02", "diag_10"]
    assert code_columns(frame, Kind.PROCEDURE) == ["proc_01"]
