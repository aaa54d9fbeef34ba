"""The same episodes in every format and layout give identical findings."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.pipeline import run_audit
from tests.extract import synthetic as syn

# A CSV-free baseline would hide CSV bugs; the reference is the plain comma-separated UTF-8 file.
VARIANTS = {
    "csv-comma": lambda f, p: syn.write_csv(syn.with_date_styles(f), p / "e.csv"),
    "csv-tab": lambda f, p: syn.write_csv(f, p / "e.tsv", sep="\t"),
    "csv-pipe": lambda f, p: syn.write_csv(f, p / "e.txt", sep="|"),
    "csv-semicolon": lambda f, p: syn.write_csv(f, p / "e.csv", sep=";"),
    "csv-bom": lambda f, p: syn.write_csv(f, p / "e.csv", encoding="utf-8-sig"),
    "csv-cp1252": lambda f, p: syn.write_csv(f, p / "e.csv", encoding="cp1252"),
    "csv-gzip": lambda f, p: syn.write_csv(syn.with_date_styles(f), p / "e.csv.gz", compress=True),
    "csv-derived-names": lambda f, p: syn.write_csv(
        f.rename(columns=lambda c: c.replace("DIAG_", "DIAG_4_").replace("OPERTN_", "OPERTN_4_")), p / "e.csv"
    ),
    "parquet": lambda f, p: syn.write_parquet(f, p / "e.parquet", row_group_size=7),
    "parquet-typed": lambda f, p: syn.write_parquet(f, p / "e.parquet", typed=True),
    "xlsx": lambda f, p: syn.write_xlsx(f, p / "e.xlsx"),
    "xlsx-typed-title": lambda f, p: syn.write_xlsx(
        f, p / "e.xlsx", typed=True, title="Coded episodes, March"
    ),
    "long": lambda f, p: syn.write_csv(syn.long_table(f), p / "l.csv"),
    "long-no-position": lambda f, p: syn.write_csv(syn.long_table(f, position=False), p / "l.csv"),
    "long-short-kinds": lambda f, p: syn.write_csv(syn.long_table(f, words=("D", "P")), p / "l.csv"),
    "long-by-kind": lambda f, p: syn.write_csv(syn.long_table(f, order="kind"), p / "l.csv"),
    "long-parquet": lambda f, p: syn.write_parquet(syn.long_table(f), p / "l.parquet"),
    "long-xlsx": lambda f, p: syn.write_xlsx(syn.long_table(f), p / "l.xlsx"),
    "concatenated-pipe": lambda f, p: syn.write_csv(syn.concatenated_table(f, "|"), p / "c.csv"),
    "concatenated-comma": lambda f, p: syn.write_csv(syn.concatenated_table(f, ","), p / "c.csv"),
    "concatenated-double-pipe": lambda f, p: syn.write_csv(syn.concatenated_table(f, "||"), p / "c.csv"),
    "concatenated-parquet": lambda f, p: syn.write_parquet(syn.concatenated_table(f, ";"), p / "c.parquet"),
}


@pytest.fixture(scope="module")
def frame():
    return syn.episodes(60)


@pytest.fixture(scope="module")
def reference(frame, shipped_rules, tmp_path_factory):
    path = syn.write_csv(frame, tmp_path_factory.mktemp("ref") / "reference.csv")
    result = run_audit(path, shipped_rules)
    # An episode with no codes is uncoded: counted apart, not audited.
    assert result.episodes_audited + result.episodes_uncoded == len(frame) and result.episodes_rejected == 0
    return result


def test_reference_is_a_real_test(reference):
    """The episodes fire several rules, attributes included, so equality below means something."""
    f = reference.findings
    assert {"DATA-01", "DATA-02", "DATA-03", "IPG327-01", "IPG327-02", "HTG532-01", "IPG446-01"} <= set(
        f["rule_id"]
    )
    assert list(f.columns[8:]) == ["line", "provider", "start_date", "end_date", "specialty", "sex", "age", "coder"]
    assert "Renée" in set(f["coder"]) and f["end_date"].isna().any()
    assert reference.episodes_without_end_date == 5  # every 11th episode, from the 6th


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_same_findings_in_every_format_and_layout(variant, frame, reference, shipped_rules, tmp_path):
    path = VARIANTS[variant](frame, tmp_path)
    result = run_audit(path, shipped_rules, chunk_rows=1000)
    assert result.episodes_read == len(frame)
    # An episode with no codes is uncoded: counted apart, not audited.
    assert result.episodes_audited + result.episodes_uncoded == len(frame) and result.episodes_rejected == 0
    assert result.episodes_without_end_date == reference.episodes_without_end_date
    # Where an episode is differs by format (a CSV's line, a sheet's row, a Parquet row): compared apart.
    got, want = (f.drop(columns="line") for f in (result.findings, reference.findings))
    if (
        variant == "long-by-kind"
    ):  # findings come in order of each episode's first row, here a different order
        got, want = (
            f.sort_values(["episode_id", "rule_id"], kind="stable").reset_index(drop=True)
            for f in (got, want)
        )
    pd.testing.assert_frame_equal(got, want)


def test_concatenated_whitespace_separated(frame, shipped_rules, tmp_path):
    """Whitespace between codes cannot hold an empty position, so compare episodes without gaps."""
    no_gaps = frame.copy()
    for cols in (syn.DIAG, syn.PROC):
        values = no_gaps[cols].to_numpy()
        packed = [[v for v in row if v != ""] for row in values]
        no_gaps[cols] = [row + [""] * (len(cols) - len(row)) for row in packed]
    no_gaps = no_gaps.replace({"c78.7 ": "c78.7"})
    wide = run_audit(syn.write_csv(no_gaps, tmp_path / "w.csv"), shipped_rules)
    spaced = run_audit(syn.write_csv(syn.concatenated_table(no_gaps, " "), tmp_path / "c.csv"), shipped_rules)
    pd.testing.assert_frame_equal(spaced.findings, wide.findings)


def test_mapped_local_names_give_the_same_findings(frame, reference, shipped_rules, tmp_path):
    local = frame.rename(
        columns={
            "EPIKEY": "Episode No",
            "PROCODE": "Trust",
            "EPIEND": "Discharged",
            "EPISTART": "Admitted",
            "MAINSPEF": "Spec",
            "SEX": "Gender",
            "STARTAGE": "Age Years",
            "CODER": "Coded By",
        }
    )
    local = local.rename(columns=lambda c: c.replace("DIAG_", "Dx").replace("OPERTN_", "Proc "))
    path = syn.write_csv(local, tmp_path / "pas.csv")
    columns = {
        "episode_id": "Episode No",
        "provider": "trust",
        "end_date": "Discharged",
        "start_date": "Admitted",
        "specialty": "Spec",
        "sex": "Gender",
        "age": "Age Years",
        "coder": "Coded By",
        "diagnoses": "Dx",
        "procedures": "Proc ",
    }
    result = run_audit(path, shipped_rules, columns=columns)
    pd.testing.assert_frame_equal(result.findings, reference.findings)
