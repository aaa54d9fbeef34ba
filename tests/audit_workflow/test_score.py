"""The four areas scored against answers worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.audit_workflow.score import DEFAULT_ATTAINMENT, attainment_levels, score, wilson
from audit.errors import UserError


def frame(rows) -> pd.DataFrame:
    """(id, specialty, diagnoses, procedures) as a plain canonical frame of 4 + 4 positions."""
    out = []
    for episode_id, specialty, diagnoses, procedures in rows:
        row = {"episode_id": episode_id, "specialty": specialty, "coder": "C1", "provider": "RXA"}
        row.update({f"diag_{i:02d}": (diagnoses + [""] * 4)[i - 1] for i in range(1, 5)})
        row.update({f"proc_{i:02d}": (procedures + [""] * 4)[i - 1] for i in range(1, 5)})
        out.append(row)
    return pd.DataFrame(out)


ORIGINAL = frame([
    ("E1", "100", ["C787", "C187", "I10"], ["J124", "Y539"]),
    ("E2", "100", ["C78.7", "E11.9"], ["-"]),
    ("E3", "300", ["J18.9", "N39.0", "E87.1"], ["W371", "Z843"]),
    ("E4", "300", ["I21.9", "I10", "E78.0", "Z86.7"], ["K634"]),
    ("E5", "300", ["S720", "W19.9", "W19.9"], ["&"]),
    ("E6", "100", ["C787"], ["J124"]),
])
RECODED = frame([
    ("E1", "100", ["c78.7", "I10X", "C18.7"], ["J12.4", "Y53.9"]),  # all equal once normalised, order aside
    ("E2", "100", ["C7871", "E11.9", "I10"], []),  # fifth character counts; I10 omitted; no procedure either side
    ("E3", "300", ["J18.9", "N39.0", "E87.6", "R26.8"], ["W381", "Z843", "Y031"]),
    ("E4", "300", ["I21.4", "I10"], []),
    ("E5", "300", ["S72.0", "W19.9"], ["W461"]),
    ("E6", "100", [], []),  # not re-coded yet
])


@pytest.fixture(scope="module")
def scored():
    return score(ORIGINAL, RECODED)


def test_not_recoded_is_listed_not_scored(scored):
    assert scored.not_recoded == ["E6"]
    assert scored.episodes["episode_id"].tolist() == ["E1", "E2", "E3", "E4", "E5"]


def test_primary_diagnosis(scored):
    # E1 C78.7=C78.7, E3 J18.9, E5 S72.0 correct; E2 C78.7 vs C78.71 and E4 I21.9 vs I21.4 wrong: 3 / 5 = 60%
    a = scored.areas["primary_diagnosis"]
    assert (a.correct, a.errors) == (3, 2)
    assert a.percent == pytest.approx(60.0)
    # Wilson, p = 0.6, n = 5, z = 1.959964: z^2/n = 0.768292, centre = (0.6 + 0.384146) / 1.768292 = 0.556553,
    # half = 1.959964 * sqrt(0.048 + 0.038415) / 1.768292 = 0.325827: 23.07% to 88.24%
    assert a.ci_low == pytest.approx(23.0724, abs=1e-3) and a.ci_high == pytest.approx(88.2380, abs=1e-3)
    assert a.attainment == "not met"


def test_secondary_diagnoses(scored):
    # correct: E1 2 (C18.7, I10 in any order), E2 1, E3 1, E4 1, E5 1 = 6
    # errors (larger of the codes left on either side): E1 0; E2 max(0, 1) = 1; E3 max(1, 2) = 2;
    # E4 max(2, 0) = 2; E5 one W19.9 of two left on the original: max(1, 0) = 1; in all 6: 6 / 12 = 50%
    a = scored.areas["secondary_diagnoses"]
    assert (a.correct, a.errors) == (6, 6)
    assert a.percent == pytest.approx(50.0)


def test_primary_procedure(scored):
    # E1 J12.4 correct; E2 "-" and nothing: no primary procedure either side, not counted; E3 W37.1 vs W38.1
    # wrong; E4 K63.4 vs none: an error; E5 "&" (not a code) vs W46.1: an error: 1 / 4 = 25%
    a = scored.areas["primary_procedure"]
    assert (a.correct, a.errors) == (1, 3)
    assert a.percent == pytest.approx(25.0)


def test_secondary_procedures(scored):
    # E1 Y53.9 correct; E3 Z84.3 correct, Y03.1 omitted: 2 / 3 = 66.67%
    a = scored.areas["secondary_procedures"]
    assert (a.correct, a.errors) == (2, 1)
    assert a.percent == pytest.approx(200 / 3)


def test_every_error_type(scored):
    got = {(r.area, r.error_type): r.errors for r in scored.error_types.itertuples()}
    assert got == {
        ("primary_diagnosis", "wrong"): 2, ("primary_diagnosis", "omitted"): 0,
        ("primary_diagnosis", "unnecessary"): 0,
        # E3: E87.1 -> E87.6 is one changed code (wrong), R26.8 one omitted; E2 I10 omitted;
        # E4 E78.0 and Z86.7 unnecessary, E5 the second W19.9 unnecessary
        ("secondary_diagnoses", "wrong"): 1, ("secondary_diagnoses", "omitted"): 2,
        ("secondary_diagnoses", "unnecessary"): 3,
        ("primary_procedure", "wrong"): 1, ("primary_procedure", "omitted"): 1,  # E3; E5
        ("primary_procedure", "unnecessary"): 1,  # E4
        ("secondary_procedures", "wrong"): 0, ("secondary_procedures", "omitted"): 1,
        ("secondary_procedures", "unnecessary"): 0,
    }


def test_auditor_error_types_are_counted_per_area():
    types = pd.Series({"E2": "wrong fifth character", "E4": "sequencing"})
    got = score(ORIGINAL, RECODED, error_types=types).error_types
    auditor = got[got["error_type"].str.startswith("auditor: ")]
    pd_rows = auditor[auditor["area"] == "primary_diagnosis"].set_index("error_type")["errors"].to_dict()
    assert pd_rows == {"auditor: sequencing": 1, "auditor: wrong fifth character": 1}


def test_breakdown_by_specialty(scored):
    by = scored.breakdowns["specialty"].set_index("specialty")
    # 100: E1, E2: primary diagnosis 1 / 2; 300: E3, E4, E5: 2 / 3
    assert by.loc["100", "primary_diagnosis_percent"] == 50.0
    assert by.loc["300", "primary_diagnosis_percent"] == pytest.approx(66.67)
    assert by.loc["300", "episodes"] == 3


def test_side_by_side_marks_the_differences(scored):
    e3 = next(d for d in scored.differences if d["episode_id"] == "E3")
    original, recoded = e3["diagnoses"]
    assert original == [("J18.9", False), ("N39.0", False), ("E87.1", True)]
    assert recoded == [("J18.9", False), ("N39.0", False), ("E87.6", True), ("R26.8", True)]


def test_an_id_not_in_the_original_is_an_error_naming_it():
    extra = pd.concat([RECODED, frame([("E9", "100", ["C787"], [])])], ignore_index=True)
    with pytest.raises(UserError, match="not in the original: E9"):
        score(ORIGINAL, extra)


def test_weighted_percent_and_interval():
    original = frame([("A", "100", ["C787"], []), ("B", "100", ["C787"], [])])
    recoded = frame([("A", "100", ["C787"], []), ("B", "100", ["C18.7"], [])])
    # inclusion probabilities 1 and 1/3: weights 1 and 3; weighted percent 1 / (1 + 3) = 25%
    s = score(original, recoded, weights=pd.Series({"A": 1.0, "B": 3.0}))
    a = s.areas["primary_diagnosis"]
    assert s.weighted and (a.correct, a.errors) == (1, 1)
    assert a.percent == pytest.approx(25.0)
    # effective n (Kish) = (1 + 3)^2 / (1 + 9) = 1.6; Wilson p = 0.25, n = 1.6: z^2/n = 2.400912,
    # centre = (0.25 + 1.200456) / 3.400912 = 0.426485; half = 1.959964 * sqrt(0.1171875 + 0.3751425) / 3.400912
    # = 0.404372: 2.21% to 83.09%
    assert a.effective_n == pytest.approx(1.6)
    assert a.ci_low == pytest.approx(2.2113, abs=1e-3) and a.ci_high == pytest.approx(83.0857, abs=1e-3)


@pytest.mark.parametrize("k, n, low, high", [
    (8, 10, 0.4902, 0.9433),  # the textbook example
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (180, 200, 0.8506, 0.9343),  # 90% of 200: centre 0.892451, half 1.959964 * 0.021772 / 1.019207
])
def test_wilson_known_values(k, n, low, high):
    got = wilson(k / n, n)
    assert got[0] == pytest.approx(low, abs=1e-4) and got[1] == pytest.approx(high, abs=1e-4)


def test_attainment_levels_default_and_settings():
    assert attainment_levels({}) == DEFAULT_ATTAINMENT
    custom = {"attainment": {"good": dict.fromkeys(DEFAULT_ATTAINMENT["met"], 50),
                             "poor": dict.fromkeys(DEFAULT_ATTAINMENT["met"], 20)}}
    levels = attainment_levels(custom)
    assert list(levels) == ["poor", "good"]  # lowest first
    s = score(ORIGINAL, RECODED, levels=levels)
    # 60% >= 50: good; 50% >= 50: good; 25% >= 20: poor; 66.67%: good
    assert [a.attainment for a in s.areas.values()] == ["good", "good", "poor", "good"]
    assert s.below("good") == ["primary_procedure"]


@pytest.mark.parametrize("table", [{"met": {"primary_diagnosis": 90}}, {"met": "90"},
                                   {"met": dict.fromkeys(DEFAULT_ATTAINMENT["met"], 120)}])
def test_bad_attainment_settings_are_user_errors(table):
    with pytest.raises(UserError, match="attainment"):
        attainment_levels({"attainment": table})


def test_a_breakdown_with_nothing_to_score_in_an_area_says_none():
    original = frame([("A", "100", ["C787"], ["J124"]), ("B", "300", ["C787"], [])])
    by = score(original, original).breakdowns["specialty"].set_index("specialty")
    assert by.loc["300", "primary_procedure_percent"] is None  # B: no primary procedure either side
    assert by.loc["100", "primary_procedure_percent"] == 100.0


def test_each_error_with_its_codes(scored):
    got = [tuple(r) for r in scored.errors.itertuples(index=False)]
    assert got == [
        ("E2", "primary_diagnosis", "wrong", "C78.7", "C78.71"),
        ("E4", "primary_diagnosis", "wrong", "I21.9", "I21.4"),
        ("E2", "secondary_diagnoses", "omitted", "", "I10"),
        ("E3", "secondary_diagnoses", "wrong", "E87.1", "E87.6"),
        ("E3", "secondary_diagnoses", "omitted", "", "R26.8"),
        ("E4", "secondary_diagnoses", "unnecessary", "E78.0", ""),
        ("E4", "secondary_diagnoses", "unnecessary", "Z86.7", ""),
        ("E5", "secondary_diagnoses", "unnecessary", "W19.9", ""),
        ("E3", "primary_procedure", "wrong", "W37.1", "W38.1"),
        ("E4", "primary_procedure", "unnecessary", "K63.4", ""),
        ("E5", "primary_procedure", "omitted", "", "W46.1"),
        ("E3", "secondary_procedures", "omitted", "", "Y03.1"),
    ]
    # the same counts as the error types
    counts = scored.errors.groupby(["area", "error_type"]).size().to_dict()
    types = scored.error_types.set_index(["area", "error_type"])["errors"]
    assert all(types[k] == v for k, v in counts.items()) and types.sum() == len(scored.errors)
