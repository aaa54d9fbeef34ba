"""Reading in small chunks gives exactly what one pass gives: findings, rejected rows, counts."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.extract import read_extract
from audit.pipeline import run_audit
from tests.extract import synthetic as syn


def _defective_csv(frame: pd.DataFrame) -> str:
    """The synthetic episodes as CSV, with defects spread over the file (and so over chunks)."""
    lines = frame.to_csv(index=False, lineterminator="\n").splitlines()
    width = len(frame.columns)
    lines.insert(5, "")  # a blank line
    lines.insert(9, lines[2])  # a duplicate of the first episode, several chunks later
    lines.insert(14, "100900,RXX")  # ragged: too few fields
    lines.insert(20, ",RXX,2024-01-01,2024-01-02,100,1,50,Tom,C787" + "," * (width - 9))  # no id
    lines.insert(26, "100901,RXX,2024-01-01,2024-02-31,100,1,50,Tom,C787" + "," * (width - 9))  # bad date
    lines.append(lines[30])  # a duplicate at the very end
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def frame():
    return syn.episodes(40, seed=11)


def _same(a, b):
    pd.testing.assert_frame_equal(a.findings, b.findings)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert a.summary() == b.summary()


@pytest.mark.parametrize("chunk", [1, 4])
def test_wide_csv_with_defects(frame, shipped_rules, tmp_path, chunk):
    path = tmp_path / "e.csv"
    path.write_text(_defective_csv(frame), encoding="utf-8")
    whole = run_audit(path, shipped_rules)
    small = run_audit(path, shipped_rules, chunk_rows=chunk)
    _same(small, whole)
    assert whole.episodes_read == len(frame) + 5
    assert list(whole.rejected["reason"]) == [
        "duplicate episode id (first at line 3)",
        "ragged row: 2 fields, expected 22",
        "missing episode id",
        "unparseable end date '2024-02-31'",
        "duplicate episode id (first at line 31)",
    ]
    assert list(whole.rejected["line"]) == [10, 15, 21, 27, len(frame) + 7]


def test_chunks_really_are_small(frame, tmp_path):
    path = syn.write_csv(frame, tmp_path / "e.csv")
    batches = [b for b in read_extract(path, chunk_rows=3) if b.read]
    assert [len(b.episodes) for b in batches] == [3] * 13 + [1]


@pytest.mark.parametrize(
    "name, write",
    [
        ("parquet", lambda f, p: syn.write_parquet(f, p / "e.parquet", row_group_size=5)),
        ("xlsx", lambda f, p: syn.write_xlsx(f, p / "e.xlsx")),
        ("long", lambda f, p: syn.write_csv(syn.long_table(f), p / "l.csv")),
        ("long-no-position", lambda f, p: syn.write_csv(syn.long_table(f, position=False), p / "l.csv")),
        ("long-ungrouped", lambda f, p: syn.write_csv(syn.long_table(f, order="kind"), p / "l.csv")),
        (
            "long-parquet",
            lambda f, p: syn.write_parquet(syn.long_table(f), p / "l.parquet", row_group_size=4),
        ),
        ("concatenated", lambda f, p: syn.write_csv(syn.concatenated_table(f), p / "c.csv")),
    ],
)
def test_every_format_and_layout(frame, shipped_rules, tmp_path, name, write):
    frame = frame.head(20)  # small, so that small chunks stay quick
    path = write(frame, tmp_path)
    whole = run_audit(path, shipped_rules)
    for chunk in (2, 7):
        _same(run_audit(path, shipped_rules, chunk_rows=chunk), whole)
    assert whole.episodes_audited + whole.episodes_uncoded == len(frame)


def test_long_episode_spanning_chunks_is_read_as_one(tmp_path, shipped_rules):
    """An episode whose rows cross a chunk boundary is carried over, not split or lost."""
    path = tmp_path / "l.csv"
    rows = ["EPIKEY,CODE_TYPE,POSITION,CODE"]
    rows += [f"1,procedure,{i},{c}" for i, c in enumerate(["J124", "Z291", "J032", "Y539", "J124"], start=1)]
    rows += ["2,diagnosis,1,C787", "2,procedure,1,J124", "2,procedure,2,Y539"]
    path.write_text("\n".join(rows) + "\n")
    batches = [b for b in read_extract(path, chunk_rows=2) if b.read]
    assert [list(b.episodes["episode_id"]) for b in batches] == [["1"], ["2"]]
    assert [b.read for b in batches] == [1, 1]
    whole = run_audit(path, shipped_rules)
    small = run_audit(path, shipped_rules, chunk_rows=2)
    _same(small, whole)
    # Episode 1's first J12.4 has no Y53 in its block (the Y53.9 belongs to J03.2): IPG327-01 fires.
    assert "IPG327-01" in set(small.findings.loc[small.findings["episode_id"] == "1", "rule_id"])


def test_long_defect_in_a_carried_episode_rejects_it_whole(tmp_path, shipped_rules):
    path = tmp_path / "l.csv"
    path.write_text(
        "EPIKEY,CODE_TYPE,POSITION,CODE\n1,diagnosis,1,C787\n1,procedure,1,J124\n"
        "1,operation?,2,Y539\n2,diagnosis,1,C787\n",
        encoding="utf-8",
    )
    for chunk in (1, 2, 10):
        result = run_audit(path, shipped_rules, chunk_rows=chunk)
        assert result.rejected.to_dict(orient="records") == [
            {
                "line": 4,
                "episode_id": "1",
                "reason": "unknown code kind 'operation?' (expected diagnosis or procedure)",
            }
        ]
        assert (result.episodes_read, result.episodes_audited) == (2, 1)


@pytest.fixture(scope="module")
def defective_path(frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("chunks") / "e.csv"
    path.write_text(_defective_csv(frame), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def one_pass(defective_path, shipped_rules):
    return run_audit(defective_path, shipped_rules)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(min_value=2, max_value=60))
def test_any_chunk_size(chunk, defective_path, one_pass, shipped_rules):
    _same(run_audit(defective_path, shipped_rules, chunk_rows=chunk), one_pass)


@pytest.mark.parametrize("layout", ["wide", "long", "long-ungrouped"])
def test_code_columns_interned_give_the_same_findings(frame, shipped_rules, tmp_path, monkeypatch, layout):
    """A large CSV's one-code-a-cell columns are read as text and interned (audit.kernels.TextInterner):
    the same audit, in small chunks too, as with pyarrow's dictionaries."""
    import audit.kernels

    table = {"wide": frame, "long": syn.long_table(frame),
             "long-ungrouped": syn.long_table(frame, order="kind")}
    path = syn.write_csv(table[layout], tmp_path / "e.csv")
    plain = run_audit(path, shipped_rules)
    monkeypatch.setattr(audit.kernels, "CELLS_BEFORE_COMPILING", 0)  # as if the file were large
    for chunk in (None, 7):
        interned = run_audit(path, shipped_rules, **({"chunk_rows": chunk} if chunk else {}))
        _same(interned, plain)
    assert len(plain.findings) > 10
