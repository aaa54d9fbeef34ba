"""Tests for the DuckDB peer query (benchmarks/duckdb_peer.py)."""

import csv

import pytest

from benchmarks import hes

pytest.importorskip("duckdb")
from benchmarks import duckdb_peer


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_peer_counts_equal_expected(small_extract, fmt):
    assert duckdb_peer.counts(small_extract[fmt]) == small_extract["expected"]["rules"]


def test_peer_counts_equal_expected_default_rate(default_extract):
    fixed = {rule: default_extract["expected"]["rules"][rule] for rule in hes.FIXED_RULES}  # the peer's four
    assert duckdb_peer.counts(default_extract["csv"]) == fixed


CASES = {
    # episode: (diagnoses, procedures, expected findings)
    "000000000001": ("C787 C180", "J124 Y539", set()),
    "000000000002": ("C787 C180", "J124", {("IPG327-01", "error")}),
    "000000000003": ("C787 C180", "J124 H229 Y539", {("IPG327-01", "error")}),
    "000000000004": ("C787 C180", "H229 Y534 J124 Z942", {("IPG327-01", "error")}),
    "000000000005": ("C787", "J124 Y533", {("IPG327-02", "error")}),
    "000000000006": ("C20X C189", "J124 Y539", {("IPG327-02", "error")}),
    "000000000007": ("C220", "J124 Y539", set()),
    "000000000008": ("C787", "J124 Y539 J124", {("IPG327-01", "error"), ("IPG327-02", "error")}),
    "000000000009": ("C229", "J128 Y123 Y534", set()),
    "000000000010": ("C229", "J128 Y534 Y123", set()),
    "000000000011": ("C229", "J128 Y123", {("HTG532-01", "error")}),
    "000000000012": ("C229", "J128 Y123 X292 Y539", {("HTG532-01", "error")}),
    "000000000013": ("C220", "J128 Y123 Y534", {("HTG532-02", "warning")}),
    "000000000014": ("K746", "J128 Y123 Y534", {("HTG532-02", "error")}),
    "000000000015": ("C787 C180", "J128 Y123 Y534", set()),
    "000000000016": ("C229", "J128 Y534 H229 Y123", set()),
    "000000000017": ("C221", "J128 Y123", {("HTG532-01", "error"), ("HTG532-02", "warning")}),
    "000000000018": ("C792 C439", "X721 Y123 Z473 Z942", set()),
    "000000000019": ("I10X", "-", set()),
    "000000000020": ("C787 C180", "Y539 J124", {("IPG327-01", "error")}),
}


def test_peer_block_semantics(tmp_path):
    path = tmp_path / "cases.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(hes.COLUMNS)
        for key, (dx, px, _) in CASES.items():
            dx, px = dx.split(), px.split()
            writer.writerow(
                [key, "RXX01", "2024-05-01", "2024-05-02", 1, 60, "100"]
                + dx
                + [""] * (20 - len(dx))
                + px
                + [""] * (24 - len(px))
            )
    found = duckdb_peer.findings(path)
    assert sorted(found) == sorted((key, rule, sev) for key, (_, _, f) in CASES.items() for rule, sev in f)
