"""Row checks (pandera, every problem collected), duplicate ids across chunks, dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.extract.dates import parse_dates
from audit.extract.validate import MAX_CELL, RowChecker, SeenIds, join


def checker():
    return RowChecker(
        "ID",
        ["ID", "END", "DX", "KIND", "POS"],
        {"END": "end_date"},
        kind_column="KIND",
        position_column="POS",
    )


def frame(**cols):
    return pd.DataFrame(cols)


def test_every_problem_of_a_row_is_collected_in_column_order():
    f = frame(
        ID=["1", " ", "3", "4"],
        END=["2024-01-01", "31/02/2024", "", "x" * 100],
        DX=pd.Categorical(["C787", "C7\x0087", "C787", "C787"]),
        KIND=["d", "p", "surgery", "procedure"],
        POS=["1", "0", "2.5", "2"],
    )
    reasons = checker().problems(f)
    assert list(reasons) == [
        "",
        (
            "missing episode id; unparseable end date '31/02/2024'; NUL byte in column DX; "
            "position '0' is not a whole number from 1 to 99"
        ),
        (
            "unknown code kind 'surgery' (expected diagnosis or procedure); "
            "position '2.5' is not a whole number from 1 to 99"
        ),
        "unparseable end date '" + "x" * 40 + "...'",
    ]


def test_big_cells_and_line_breaks():
    f = frame(
        ID=["1", "2", "3"],
        END=["", "", ""],
        DX=["C" * (MAX_CELL + 1), "C787\nC187", "C787"],
        KIND=["", "", ""],
        POS=["", "", ""],
    )
    assert list(checker().problems(f)) == [
        "cell over 1 MB in column DX",
        "line break in column DX (an unclosed quote?)",
        "",
    ]


def test_dates_already_typed_pass():
    f = frame(ID=["1"], END=pd.to_datetime(["2024-01-01"]), DX=["C787"], KIND=["d"], POS=["1"])
    assert checker().problems(f) is None  # every row passes


def test_seen_ids_across_chunks():
    seen = SeenIds()
    first = seen.first_lines(np.array(["a", "b", "a", ""], dtype=object), np.array([2, 3, 4, 5]))
    assert list(first) == [0, 0, 2, 0]
    later = seen.first_lines(np.array(["c", "b", "c", "a"], dtype=object), np.array([6, 7, 8, 9]))
    assert list(later) == [0, 3, 6, 2]


def test_join():
    a = np.array(["", "x", "y", ""], dtype=object)
    b = np.array(["", "", "z", "w"], dtype=object)
    assert list(join(a, b)) == ["", "x", "y; z", "w"]


def test_date_forms():
    got = parse_dates(
        pd.Series(
            ["2024-03-31", "20240331", "31/03/2024", "2024-03-31 10:00:00", "", "9999-12-31", "2024-02-30"]
        )
    )
    assert list(got.dt.strftime("%Y-%m-%d").fillna("-")) == ["2024-03-31"] * 4 + ["-", "9999-12-31", "-"]


@pytest.mark.parametrize("few", [1 << 20, 3000, 0], ids=["few", "few-then-hashed", "hashed"])
def test_seen_ids_match_a_dictionary_over_many_chunks(monkeypatch, few):
    """Many chunks, ids seen again far apart, blank and long ids: kept as text, moved to the hash table
    part way, or hashed from the start (the hash table's growth: test_kernels)."""
    monkeypatch.setattr("audit.extract.validate.FEW_IDS", few)
    rng = np.random.default_rng(7)
    pool = np.array([f"{i:012d}" for i in range(20_000)] + ["", " x", "y" * 100, "é" * 9], dtype=object)
    seen, first, line = SeenIds(), {}, 1
    for size in rng.integers(1, 2_000, 40):
        ids = pool[rng.integers(0, len(pool), size)]
        lines = np.arange(line, line + size) * 2  # line numbers with gaps, as after multi-line records
        line += size
        expected = []
        for i, n in zip(ids, lines):
            expected.append(0 if i == "" or first.setdefault(i, n) == n else first[i])
        assert list(seen.first_lines(ids, lines)) == expected


def test_text_values_strip_only_when_a_value_may_need_it():
    from audit.extract.dates import text_values

    clean = pd.Series(["EP1", "EP22", "é1"], dtype="str")  # é: not ASCII, so stripped to be sure
    assert list(text_values(clean)) == ["EP1", "EP22", "é1"]
    plain = pd.Series(["EP1", "EP22"], dtype="str")
    assert text_values(plain) is plain  # nothing to strip: no copy
    for values, expected in ([" EP1", "EP2\t"], ["EP1", "EP2"]), (["\u00a0EP1", ""], ["EP1", ""]):
        assert list(text_values(pd.Series(values, dtype="str"))) == expected


def test_seen_ids_sized_up_front_still_grow(monkeypatch):
    """An expected count past FEW_IDS starts the hash table at that size; more ids still fit."""
    monkeypatch.setattr("audit.extract.validate.FEW_IDS", 1000)
    seen = SeenIds(expected=2000)
    ids = np.array([f"{i}" for i in range(100_000)], dtype=object)
    assert not seen.first_lines(ids, np.arange(1, 100_001)).any()
    assert list(seen.first_lines(np.array(["5", "x"], dtype=object), np.array([100_001, 100_002]))) == [6, 0]
