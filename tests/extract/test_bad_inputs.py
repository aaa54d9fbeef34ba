"""Every file of the bad-input corpus gives a clear error (exit 2) or a reconciled audit listing its bad rows.

The corpus is in ``bad_inputs/`` (written by ``bad_inputs/make_corpus.py``); each
file has one entry below with its expected outcome. Nothing may crash (exit 3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.cli import main
from tests.conftest import REPO

CORPUS = Path(__file__).parent / "bad_inputs"


@dataclass(frozen=True)
class Unusable:
    """Exit 2 with one line naming the file and what is wrong."""

    file: str
    message: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Audited:
    """A reconciled audit: exactly these rows set aside, these findings, these notes."""

    file: str
    exit: int
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # line, episode id, reason
    findings: set[tuple[str, str]] = field(default_factory=set)  # episode id, rule id
    notes: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    message: str = ""  # exit 2 after the report: what stderr says


IPG327_1002 = {("1002", "IPG327-01"), ("1002", "IPG327-02")}
GOOD3 = IPG327_1002 | {("1003", "HTG532-01")}

CASES = [
    # -- unusable files
    Unusable("empty.csv", "the file is empty"),
    Unusable("blank-lines-only.csv", "the file is empty (no header row)"),
    Unusable("header-only.csv", "no episodes: no data rows under the header"),
    Unusable("header-and-blank-rows.csv", "no episodes: only 2 blank rows under the header"),
    Unusable("no-id-column.csv", "no episode id column: looked for EPIKEY or EPISODE_ID"),
    Unusable("no-code-columns.csv", "no code columns"),
    Unusable("duplicate-header.csv", "two diagnoses columns numbered 1: DIAG_01, DIAG_01"),
    Unusable("utf-16.csv", "UTF-16 text is not supported"),
    Unusable("old-excel.xls", "old-style Excel .xls workbook"),
    Unusable("corrupt.xlsx", "not a readable .xlsx workbook"),
    Unusable("binary-garbage.csv", "no episode id column"),
    Unusable("truncated.csv.gz", "cannot read the file (Compressed file ended before the end-of-stream marker"),
    Unusable("truncated.parquet", "not a readable Parquet file"),
    Unusable("no-rows.parquet", "no episodes: no data rows under the header"),
    Unusable("nested-codes.parquet", "(column DIAG_01): has type list<element: string>"),
    Unusable("merged-header.xlsx", "blank cells in columns C, E: merged header cells?"),
    Unusable("empty-sheet.xlsx", "sheet 'Empty' is empty"),
    Unusable("title-rows.xlsx", "no sheet 'Nope' (sheets: Sheet)", ("--sheet", "Nope")),
    Unusable("bom.csv", "is the delimiter comma? (--delimiter)", ("--delimiter", ";")),
    Unusable(
        "windows-1252.csv",
        "not valid UTF-8 text after line 1: give the file's encoding with --encoding",
        ("--encoding", "utf-8"),
    ),
    Unusable(
        "bom.csv",
        "--layout long: no kind column (looked for CODE_TYPE or CODE_KIND or KIND)",
        ("--layout", "long"),
    ),
    Unusable(
        "ragged-rows.csv",
        "2 rows set aside (--strict); first: line 3: ragged row: 4 fields, expected 7",
        ("--strict",),
    ),
    # -- files with defective rows: the rest is audited
    Audited("bom.csv", 1, findings=GOOD3),
    Audited("crlf-lowercase-header.csv", 1, findings=GOOD3),
    Audited("windows-1252.csv", 1, findings=IPG327_1002, notes=("is not UTF-8: read as Windows-1252",)),
    Audited("title-rows.xlsx", 1, findings=IPG327_1002),
    Audited(
        "ragged-rows.csv",
        1,
        rejected=[
            (3, "1002", "ragged row: 4 fields, expected 7"),
            (5, "1004", "ragged row: 8 fields, expected 7"),
        ],
        findings={("1003", "HTG532-01")},
    ),
    Audited(
        "duplicate-ids.csv",
        1,
        rejected=[
            (4, "1001", "duplicate episode id (first at line 2)"),
            (5, "1002", "duplicate episode id (first at line 3)"),
        ],
        findings=GOOD3,
    ),
    Audited(
        "missing-ids.csv",
        1,
        rejected=[(3, "", "missing episode id"), (4, "", "missing episode id")],
        findings={("1003", "HTG532-01")},
    ),
    Audited(
        "nul-bytes.csv",
        1,
        rejected=[(3, "1002", "NUL byte in column DIAG_01")],
        findings={("1003", "HTG532-01")},
    ),
    Audited(
        "cell-over-1mb.csv.gz",
        1,
        rejected=[(3, "1002", "cell over 1 MB in column DIAG_02")],
        findings={("1003", "HTG532-01")},
    ),
    Audited(
        "formula-values.csv",
        1,
        findings={("=1+1", "DATA-01"), ("=1+1", "IPG327-02"), ("1002", "DATA-01"), ("1002", "DATA-02")},
    ),
    Audited(
        "junk-around-codes.csv",
        1,
        findings={("1002", "DATA-01"), ("1002", "DATA-02"), ("1003", "DATA-01"), ("1003", "IPG327-01")},
    ),
    Audited(
        "unparseable-dates.csv",
        1,
        rejected=[
            (3, "1002", "unparseable end date '2024-02-31'"),
            (4, "1003", "unparseable end date 'yesterday'"),
        ],
        findings={("1004", "IPG327-01"), ("1004", "IPG327-02")},
        notes=("1 episode has no end date",),
    ),
    Audited(
        "unclosed-quote.csv",
        0,
        rejected=[(3, "1002", "line break in column DIAG_02 (an unclosed quote?)")],
        notes=("has 6 lines but 4 records",),
    ),
    Audited(
        "blank-rows.csv",
        1,
        rejected=[(7, "1004", "unparseable end date '2024-13-01'")],
        findings=IPG327_1002,
        notes=("3 blank rows skipped",),
    ),
    Audited(
        "long-defects.csv",
        1,
        rejected=[
            (5, "2", "two diagnosis codes at position 1 (first at line 4)"),
            (6, "3", "position 'first' is not a whole number from 1 to 99"),
            (7, "4", "a code without a kind (diagnosis or procedure)"),
            (8, "5", "unknown code kind 'surgery' (expected diagnosis or procedure)"),
        ],
        findings={("1", "IPG327-01"), ("1", "IPG327-02")},
    ),
    Audited(
        "long-ungrouped.csv",
        1,
        findings={("1", "IPG327-01"), ("1", "IPG327-02"), ("2", "HTG532-01")},
        notes=("are not together: the file was read whole",),
    ),
    Audited(
        "concatenated-mixed-separators.csv",
        1,
        findings={("1002", "DATA-02")},
        notes=("split on '|' (detected",),
    ),
    Audited(
        "semicolon-header-comma-rows.csv",
        2,
        rejected=[(line, "", "ragged row: 1 field, expected 7 (wrong delimiter?)") for line in (2, 3, 4)],
        message="no episode could be audited: all 3 rows were set aside",
    ),
]


def _id(case) -> str:
    return case.file + ("" if not case.args else " " + " ".join(case.args))


def test_corpus_is_complete():
    """Every corpus file has an expected outcome, and there are at least 25 of them."""
    files = {p.name for p in CORPUS.iterdir() if p.name != "make_corpus.py"}
    assert files == {c.file for c in CASES}
    assert len(files) >= 25


NICE_RULES = REPO / "rulesets" / "nice"  # the expected findings below are of the NICE rules and built-in checks


def _run(case, *extra):
    return CliRunner().invoke(main, ["run", str(CORPUS / case.file), *case.args, *extra, "--rules", str(NICE_RULES)])


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c, Unusable)], ids=_id)
def test_unusable_file_exits_2_with_one_clear_line(case):
    result = _run(case)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: {CORPUS / case.file}")
    assert case.message in lines[0]


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c, Audited)], ids=_id)
def test_defective_rows_are_listed_and_the_rest_audited(case, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = _run(case, "--format", "json", "--rejects", str(rejects))
    assert result.exit_code == case.exit, result.stderr
    doc = json.loads(result.stdout)
    s = doc["summary"]
    assert s["episodes_read"] == s["episodes_audited"] + s["episodes_rejected"]
    assert [(r["line"], r["episode_id"], r["reason"]) for r in doc["rejected"]] == case.rejected
    assert {(f["episode_id"], f["rule_id"]) for f in doc["findings"]} == case.findings
    for note in case.notes:
        assert any(note in n for n in s["notes"]), s["notes"]
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == len(case.rejected) + 1
    if case.message:
        assert case.message in result.stderr
    else:
        assert result.stderr == ""


def test_windows_1252_attributes_are_decoded(tmp_path):
    result = CliRunner().invoke(main, ["run", str(CORPUS / "windows-1252.csv"), "--format", "json"])
    assert {f["coder"] for f in json.loads(result.stdout)["findings"]} == {"Siân"}


def test_formula_looking_values_are_neutralised_in_csv_outputs(tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(main, ["run", str(CORPUS / "formula-values.csv"), "--format", "csv"])
    assert result.exit_code == 1
    cells = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    assert "'=1+1" in cells and "=1+1" not in cells
    assert "'@SUM(A1)" in result.stdout
    # The rejects file gets the same treatment.
    twice = tmp_path / "twice.csv"
    twice.write_text(
        (CORPUS / "formula-values.csv").read_text() + '"=1+1",RXX,2024-03-31,C787,C187,J124,Y539\n'
    )
    CliRunner().invoke(main, ["run", str(twice), "--rejects", str(rejects)])
    assert rejects.read_text().splitlines() == [
        "line,episode_id,reason",
        "4,'=1+1,duplicate episode id (first at line 2)",
    ]
