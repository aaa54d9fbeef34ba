"""Findings held, or spilled to disk, chunk by chunk: the same findings, counts and reports either way."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from audit import baseline as baseline_module
from audit import findings as findings_module
from audit.cli import main
from audit.findings import Findings
from tests.samples import ROWS, write_extract

FORMATS = ["csv", "jsonl", "json", "parquet", "html", "xlsx", "sarif", "junit", "github"]


def _chunk(ids, rule="R-1", severity="error"):
    return pd.DataFrame({
        "episode_id": pd.Series(ids, dtype="str"),
        "rule_id": pd.Series([rule] * len(ids), dtype="str"),
        "severity": pd.Series([severity] * len(ids), dtype="str"),
        "end_date": pd.to_datetime(["2024-01-02"] * len(ids)).astype("datetime64[us]"),
    })


@pytest.mark.parametrize("spill_rows", [0, 2, 100])
def test_batches_and_frame_come_back_as_added(spill_rows):
    store = Findings(_chunk([]), spill_rows=spill_rows, batch_rows=1)
    chunks = [_chunk(["1", "2"]), _chunk([]), _chunk(["3"], severity="warning"), _chunk(["4", "4", "5"], rule="R-2")]
    for chunk in chunks:
        store.add(chunk)
    assert store.spilled == (spill_rows < 6)
    got = list(store.batches())
    assert len(got) == 3
    for a, b in zip(got, [c for c in chunks if len(c)]):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(store.frame(), pd.concat([c for c in chunks if len(c)], ignore_index=True))
    tally = store.tally().set_index(["rule_id", "severity"])
    assert tally.loc[("R-1", "error"), "findings"] == 2 and tally.loc[("R-2", "error"), "episodes"] == 2
    assert store.episodes() == 5
    store.close()


@pytest.mark.parametrize("spill_rows", [0, 2, 100])
@pytest.mark.parametrize("batch_rows", [1, 2, 3, 100])
def test_small_chunks_are_read_back_joined_in_whole_chunks(spill_rows, batch_rows):
    store = Findings(_chunk([]), spill_rows=spill_rows, batch_rows=batch_rows)
    chunks = [_chunk(["1", "2"]), _chunk([]), _chunk(["3"]), _chunk(["4", "4", "5"], rule="R-2"), _chunk(["6"])]
    for chunk in chunks:
        store.add(chunk)
    got = list(store.batches())
    sizes = {1: [2, 1, 3, 1], 2: [2, 4, 1], 3: [3, 3, 1], 100: [7]}[batch_rows]  # whole chunks, at least batch_rows
    assert [len(f) for f in got] == sizes
    assert all(list(f.index) == list(range(len(f))) for f in got)
    pd.testing.assert_frame_equal(pd.concat(got, ignore_index=True),
                                  pd.concat([c for c in chunks if len(c)], ignore_index=True))
    assert store.episodes() == 6 and int(store.tally()["findings"].sum()) == 7
    store.close()


@pytest.mark.parametrize("spill_rows", [0, 100])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 10])
def test_head_reads_only_the_first_findings(spill_rows, n):
    store = Findings(_chunk([]), spill_rows=spill_rows)
    for ids in (["1", "2"], [], ["3"], ["4", "5", "6"]):
        store.add(_chunk(ids))
    pd.testing.assert_frame_equal(store.head(n), store.frame().head(n))


def test_transforms_apply_to_each_chunk_in_order():
    store = Findings(_chunk([]), spill_rows=1)
    store.add(_chunk(["1", "2"]))
    store.add(_chunk(["3"]))
    store.transform(lambda f: f.loc[f["episode_id"] != "2"])
    store.transform(lambda f: f.assign(episode_id="x" + f["episode_id"]))
    assert store.frame()["episode_id"].tolist() == ["x1", "x3"]
    assert int(store.tally()["findings"].sum()) == 2


@pytest.mark.parametrize("spill_rows", [0, 100])
def test_keep_decides_each_chunk_once_and_remembers(spill_rows):
    store = Findings(_chunk([]), spill_rows=spill_rows, batch_rows=1)
    for ids in (["1", "2"], ["3"], ["4", "5"]):
        store.add(_chunk(ids))
    store.transform(lambda f: f.assign(episode_id="x" + f["episode_id"]))
    asked = []

    def decide(frame):
        asked.append(frame["episode_id"].tolist())
        return frame["episode_id"].isin(["x1", "x4", "x5"]).to_numpy()

    store.keep(decide)
    store.transform(lambda f: f.assign(episode_id=f["episode_id"] + "!"))
    assert asked == [["x1", "x2"], ["x3"], ["x4", "x5"]]
    for _ in range(2):  # read twice (counts, then a report): decided once
        assert store.frame()["episode_id"].tolist() == ["x1!", "x4!", "x5!"]
        assert [len(f) for f in store.batches()] == [1, 2]  # the chunk left empty is skipped
        store._whole = None
    assert int(store.tally()["findings"].sum()) == 3
    assert len(asked) == 3


def test_keep_wants_an_answer_a_finding():
    store = Findings(_chunk([]), spill_rows=0)
    store.add(_chunk(["1", "2"]))
    with pytest.raises(ValueError, match="answers"):
        store.keep(lambda f: [True])


def test_no_findings_reports_the_first_chunks_columns():
    store = Findings(_chunk([]).drop(columns="end_date"))
    store.add(_chunk([]))
    assert list(store.frame().columns) == ["episode_id", "rule_id", "severity", "end_date"]
    assert list(next(store.frames()).columns) == list(store.frame().columns)


def _reports(tmp_path, name, extra=()):
    out = tmp_path / name
    out.mkdir()
    args = ["run", str(write_extract(tmp_path / "extract.csv", ROWS)), "--chunk-size", "3", *extra]
    for fmt in FORMATS:
        args += ["--format", fmt, "--output", str(out / f"report.{fmt}")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result.exit_code, {fmt: (out / f"report.{fmt}").read_bytes() for fmt in FORMATS}


@pytest.mark.parametrize("extra", [(), ("--redact", "--redact-key", "k")])
def test_spilled_findings_give_the_same_reports(tmp_path, monkeypatch, extra):
    code, held = _reports(tmp_path, "held", extra)
    monkeypatch.setattr(findings_module, "SPILL_ROWS", 1)  # every chunk's findings to disk
    spilled_code, spilled = _reports(tmp_path, "spilled", extra)
    assert code == spilled_code == 1
    for fmt in FORMATS:
        assert spilled[fmt] == held[fmt], fmt


def test_a_baseline_filters_spilled_findings(tmp_path, monkeypatch):
    extract = write_extract(tmp_path / "extract.csv", ROWS)
    runner = CliRunner()
    base = tmp_path / "baseline.json"
    assert runner.invoke(main, ["baseline", "create", str(extract), "--output", str(base)]).exit_code == 0
    monkeypatch.setattr(findings_module, "SPILL_ROWS", 1)
    fingerprinted = []
    real = baseline_module.fingerprints
    monkeypatch.setattr(baseline_module, "fingerprints", lambda f: fingerprinted.append(len(f)) or real(f))
    result = runner.invoke(main, ["run", str(extract), "--chunk-size", "3", "--baseline", str(base),
                                  "--format", "json", "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["findings"] == [] and doc["summary"]["findings"] == 0
    assert doc["summary"]["baseline"]["matched"] == doc["summary"]["baseline"]["entries"] > 0
    # each finding fingerprinted once, not again each time the spilled findings are read
    assert sum(fingerprinted) == doc["summary"]["baseline"]["entries"]
