"""Evaluate chunks in a worker process while the main process reads the next ones.

Reading (parsing, row checks, duplicate ids across chunks) stays in the main
process, in file order. ``evaluate`` is a pure function of a chunk, so running it
in another process cannot change the findings; they are collected in chunk order.
The worker is started when a second chunk arrives (a one-chunk extract never pays
for it), and chunks are evaluated here until it has started (imported the engine
and compiled the rules, about a second): a small extract never waits for it.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

import pandas as pd

from audit.engine import CompiledRules, compile_rules, evaluate
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet

MAX_IN_FLIGHT = 2  # chunks handed to the worker and not yet back: bounds memory

_compiled: CompiledRules | None = None  # the worker's own compiled rules (and vocabulary)


def _start_worker(rules: RuleSet, reference: ReferenceTables | None) -> None:
    global _compiled
    _compiled = compile_rules(rules, reference)


def _evaluate_in_worker(episodes: pd.DataFrame) -> pd.DataFrame:
    return evaluate(episodes, _compiled)


def _started() -> bool:
    return _compiled is not None


class ChunkEvaluator:
    """``submit`` chunks in file order; ``results`` gives their findings in the same order."""

    def __init__(self, compiled: CompiledRules, workers: int):
        self.compiled = compiled
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future | None = None  # done once the worker has started
        self.chunks_in_worker = 0
        self._chunks = 0
        self._pending: deque[Future | pd.DataFrame] = deque()
        self.done: list[pd.DataFrame] = []

    def submit(self, episodes: pd.DataFrame) -> None:
        self._chunks += 1
        if self.workers >= 1 and self._pool is None and self._chunks == 2:
            # "spawn": a fresh interpreter, safe beside pyarrow's threads (fork is not).
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(self.compiled.rules, self.compiled.reference))
            self._ready = self._pool.submit(_started)
        if self._pool is None or not self._ready.done():
            self._pending.append(evaluate(episodes, self.compiled))  # here, at once
        else:
            self._pending.append(self._pool.submit(_evaluate_in_worker, episodes))
            self.chunks_in_worker += 1
        while sum(isinstance(p, Future) for p in self._pending) > MAX_IN_FLIGHT * self.workers:
            self._collect_oldest()

    def _collect_oldest(self) -> None:
        item = self._pending.popleft()
        self.done.append(item.result() if isinstance(item, Future) else item)

    def results(self) -> list[pd.DataFrame]:
        """Every chunk's findings, in the order the chunks were submitted."""
        try:
            while self._pending:
                self._collect_oldest()
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
        return self.done
