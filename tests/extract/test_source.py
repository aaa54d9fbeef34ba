"""The steps every format shares: which cells are blank (a row is skipped only if all its cells are)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from audit.extract.source import _blank_cells


def _expected(values: list[str | None]) -> list[bool]:
    return [v is None or v.strip() == "" for v in values]


@pytest.mark.parametrize("values", [
    ["100001", "100002", "X9"],  # the usual ids: none blank, found on the bytes alone
    ["100001", "", "X9"],
    ["100001", "   ", "X9"],
    ["100001", None, "X9"],
    [" 100001", "\t", "X9 "],
    ["\u00e9t\u00e9", "\u3000", "ok"],  # a value starting with a non-ASCII character, and a wide space
    ["", ""],
    [],
])
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_blank_cells_of_text(values, kind):
    arr = pa.array(values, kind)
    assert _blank_cells(arr).tolist() == _expected(values)
    chunked = pa.chunked_array([arr.slice(0, 1), arr.slice(1)], kind)  # pieces, and an offset into the data
    assert _blank_cells(chunked).tolist() == _expected(values)


def test_blank_cells_of_a_dictionary():
    arr = pa.array(["C787", None, " ", "C787", ""]).dictionary_encode()
    assert np.array_equal(_blank_cells(arr), [False, True, True, False, True])
