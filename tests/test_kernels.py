"""The compiled loops, and the numpy paths small arrays take, against plain readings of what each computes."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import audit.kernels
from audit.kernels import (
    HashIndex,
    TextInterner,
    dictionary_indices,
    joined_dictionary,
    line_feeds,
    or_cell_bits,
    text_hashes,
)


@pytest.fixture(params=["compiled", "numpy"])
def path(request):
    """Every array through the compiled loop, or every array through numpy (the same for every example)."""
    saved = audit.kernels.COMPILED_FROM, audit.kernels.CELLS_BEFORE_COMPILING
    compiled = request.param == "compiled"
    audit.kernels.COMPILED_FROM = 0 if compiled else 1 << 40
    audit.kernels.CELLS_BEFORE_COMPILING = 0 if compiled else 1 << 40
    yield request.param
    audit.kernels.COMPILED_FROM, audit.kernels.CELLS_BEFORE_COMPILING = saved


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.none(), st.integers(0, 4)), max_size=40), st.integers(0, 12),
       st.sampled_from([pa.int8(), pa.int16(), pa.int32()]))
def test_dictionary_indices_fill_missing_cells(path, cells, start, index_type):
    """-1 where a cell is missing, whatever the slice offset (bitmaps not starting on a byte)."""
    dictionary = pa.array(["a", "b", "c", "d", "e"])
    arr = pa.DictionaryArray.from_arrays(pa.array(cells, index_type), dictionary)
    arr = arr.slice(min(start, len(cells)))
    expected = pc.fill_null(arr.indices, -1).to_numpy(zero_copy_only=False)
    got = dictionary_indices(arr.indices)
    assert got.dtype == index_type.to_pandas_dtype()
    assert list(got) == list(expected)


@pytest.mark.parametrize("start", [0, 3, 8, 17])
def test_dictionary_indices_over_runs_of_present_and_missing_cells(path, start):
    """Whole validity bytes present or missing (eight cells at a time), mixed bytes, and a ragged end."""
    cells = [1] * 40 + [None] * 40 + [2, None, 3, None] * 10 + [4] * 7
    arr = pa.array(cells, pa.int32()).slice(start)
    assert list(dictionary_indices(arr)) == [-1 if c is None else c for c in cells[start:]]


def test_dictionary_indices_without_missing_cells_is_a_view():
    arr = pa.array([2, 0, 1], pa.int16())
    assert list(dictionary_indices(arr)) == [2, 0, 1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(1, 4), st.integers(1, 3), st.data())
def test_or_cell_bits_is_a_take_and_an_or_per_word(path, size, words, data):
    codes = np.array(data.draw(st.lists(st.integers(-1, size - 1), max_size=30)), dtype=np.int16)
    table = np.array(data.draw(st.lists(st.lists(st.integers(0, 2**64 - 1), min_size=words, max_size=words),
                                        min_size=size + 1, max_size=size + 1)), dtype=np.uint64)
    before = np.arange(words * len(codes), dtype=np.uint64).reshape(words, len(codes))
    acc = before.copy()
    or_cell_bits(acc, table, codes)
    rows = np.where(codes < 0, size, codes)  # -1: the table's last row
    assert (acc == (before | table[rows].T)).all()


def test_text_hashes_equal_text_equal_hash():
    values = pa.array(["EP1", "EP2", None, "", "EP1", "x" * 100, "é" * 9, "EP1"])
    hashes, lengths = text_hashes(values)
    assert list(lengths) == [3, 3, 0, 0, 3, 100, 18, 3]
    assert hashes[0] == hashes[4] == hashes[7] and hashes[2] == hashes[3]
    assert len({int(h) for h in hashes}) == 5
    # A slice, and the same text as large_string, hash the same.
    sliced, _ = text_hashes(values.slice(4))
    wide, _ = text_hashes(values.cast(pa.large_string()))
    assert list(sliced) == list(hashes[4:]) and list(wide) == list(hashes)


def test_hash_index_matches_a_dictionary_as_it_grows():
    """From 16 slots to thousands: every id's first line survives each growth."""
    rng = np.random.default_rng(3)
    index, first, line = HashIndex(slots=16), {}, 1
    for size in rng.integers(1, 500, 30):
        hashes = rng.integers(1, 3000, size).astype(np.uint64)
        lines = np.arange(line, line + size)
        line += size
        expected = [0 if first.setdefault(h, n) == n else first[h] for h, n in zip(hashes.tolist(), lines)]
        assert list(index.first_lines(hashes, lines)) == expected
    assert index.used == len(first) <= HashIndex.MAX_LOAD * len(index.keys)


def test_hash_index_keeps_a_hash_of_zero():
    index = HashIndex(slots=16)
    assert list(index.first_lines(np.array([0, 5, 0], dtype=np.uint64), np.array([1, 2, 3]))) == [0, 0, 1]


def test_hash_index_refuses_lines_it_cannot_hold():
    with pytest.raises(OverflowError):
        HashIndex().first_lines(np.array([1], dtype=np.uint64), np.array([1 << 32]))


def test_joined_dictionary_keeps_each_cell_value_and_blanks_missing_cells(path):
    pieces = [pa.array(["C78.7", None, "J12.4", "C78.7"]).dictionary_encode(),
              pa.array([None, "Y53.1", "J12.4"]).dictionary_encode().slice(1),
              pa.array([], pa.string()).dictionary_encode()]
    column = pa.chunked_array(pieces)
    joined = joined_dictionary(column)
    assert joined.null_count == 0 and joined.indices.type == pa.int16()
    assert joined.dictionary_decode().to_pylist() == ["C78.7", "", "J12.4", "C78.7", "Y53.1", "J12.4"]
    assert joined_dictionary(pa.chunked_array([], pa.dictionary(pa.int32(), pa.string()))).to_pylist() == []


_TEXTS = st.one_of(st.sampled_from(["", "", "C78.7", "Y53.9", "J12.4", "A\x00", "A", "é9", "ABCDEFG"]),
                   st.text(max_size=12))  # over 7 bytes: the interner's slower path


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.lists(_TEXTS, max_size=40), max_size=4), min_size=1, max_size=4))
def test_text_interner_keeps_each_cell_value_with_a_dictionary_of_distinct_values(columns):
    interner = TextInterner(slots=16)  # small: the table grows while cells are interned
    for pieces in columns:  # one column after another, as chunks are: the run-wide table carries over
        column = pa.chunked_array([pa.array(p, pa.string()) for p in pieces], pa.string())
        encoded = interner.encode(column)
        values = encoded.dictionary.to_pylist()
        assert encoded.dictionary_decode().to_pylist() == [v for p in pieces for v in p]
        assert len(set(values)) == len(values) and encoded.indices.type == pa.int16()


def test_text_interner_widens_indices_past_16_bits_and_fills_missing_cells():
    interner = TextInterner()
    many = [f"{i:05d}" for i in range(40_000)] + [f"long value {i}" for i in range(40_000)]
    encoded = interner.encode(pa.chunked_array([pa.array(many[:50_000]), pa.array(many[50_000:])]))
    assert encoded.indices.type == pa.int32() and encoded.dictionary_decode().to_pylist() == many
    again = interner.encode(pa.chunked_array([pa.array(["00007", None, "long value 3"])]))
    assert again.indices.type == pa.int16()
    assert again.dictionary_decode().to_pylist() == ["00007", "", "long value 3"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_line_feeds_counts_what_bytes_count_counts(path, data):
    if path == "compiled":
        audit.kernels.load()
    assert line_feeds(np.frombuffer(data, dtype=np.uint8)) == data.count(b"\n")
