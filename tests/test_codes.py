import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.codes import (
    ASTERISK,
    DAGGER,
    InvalidCode,
    Kind,
    Status,
    normalise_value,
    normalise_values,
    parse_icd10,
    parse_opcs4,
)


@pytest.mark.parametrize("raw, code, marker", [
    ("C78.7", "C78.7", None),
    ("C787", "C78.7", None),
    ("c787", "C78.7", None),
    ("  C78.7 ", "C78.7", None),
    ("C787-", "C78.7", None),
    ("I10X", "I10", None),
    ("I10", "I10", None),
    ("i10x-", "I10", None),
    ("I10.X", "I10", None),
    ("S7200", "S72.00", None),
    ("S72.00", "S72.00", None),
    ("A170-D", "A17.0", DAGGER),
    ("G01X-A", "G01", ASTERISK),
    ("A17.0\u2020", "A17.0", DAGGER),
    ("G01*", "G01", ASTERISK),
    ("G01 *", "G01", ASTERISK),
    ("T08X0", "T08.X0", None),  # X in the fourth place so that a fifth character can follow
    ("T08.X1", "T08.X1", None),
    ("T08X", "T08", None),
])
def test_icd10_forms(raw, code, marker):
    parsed = parse_icd10(raw)
    assert (parsed.code, parsed.marker) == (code, marker)


@pytest.mark.parametrize("raw", ["", "C7.87", "78.7", "C78A", "C7", "CC787", "C78.77.", "C787-X",
                                 "C78.7.1", "J12.4D", "C787D", "I10-0"])
def test_icd10_malformed(raw):
    with pytest.raises(InvalidCode):
        parse_icd10(raw)


@pytest.mark.parametrize("raw, code", [("J12.4", "J12.4"), ("J124", "J12.4"), (" j124 ", "J12.4"),
                                       ("Y53", "Y53"), ("Z94.2", "Z94.2")])
def test_opcs4_forms(raw, code):
    assert parse_opcs4(raw).code == code


@pytest.mark.parametrize("raw", ["-", "&", " - ", ""])
def test_opcs4_placeholders_are_not_codes(raw):
    assert parse_opcs4(raw) is None
    assert normalise_value(raw, Kind.PROCEDURE)[0] is Status.EMPTY


@pytest.mark.parametrize("raw", ["I124", "J12.45", "J1", "J12X", "1234", "J12.-"])
def test_opcs4_malformed(raw):
    with pytest.raises(InvalidCode):
        parse_opcs4(raw)


def test_opcs4_qualifiers():
    assert parse_opcs4("Y53.9").is_qualifier and parse_opcs4("Z942").is_qualifier
    assert not parse_opcs4("J124").is_qualifier


def test_normalise_values_aligned():
    out = normalise_values(["C787", "", "bad", "I10X"], Kind.DIAGNOSIS)
    assert list(out.status) == [Status.VALID, Status.EMPTY, Status.INVALID, Status.VALID]
    assert list(out.code) == ["C78.7", "", "", "I10"]


# -- properties ---------------------------------------------------------------
letters = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
digits = st.sampled_from("0123456789")
icd_codes = st.builds(lambda l, a, b, c4, c5: f"{l}{a}{b}" + (f".{c4}{c5}" if c4 else ""),
                      letters, digits, digits, st.one_of(st.just(""), digits), st.one_of(st.just(""), digits))
opcs_codes = st.builds(lambda l, a, b, c: f"{l}{a}{b}.{c}",
                       st.sampled_from("ABCDEFGHJKLMNOPQRSTUVWXYZ"), digits, digits, digits)


@given(icd_codes)
def test_icd10_normalising_twice_changes_nothing(code):
    once = parse_icd10(code)
    assert parse_icd10(once.code) == once


@given(icd_codes, st.sampled_from(["", " ", "  "]), st.booleans())
def test_icd10_dotted_and_undotted_agree(code, pad, lower):
    undotted = code.replace(".", "")
    if len(undotted) == 3:
        undotted += "X"  # NHS Data Dictionary padding of an undivided category
    elif len(undotted) == 4:
        undotted += "-"  # unused fifth character filler
    if lower:
        undotted = undotted.lower()
    assert parse_icd10(pad + undotted + pad) == parse_icd10(code)


@given(opcs_codes, st.booleans())
def test_opcs4_dotted_and_undotted_agree_and_idempotent(code, lower):
    raw = code.replace(".", "")
    parsed = parse_opcs4(raw.lower() if lower else raw)
    assert parsed == parse_opcs4(code)
    assert parse_opcs4(parsed.code) == parsed


@given(st.text(max_size=8))
def test_any_text_normalises_without_crashing(raw):
    for kind in Kind:
        status, code, _ = normalise_value(raw, kind)
        assert status in (Status.EMPTY, Status.VALID, Status.INVALID)
        if status is Status.VALID:
            assert normalise_value(code, kind)[1] == code
