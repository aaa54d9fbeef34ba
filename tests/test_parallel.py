"""Evaluating chunks in worker threads never changes the findings."""

import pandas as pd
import pytest

from audit.pipeline import run_audit
from audit.rules import load_rules
from tests.conftest import REPO

SAMPLE = REPO / "sample_episodes" / "hes_sample.csv"


@pytest.mark.parametrize("workers", [1, 3])
def test_worker_threads_give_the_same_findings_in_the_same_order(workers):
    rules = load_rules()
    here = run_audit(SAMPLE, rules, chunk_rows=10, workers=0)
    elsewhere = run_audit(SAMPLE, rules, chunk_rows=10, workers=workers)
    pd.testing.assert_frame_equal(here.findings, elsewhere.findings)
    pd.testing.assert_frame_equal(here.rejected, elsewhere.rejected)
    assert here.summary() == elsewhere.summary()


def test_each_worker_thread_has_its_own_compiled_rules():
    from audit.engine import compile_rules, evaluate
    from audit.extract import read_extract
    from audit.parallel import ChunkEvaluator

    compiled = compile_rules(load_rules())
    chunks = [b.episodes for b in read_extract(SAMPLE, chunk_rows=10) if len(b.episodes)]
    evaluator = ChunkEvaluator(compiled.rules, compiled.reference, workers=2)
    for chunk in chunks:
        evaluator.submit(chunk)
    results = evaluator.results()
    assert evaluator.chunks_in_workers == len(chunks)
    assert len(compiled.vocabulary[next(iter(compiled.vocabulary))]) == 0  # the caller's memo untouched
    for chunk, findings in zip(chunks, results):
        pd.testing.assert_frame_equal(findings, evaluate(chunk, compiled))


def test_an_error_in_a_worker_is_raised_by_results(monkeypatch):
    from audit import parallel

    def broken(episodes, compiled):
        raise RuntimeError("bug in a rule")

    monkeypatch.setattr(parallel, "evaluate", broken)
    evaluator = parallel.ChunkEvaluator(load_rules(), None, workers=1)
    evaluator.submit(pd.DataFrame({"episode_id": ["1"]}))
    with pytest.raises(RuntimeError, match="bug in a rule"):
        evaluator.results()
