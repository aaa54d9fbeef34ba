import numpy as np
import pandas as pd

from audit.extract import dates
from audit.extract.dates import parse_dates

TEXTS = ["2024-03-31", "20240331", "31/03/2024", "", "31/02/2024", "0001-01-01", "2024-03-31T10:00:00", "x"]
EXPECTED = np.array(["2024-03-31", "2024-03-31", "2024-03-31", "NaT", "NaT", "0001-01-01",
                     "2024-03-31T10:00:00", "NaT"], dtype="datetime64[us]")


def test_each_form_of_date_and_the_unparseable():
    got = parse_dates(pd.Series(TEXTS, dtype="str")).to_numpy()
    assert (np.isnat(got) == np.isnat(EXPECTED)).all()
    assert (got[~np.isnat(got)] == EXPECTED[~np.isnat(EXPECTED)]).all()


def test_dates_seen_before_are_remembered_with_the_same_answers(monkeypatch):
    monkeypatch.setattr(dates, "_PARSED", {})
    first = parse_dates(pd.Series(TEXTS, dtype="str"))
    calls = []
    real = dates._parse_formats
    monkeypatch.setattr(dates, "_parse_formats", lambda v: calls.append(list(v)) or real(v))
    again = parse_dates(pd.Series(TEXTS[::-1], dtype="str"))
    pd.testing.assert_series_equal(again, first[::-1].reset_index(drop=True))
    assert calls == []  # every date parsed once a run, 0001-01-01 too


def test_the_memo_starts_again_when_full(monkeypatch):
    monkeypatch.setattr(dates, "_PARSED", {})
    monkeypatch.setattr(dates, "_PARSED_MAX", 3)
    parse_dates(pd.Series(TEXTS, dtype="str"))
    assert len(dates._PARSED) <= len(TEXTS)
    got = parse_dates(pd.Series(["2025-01-02", "2025-01-03"], dtype="str"))
    assert len(dates._PARSED) == 2 and got.to_numpy()[0] == np.datetime64("2025-01-02", "us")
