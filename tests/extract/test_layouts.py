"""Layout detection, column roles and the conversion of each layout to the canonical frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.errors import InputFileError, UserError
from audit.extract import read_extract
from audit.extract.columns import Header, parse_column_options, settings_columns
from audit.extract.layouts import detect_separator, plan_layout, split_codes

P = Path("e.csv")


def plan(names, mapping=None, layout=None):
    return plan_layout(P, Header(names), mapping or {}, layout)


def test_wide_hes_columns_in_number_order():
    p = plan(["EPIKEY", "DIAG_10", "DIAG_2", "DIAG_01", "OPERTN_01", "EPIEND", "PROCODE", "DIAG_ALL"])
    assert p.layout == "wide"
    assert p.codes["diagnosis"] == ["DIAG_01", "DIAG_2", "DIAG_10"] and p.codes["procedure"] == ["OPERTN_01"]
    assert p.attributes == {"provider": "PROCODE", "end_date": "EPIEND"}


def test_derived_four_character_columns_when_there_are_no_plain_ones():
    p = plan(["epikey", "diag_4_01", "diag_4_02", "opertn_4_01", "DIAG_3_01"])
    assert p.codes["diagnosis"] == ["diag_4_01", "diag_4_02"] and p.codes["procedure"] == ["opertn_4_01"]


def test_any_number_of_code_columns():
    p = plan(["EPIKEY", *[f"DIAG_{i:02d}" for i in range(1, 31)], *[f"OPERTN_{i}" for i in range(1, 101)]])
    assert len(p.codes["diagnosis"]) == 30 and len(p.codes["procedure"]) == 100


def test_concatenated_and_long_detection_and_forcing():
    assert plan(["EPIKEY", "DIAG_ALL", "OPERTN_ALL"]).layout == "concatenated"
    long = plan(["EPIKEY", "CODE_TYPE", "POSITION", "CODE", "EPIEND"])
    assert (long.layout, long.kind_column, long.position_column, long.code_column) == (
        "long",
        "CODE_TYPE",
        "POSITION",
        "CODE",
    )
    both = ["EPIKEY", "DIAG_01", "DIAG_ALL"]
    assert plan(both).layout == "wide" and plan(both, layout="concatenated").layout == "concatenated"


@pytest.mark.parametrize(
    "names, layout, message",
    [
        (["EPISODE", "DIAG_01"], None, "no episode id column: looked for EPIKEY or EPISODE_ID"),
        (["EPIKEY", "PROCODE"], None, "no code columns"),
        (["EPIKEY", "DIAG_01"], "long", "--layout long: no kind column"),
        (["EPIKEY", "DIAG_01"], "concatenated", "--layout concatenated: no DIAG_ALL / OPERTN_ALL field"),
        (["EPIKEY", "DIAG_ALL"], "wide", "--layout wide: no numbered code columns"),
        (["EPIKEY", "epikey", "DIAG_01"], None, "column 'EPIKEY' appears more than once"),
        (["EPIKEY", "DIAG_1", "DIAG_01"], None, "two diagnoses columns numbered 1: DIAG_01, DIAG_1"),
    ],
)
def test_unusable_headers(names, layout, message):
    with pytest.raises(InputFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(names, layout=layout)


def test_unknown_layout_is_an_option_error():
    with pytest.raises(UserError, match="unknown layout 'tall'"):
        plan(["EPIKEY", "DIAG_01"], layout="tall")


def test_mapping_local_names_and_switching_roles_off():
    p = plan(
        ["Episode No", "Dx1", "Dx2", "Op 1", "EPIEND", "Left"],
        {"episode_id": "episode no", "diagnoses": "Dx", "procedures": "Op ", "end_date": "Left"},
    )
    assert (
        p.id_column == "Episode No"
        and p.codes["diagnosis"] == ["Dx1", "Dx2"]
        and p.codes["procedure"] == ["Op 1"]
    )
    assert p.attributes == {"end_date": "Left"}
    off = plan(["EPIKEY", "DIAG_01", "EPIEND"], {"end_date": ""})
    assert off.attributes == {}


def test_column_options_and_settings():
    assert parse_column_options(["episode_id = Episode No", "coder=Coded By"]) == {
        "episode_id": "Episode No",
        "coder": "Coded By",
    }
    assert settings_columns({"columns": {"provider": "Site"}}) == {"provider": "Site"}
    with pytest.raises(UserError, match="unknown column role 'site'"):
        settings_columns({"columns": {"site": "X"}})
    with pytest.raises(UserError, match="must be a string"):
        settings_columns({"columns": {"provider": 3}})


@pytest.mark.parametrize(
    "values, separator",
    [
        (["C787|C187", "I10X"], "|"),
        (["C787,C187"], ","),
        (["C787; C187"], ";"),
        (["C787 C187"], " "),
        (["C787||C187"], "|"),
        (["C787", ""], None),
    ],
)
def test_separator_detection(values, separator):
    assert detect_separator([pd.Series(values)]) == separator


def test_split_keeps_positions_and_strips():
    parts = split_codes(pd.Series(["C787| C187 ||I10X", "", "J45X"]), "|")
    assert parts.values.tolist() == [["C787", "C187", "", "I10X"], ["", "", "", ""], ["J45X", "", "", ""]]


def _episodes(path, **options) -> pd.DataFrame:
    return pd.concat(
        [b.episodes for b in read_extract(path, **options) if len(b.episodes)], ignore_index=True
    )


def test_long_positions_keep_gaps_and_order(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text(
        "EPIKEY,CODE_TYPE,POSITION,CODE,EPIEND\n"
        "1,procedure,3,Y539,2024-01-01\n1,D,1,C787,\n1,procedure,1,J124,\n2,,,,2024-02-02\n"
    )
    frame = _episodes(path)
    assert list(frame.columns) == ["episode_id", "line", "end_date", "diag_01", "proc_01", "proc_02", "proc_03"]
    assert frame.astype(object).where(frame.notna(), "").values.tolist() == [  # "" and missing: no code
        ["1", 2, pd.Timestamp("2024-01-01"), "C787", "J124", "", "Y539"],  # an episode's line: its first row's
        ["2", 5, pd.Timestamp("2024-02-02"), "", "", "", ""],
    ]


def test_a_file_with_only_diagnoses_still_has_a_procedure_column(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,DIAG_01\n1,C787\n")
    frame = _episodes(path)
    assert list(frame.columns) == ["episode_id", "line", "diag_01", "proc_01"]
    assert np.all(frame["proc_01"].astype(str) == "")


def test_dictionary_encoded_attributes_stay_encoded_with_stripped_values():
    """A reader's Arrow dictionary attribute (provider) is stripped per distinct value, not per cell."""
    import pyarrow as pa

    from audit.extract.layouts import wide_frame
    from audit.kernels import joined_dictionary

    p = plan(["EPIKEY", "PROCODE", "DIAG_01", "OPERTN_01"])
    provider = joined_dictionary(pa.chunked_array([pa.array([" RXX ", None, "RYY"]).dictionary_encode()]))
    raw = pd.DataFrame({"EPIKEY": ["1", "2", "3"], "PROCODE": pd.arrays.ArrowExtensionArray(provider),
                        "DIAG_01": ["C787", "", "I10"], "OPERTN_01": ["J124", "", ""]})
    frame = wide_frame(raw, pd.Series(["1", "2", "3"], dtype="str"), p)
    role = next(r for r, c in p.attributes.items() if c == "PROCODE")
    assert isinstance(frame[role].dtype, pd.ArrowDtype)
    assert list(frame[role]) == ["RXX", "", "RYY"]


