"""Evaluate chunks in worker threads while the next ones are read.

Reading (parsing, row checks, duplicate ids across chunks) stays in file order in
the caller; ``evaluate`` is a pure function of a chunk, so running it elsewhere
cannot change the findings, which are collected in chunk order.

Threads, not processes: the work of both sides is mostly in numpy's and
pyarrow's C code and the compiled loops of ``audit.kernels``, which let go of the
GIL, and a thread takes the chunk as it is. A worker process cost more than it
gave on this two-core machine: it started a second interpreter and copied every
chunk to it (four interleaved pairs of runs on 10M episodes: 18-22 CPU-s and
10.1-12.6 s with a process, 16-19 CPU-s and 9.6-11.7 s with a thread;
benchmarks/RESULTS.md).

Each thread compiles its own rules: the vocabulary memo grows as chunks are
evaluated, and is never shared between threads. Only with no workers are the
rules compiled in the caller's thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pandas as pd

from audit.engine import compile_rules, evaluate
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet

MAX_IN_FLIGHT = 2  # chunks per worker handed over and not yet evaluated: bounds memory


class ChunkEvaluator:
    """``submit`` chunks in file order; each chunk's findings go to ``sink`` in the same order, as soon as
    they and those of the chunks before are ready (by default kept: ``results`` gives them).

    With ``workers`` 0 each chunk is evaluated at once, in the caller's thread. The rules are compiled
    where they are evaluated: once in the caller with no workers, else once in each worker thread."""

    def __init__(self, rules: RuleSet, reference: ReferenceTables | None, workers: int,
                 sink: Callable[[pd.DataFrame], None] | None = None):
        self.rules, self.reference = rules, reference
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._pending: deque[Future | pd.DataFrame] = deque()
        self.done: list[pd.DataFrame] = []
        self._sink = sink if sink is not None else self.done.append
        self.chunks_in_workers = 0

    def submit(self, episodes: pd.DataFrame) -> None:
        if self.workers < 1:
            self._sink(self._evaluate(episodes))  # compiled once, in the caller's thread
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="audit-evaluate")
            self._pending.append(self._pool.submit(self._evaluate, episodes))
            self.chunks_in_workers += 1
        while self.workers and len(self._pending) > MAX_IN_FLIGHT * self.workers:
            self._collect_oldest()

    def _evaluate(self, episodes: pd.DataFrame) -> pd.DataFrame:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = compile_rules(self.rules, self.reference)
        return evaluate(episodes, compiled)

    def _collect_oldest(self) -> None:
        item = self._pending.popleft()
        self._sink(item.result() if isinstance(item, Future) else item)

    def results(self) -> list[pd.DataFrame]:
        """Wait for every chunk; their findings, in the order submitted (empty when a ``sink`` took them)."""
        try:
            while self._pending:
                self._collect_oldest()
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
        return self.done
