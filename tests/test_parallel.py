"""Evaluating chunks in a worker process never changes the findings."""

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
    for chunk, findings in zip(chunks, results):
        pd.testing.assert_frame_equal(findings, evaluate(chunk, compiled))