def test_admission_method_and_patient_class_are_read_for_rules_not_carried_into_findings(tmp_path):
    from audit.engine import attribute_columns

    hes = plan(["EPIKEY", "MAINSPEF", "ADMIMETH", "CLASSPAT", "DIAG_01"])
    assert hes.attributes == {"specialty": "MAINSPEF", "admission_method": "ADMIMETH", "patient_class": "CLASSPAT"}
    assert plan(["EPIKEY", "ADMISSION_METHOD", "patient_class", "DIAG_01"]).attributes == {
        "admission_method": "ADMISSION_METHOD", "patient_class": "patient_class"}
    local = plan(["EPIKEY", "How Admitted", "Class", "ADMIMETH", "DIAG_01"],
                 {"admission_method": "How Admitted", "patient_class": "Class"})
    assert local.attributes == {"admission_method": "How Admitted", "patient_class": "Class"}
    assert plan(["EPIKEY", "CLASSPAT", "DIAG_01"], {"patient_class": ""}).attributes == {}
    with pytest.raises(InputFileError, match="no column 'Klass' for patient_class"):
        plan(["EPIKEY", "CLASSPAT", "DIAG_01"], {"patient_class": "Klass"})
    assert parse_column_options(["admission_method=How Admitted"]) == {"admission_method": "How Admitted"}
    assert settings_columns({"columns": {"patient_class": "Class"}}) == {"patient_class": "Class"}

    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,PROCODE,ADMIMETH,CLASSPAT,DIAG_01\n1,RXX, 2a ,2,C787\n2,RXX,,,I10X\n")
    frame = _episodes(path)
    assert list(frame.columns) == ["episode_id", "line", "provider", "admission_method", "patient_class",
                                   "diag_01", "proc_01"]
    assert list(frame["admission_method"].astype(str)) == ["2a", ""]
    assert attribute_columns(frame) == ["line", "provider"]
