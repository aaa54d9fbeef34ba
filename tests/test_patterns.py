import numpy as np
import pytest

from audit.codes import Kind
from audit.patterns import Pattern, PatternError

CODES = np.array(["Y53.9", "Y53", "Y52.1", "X70.1", "X71", "X72.4", "X73.1", "J12.4", "J12.40", ""], dtype=object)


def matched(text, kind=Kind.PROCEDURE):
    return [c for c, hit in zip(CODES, Pattern.parse(text, kind).match(CODES)) if hit]


def test_code_matches_itself_and_codes_below_it():
    assert matched("J12.4") == ["J12.4", "J12.40"]
    assert matched("J124") == ["J12.4", "J12.40"]


@pytest.mark.parametrize("text", ["Y53.-", "Y53", "y53.-"])
def test_category(text):
    assert matched(text) == ["Y53.9", "Y53"]


@pytest.mark.parametrize("text", ["X70-X72", "X70\u2013X72"])
def test_category_range(text):
    assert matched(text) == ["X70.1", "X71", "X72.4"]


def test_code_range_and_list():
    codes = np.array(["N18.1", "N18.3", "N18.5", "N18.6", "N18.9", "E11.9"], dtype=object)
    hit = Pattern.parse("N18.1-N18.5, N18.9", Kind.DIAGNOSIS).match(codes)
    assert list(codes[hit]) == ["N18.1", "N18.3", "N18.5", "N18.9"]
    assert list(codes[Pattern.parse(["E10-E14", "N18.6"], Kind.DIAGNOSIS).match(codes)]) == ["N18.6", "E11.9"]


def test_cross_letter_range():
    codes = np.array(["V01.0", "W19", "X59.9", "Y98", "Z00.0", "U07.1"], dtype=object)
    assert list(codes[Pattern.parse("V01-Y98", Kind.DIAGNOSIS).match(codes)]) == ["V01.0", "W19", "X59.9", "Y98"]


@pytest.mark.parametrize("text, kind", [
    ("I12.4", Kind.PROCEDURE),  # no chapter I in OPCS-4
    ("J12.4,", Kind.PROCEDURE),
    ("X72-X70", Kind.PROCEDURE),
    ("X70-X72.1", Kind.PROCEDURE),
    ("C7", Kind.DIAGNOSIS),
    ("hello", Kind.DIAGNOSIS),
])
def test_bad_patterns(text, kind):
    with pytest.raises(PatternError):
        Pattern.parse(text, kind)
