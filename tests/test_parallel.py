"""Evaluating chunks in a worker process never changes the findings."""

from pathlib import Path

import pandas as pd

from audit.pipeline import run_audit
from audit.rules import load_rules
from tests.conftest import REPO

SAMPLE = REPO / "sample_episodes" / "hes_sample.csv"


def test_worker_process_gives_the_same_findings_in_the_same_order():
    rules = load_rules()
    here = run_audit(SAMPLE, rules, chunk_rows=10, workers=0)
    worker = run_audit(SAMPLE, rules, chunk_rows=10, workers=1)
    pd.testing.assert_frame_equal(here.findings, worker.findings)
    pd.testing.assert_frame_equal(here.rejected, worker.rejected)
    assert here.summary() == worker.summary()


def test_one_chunk_never_starts_a_worker(monkeypatch):
    import audit.parallel

    def refuse(*args, **kwargs):
        raise AssertionError("a worker was started for a single chunk")

    monkeypatch.setattr(audit.parallel, "ProcessPoolExecutor", refuse)
    result = run_audit(SAMPLE, load_rules(), workers=1)
    assert result.episodes_audited > 0


def test_chunks_sent_to_the_started_worker_give_the_same_findings():
    from audit.engine import compile_rules, evaluate
    from audit.extract import read_extract
    from audit.parallel import ChunkEvaluator

    compiled = compile_rules(load_rules())
    chunks = [b.episodes for b in read_extract(SAMPLE, chunk_rows=10) if len(b.episodes)]
    evaluator = ChunkEvaluator(compiled, workers=1)
    evaluator.submit(chunks[0])
    evaluator.submit(chunks[1])  # starts the worker; evaluated here while it starts
    evaluator._ready.result(timeout=120)
    for chunk in chunks[2:]:
        evaluator.submit(chunk)
    results = evaluator.results()
    assert evaluator.chunks_in_worker == len(chunks) - 2
    if evaluator._shared_memory:  # handed over as Arrow files in shared memory, all removed
        assert len(evaluator._files) == len(chunks) - 2
        assert not any(Path(f).exists() for f in evaluator._files)
    for chunk, findings in zip(chunks, results):
        pd.testing.assert_frame_equal(findings, evaluate(chunk, compiled))


def test_chunks_come_back_from_shared_memory_as_they_were(tmp_path, monkeypatch):
    import audit.parallel as parallel
    from audit.engine import compile_rules, evaluate
    from audit.extract import read_extract

    monkeypatch.setattr(parallel, "SHARED_MEMORY", tmp_path)  # any folder will do for the round trip
    chunk = next(b.episodes for b in read_extract(SAMPLE) if len(b.episodes))
    assert parallel._shareable(chunk)
    path = parallel._share(chunk)
    loaded = parallel._load(path)
    pd.testing.assert_frame_equal(loaded, chunk)
    assert not Path(path).exists()
    compiled = compile_rules(load_rules())
    pd.testing.assert_frame_equal(evaluate(loaded, compiled), evaluate(chunk, compiled))


def test_frames_that_would_change_type_are_pickled_instead():
    from audit.episodes import episodes_from_lists
    from audit.parallel import _shareable

    frame = episodes_from_lists(["1"], [["C787"]], [["J124"]])
    assert not _shareable(frame.astype({"diag_01": "category"}))
    assert not _shareable(frame.astype(object))
