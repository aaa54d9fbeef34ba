"""Tests for benchmarks/generate.py: determinism, layout, code formats and expected counts."""

import json
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest
from rules_pandas import recompute_counts

from benchmarks import generate, hes

DIAG_RE = re.compile(r"^[A-Z][0-9]{2}[0-9X]$")
MAIN_RE = re.compile(r"^[A-HJ-TVWX][0-9]{3}$")
QUALIFIER_RE = re.compile(r"^[YZ][0-9]{3}$")


@pytest.fixture(scope="module")
def frame():
    return generate.generate_frame(20_000, 5, guidance_rate=0.05, error_rate=0.0)  # the clean extract


def test_generate_frame_is_deterministic():
    a = generate.generate_frame(3_000, 11)
    b = generate.generate_frame(3_000, 11)
    pd.testing.assert_frame_equal(a, b)
    c = generate.generate_frame(3_000, 12)
    assert not a["DIAG_01"].equals(c["DIAG_01"])
    assert set(a["EPIKEY"]) != set(c["EPIKEY"])


def test_bytes_do_not_depend_on_chunk_size(tmp_path):
    n = 2 * generate.BLOCK_ROWS + 1_000
    for name, chunk in (("one_block", generate.BLOCK_ROWS), ("four_blocks", 4 * generate.BLOCK_ROWS)):
        generate.write_extract(n, 3, tmp_path / name, "both", chunk_rows=chunk)
    stem = hes.extract_stem(n)
    for suffix in (".csv", ".parquet", ".expected.json"):
        a = (tmp_path / "one_block" / (stem + suffix)).read_bytes()
        b = (tmp_path / "four_blocks" / (stem + suffix)).read_bytes()
        assert a == b, suffix
    parquet = pq.ParquetFile(tmp_path / "one_block" / f"{stem}.parquet")
    sizes = [parquet.metadata.row_group(i).num_rows for i in range(parquet.metadata.num_row_groups)]
    assert sizes == [generate.ROW_GROUP_ROWS, n - generate.ROW_GROUP_ROWS]
    assert all(parquet.schema_arrow.field(c).type == "string" for c in hes.CODE_COLUMNS)
    # the in-memory frame holds the same rows as the files
    table = parquet.read()
    assert table.equals(generate.generate_table(n, 3)[0])
    assert not table.equals(generate.generate_table(n, 3, error_rate=0.0)[0])  # coding errors by default
    doc = json.loads((tmp_path / "one_block" / f"{stem}.expected.json").read_text())
    assert doc["episodes"] == n and doc["seed"] == 3
    assert 0.003 < doc["guidance_episodes"] / n < 0.007
    assert 0.25 < doc["miscoded_episodes"] / doc["guidance_episodes"] < 0.42


def test_columns_and_header_fields(frame):
    assert list(frame.columns) == hes.COLUMNS
    assert frame["EPIKEY"].is_unique
    assert frame["EPIKEY"].str.fullmatch(r"[0-9]{12}").all()
    assert frame["PROCODE"].str.fullmatch(r"R[A-Z0-9]{2}[0-9]{2}").all()
    assert set(frame["SEX"]) <= {1, 2}
    assert frame["STARTAGE"].between(0, 120).all()
    start, end = pd.to_datetime(frame["EPISTART"]), pd.to_datetime(frame["EPIEND"])
    assert (end >= start).all()
    assert start.min() >= pd.Timestamp("2024-04-01") and end.max() <= pd.Timestamp("2025-03-31")


def test_diagnosis_formats(frame):
    dx = frame[hes.DIAG_COLUMNS]
    present = dx.notna()
    assert present["DIAG_01"].all()
    # empty cells only after the last code
    assert (present.cummin(axis=1) == present).all().all()
    codes = dx.stack().dropna()
    assert codes.str.fullmatch(DIAG_RE.pattern).all()
    assert not codes.str.contains(".", regex=False).any()
    assert (codes.str.len() == 4).all()
    assert codes.str.endswith("X").any()  # three-character codes are X padded
    counts = present.sum(axis=1)
    assert counts.between(1, 20).all() and counts.median() <= 5
    # no repeated diagnosis within an episode
    assert not codes.reset_index(level=1, drop=True).reset_index().duplicated().any()


def test_procedure_formats(frame):
    px = frame[hes.OPERTN_COLUMNS]
    present = px.notna()
    assert present["OPERTN_01"].all()
    assert (present.cummin(axis=1) == present).all().all()
    none = px["OPERTN_01"] == hes.NO_OPERATION
    assert 0.3 < none.mean() < 0.6
    assert not present.loc[none, hes.OPERTN_COLUMNS[1:]].any().any()
    assert not (px.iloc[:, 1:] == hes.NO_OPERATION).any().any()
    codes = px.loc[~none].stack().dropna()
    assert (codes.str.fullmatch(MAIN_RE.pattern) | codes.str.fullmatch(QUALIFIER_RE.pattern)).all()
    assert not codes.str.startswith(("I", "U")).any()
    first = px.loc[~none, "OPERTN_01"]
    assert not first.str[0].isin(["Y", "Z"]).any()
    assert codes.str.startswith("Y").any() and codes.str.startswith("Z94").any()
    assert (present.sum(axis=1) - none).max() <= 24


def test_guidance_scenarios_are_present(frame):
    codes = frame[hes.OPERTN_COLUMNS].stack()
    for code in ("J124", "J128", "J127", "J083", "J032", "Y123", "Y137"):
        assert (codes == code).any(), code
    assert frame[hes.OPERTN_COLUMNS].stack().str.match(r"X7[0-2]").any()
    assert (frame[hes.DIAG_COLUMNS].stack() == "C792").any()


@pytest.mark.parametrize("which", ["small_extract", "default_extract"])
def test_expected_counts_match_pandas_recomputation(which, request):
    extract = request.getfixturevalue(which)
    df = pd.read_csv(extract["csv"], dtype=str)
    assert len(df) == extract["expected"]["episodes"]
    on_disk = json.loads(hes.expected_path(extract["csv"]).read_text())
    assert on_disk["rules"] == extract["expected"]["rules"]
    fixed = {rule: on_disk["rules"][rule] for rule in hes.FIXED_RULES}
    assert recompute_counts(df) == fixed


def test_raised_guidance_rate_flags_every_rule(small_extract):
    rules = small_extract["expected"]["rules"]
    for rule, sevs in hes.FIXED_RULES.items():
        for sev in sevs:
            assert rules[rule][sev] > 0, (rule, sev)
    assert (
        sum(small_extract["expected"]["scenarios"].values()) == small_extract["expected"]["guidance_episodes"]
    )


def test_extract_stem_and_counts():
    assert hes.extract_stem(1_000_000) == "hes_1m"
    assert hes.extract_stem(10_000_000) == "hes_10m"
    assert hes.extract_stem(5_000) == "hes_5k"
    assert hes.extract_stem(1_234) == "hes_1234"
    assert hes.parse_count("10m") == 10_000_000 and hes.parse_count("500k") == 500_000
    assert hes.expected_path("data/hes_1m.parquet").name == "hes_1m.expected.json"
    assert hes.expected_path("data/hes_1.5m.csv").name == "hes_1.5m.expected.json"
    assert hes.expected_path("data/hes_1m.csv.gz").name == "hes_1m.expected.json"
    assert hes.detect_format("data/hes_1m.csv.gz") == "csv" and hes.detect_format("a.PARQUET") == "parquet"
