"""Reading the TRUD tables (synthetic fixtures in their layouts), lookups, and the episode attributes."""

import numpy as np
import pandas as pd
import pytest

from audit.codes import Kind
from audit.errors import InputFileError
from audit.reference import episode_age, episode_sex, load_reference, read_icd10, read_opcs4
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"
ICD10 = FIXTURES / "reference" / "ICD10_Edition5_CodesAndTitlesAndMetadata_GB_FIXTURE.txt"
OPCS4 = FIXTURES / "reference" / "OPCS410 CodesAndTitles FIXTURE V1.0.txt"
HEADER = ("CODE\tALT_CODE\tUSAGE\tUSAGE_UK\tDESCRIPTION\tMODIFIER_4\tMODIFIER_5\tQUALIFIERS\tGENDER_MASK\t"
          "MIN_AGE\tMAX_AGE\tTREE_DESCRIPTION")


def icd_row(code="C78.7", usage="DEFAULT", title="Secondary of liver", mask="", low="", high=""):
    return "\t".join([code, code.replace(".", ""), usage, "1", title, "", "", "", mask, low, high, title])


def test_folder_finds_both_tables():
    ref = load_reference(FIXTURES / "reference")
    assert ref.kinds == {Kind.DIAGNOSIS, Kind.PROCEDURE}
    assert len(ref.get(Kind.DIAGNOSIS)) == 53 and len(ref.get(Kind.PROCEDURE)) == 38
    assert "ICD-10 ICD10_Edition5" in ref.describe()


def test_a_single_file_is_enough(tmp_path):
    assert load_reference(OPCS4).kinds == {Kind.PROCEDURE}


def test_icd10_facts():
    facts = read_icd10(ICD10).facts(np.array(
        ["C78.7", "C78.9", "E10", "I10", "S72.01", "W19.4", "J96.00", "C61", "O80.0", "Z38.0", "G01", "A39.0", ""],
        dtype=object))
    assert facts.known.tolist() == [True, False, True, True, True, True, True, True, True, True, True, True, False]
    assert facts.needs_more.tolist()[:4] == [False, False, True, False]  # E10 is divided
    assert facts.invalid.tolist()[:4] == [False, True, True, False]
    assert facts.title[4] == "Fracture of neck of femur (fixture)"  # a fifth-character modifier of S72.0
    assert facts.title[5] == "Unspecified fall (fixture)"  # a fourth-character modifier of W19
    assert (facts.male_ok[7], facts.female_ok[7]) == (True, False)  # C61: male only
    assert (facts.male_ok[8], facts.female_ok[8]) == (False, True)  # O80.0: female only
    assert (facts.min_age[8], facts.max_age[8]) == (10, 60)
    assert facts.max_age[9] == 0 and np.isnan(facts.min_age[9])
    assert facts.usage[10:12].tolist() == ["asterisk", "dagger"]


def test_opcs4_facts():
    facts = read_opcs4(OPCS4).facts(np.array(["J12.4", "J12", "J12.0", "Z94.2"], dtype=object))
    assert facts.known.tolist() == [True, True, False, True]
    assert facts.invalid.tolist() == [False, True, True, False]
    assert facts.title[0] == "Percutaneous radiofrequency ablation of liver (fixture)"


def test_malformed_fixture_names_file_line_and_column():
    with pytest.raises(InputFileError) as err:
        load_reference(FIXTURES / "reference-malformed")
    assert err.value.line == 4 and err.value.column == "GENDER_MASK"
    assert "GENDER_BROKEN" not in str(err.value) and "_BROKEN.txt:4 (column GENDER_MASK)" in str(err.value)


@pytest.mark.parametrize("lines, line, message", [
    ([HEADER, icd_row(), icd_row("C7.87")], 3, "'C7.87' is not an ICD-10 code"),
    ([HEADER, icd_row(), icd_row("C78.7")], 3, "code C78.7 is listed twice (also line 2)"),
    ([HEADER, icd_row(low="ten")], 2, "MIN_AGE 'ten' is not blank or a whole number"),
    ([HEADER, icd_row(low="60", high="10")], 2, "MIN_AGE is above MAX_AGE"),
    ([HEADER, icd_row(title="")], 2, "a code without a DESCRIPTION"),
    ([HEADER, icd_row(), icd_row() + "\textra"], 3, "expected 12 tab-separated fields, found 13"),
    ([HEADER.replace("GENDER_MASK", "SEX"), icd_row()], 1, "no column GENDER_MASK"),
])
def test_malformed_icd10_tables(tmp_path, lines, line, message):
    path = tmp_path / "ICD10_Edition5_CodesAndTitlesAndMetadata_GB_20160401.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_reference(tmp_path)
    assert err.value.line == line and message in str(err.value)


@pytest.mark.parametrize("text, line, message", [
    ("J12\tPercutaneous liver\nJ12.4\n", 2, "a code without a title"),
    ("J12\tPercutaneous liver\nI12.4\tNo chapter I\n", 2, "'I12.4' is not an OPCS-4 code"),
    ("J12\tPercutaneous liver\nJ12.4\tRFA\tmore\n", 2, "expected 2 tab-separated fields, found 3"),
])
def test_malformed_opcs4_tables(tmp_path, text, line, message):
    path = tmp_path / "OPCS410 CodesAndTitles.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        read_opcs4(path)
    assert err.value.line == line and message in str(err.value)


def test_blank_lines_keep_line_numbers_and_windows_1252_is_read(tmp_path):
    path = tmp_path / "OPCS410 CodesAndTitles.txt"
    path.write_bytes("J12\tPercutaneous liver \u2013 other\n\nJ12.4\tRFA\nI99\tbad\n".encode("cp1252"))
    with pytest.raises(InputFileError) as err:
        read_opcs4(path)
    assert err.value.line == 4
    path.write_bytes("J12\tPercutaneous liver \u2013 other\n\nJ12.4\tRFA\n".encode("cp1252"))
    assert read_opcs4(path).frame.loc["J12", "title"] == "Percutaneous liver \u2013 other"


def test_no_tables_and_two_tables(tmp_path):
    (tmp_path / "readme.txt").write_text("Nothing here\n")
    with pytest.raises(InputFileError, match="no reference tables found"):
        load_reference(tmp_path)
    with pytest.raises(InputFileError, match="no such reference folder"):
        load_reference(tmp_path / "missing")
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("J12\tPercutaneous liver\n")
    with pytest.raises(InputFileError, match="more than one OPCS-4 table"):
        load_reference(tmp_path)


def test_episode_sex_and_age():
    assert episode_sex(pd.Series(["1", "2", "9", "0", "", None, "M", "f", 1.0])).tolist() == [
        1, 2, 0, 0, 0, 0, 1, 2, 1]
    ages = episode_age(pd.Series(["45", "7001", "7007", "999", "", None, "0", "120"]))
    assert ages[:3].tolist() == [45, 0, 0] and np.isnan(ages[3:6]).all() and ages[6:].tolist() == [0, 120]


def test_episode_sex_and_age_of_a_dictionary_column_as_of_text():
    """A reader's Arrow dictionary column: each distinct value worked out once, the same answers."""
    import pyarrow as pa

    def encoded(values):
        return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values).dictionary_encode()))

    sexes, ages = ["1", "2", "9", "", None, "M", " f ", "1.0", "2"], ["45", "7001", "999", "", None, " 33 ", "45"]
    assert episode_sex(encoded(sexes)).tolist() == episode_sex(pd.Series(sexes, dtype=object)).tolist()
    np.testing.assert_array_equal(episode_age(encoded(ages)), episode_age(pd.Series(ages, dtype=object)))
