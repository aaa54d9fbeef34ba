"""Evaluate chunks in a worker process while the main process reads the next ones.

Reading (parsing, row checks, duplicate ids across chunks) stays in the main
process, in file order. ``evaluate`` is a pure function of a chunk, so running it
in another process cannot change the findings; they are collected in chunk order.
The worker is started when a second chunk arrives (a one-chunk extract never pays
for it), and chunks are evaluated here until it has started (imported the engine
and compiled the rules, about a second): a small extract never waits for it.

A chunk goes to the worker as an Arrow IPC file in shared memory (``/dev/shm``),
written once and memory-mapped by the worker, rather than pickled through a pipe
(half the main process's cost of handing it over, and no copy through the kernel).
Where there is no shared memory, or a column would not come back with the same
pandas type (categoricals, object columns), the chunk is pickled.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow as pa

from audit.engine import CompiledRules, compile_rules, evaluate
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet

MAX_IN_FLIGHT = 2  # chunks handed to the worker and not yet back: bounds memory

_compiled: CompiledRules | None = None  # the worker's own compiled rules (and vocabulary)


def _start_worker(rules: RuleSet, reference: ReferenceTables | None) -> None:
    global _compiled
    _compiled = compile_rules(rules, reference)


def _evaluate_in_worker(chunk: pd.DataFrame | str) -> pd.DataFrame:
    return evaluate(_load(chunk) if isinstance(chunk, str) else chunk, _compiled)


SHARED_MEMORY = Path("/dev/shm")
_names = itertools.count()


def _shareable(episodes: pd.DataFrame) -> bool:
    """Does every column come back from Arrow as the same pandas type (see ``_load``)?"""
    return all(isinstance(t, pd.ArrowDtype) and pa.types.is_dictionary(t.pyarrow_dtype)
               or t == "str" or pd.api.types.is_datetime64_dtype(t) for t in episodes.dtypes)


def _share(episodes: pd.DataFrame) -> str:
    """Write a chunk to shared memory as an Arrow IPC file; its path goes to the worker."""
    path = SHARED_MEMORY / f"audit-{os.getpid()}-{next(_names)}.arrow"
    table = pa.Table.from_pandas(episodes, preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return str(path)


def _load(path: str) -> pd.DataFrame:
    """The worker's side of ``_share``: memory-map the file, then remove its name (the mapping stays)."""
    with pa.memory_map(path) as source:
        table = pa.ipc.open_file(source).read_all()
    os.unlink(path)
    return table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_dictionary(t) else None)


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
        self._shared_memory = SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK)
        self._files: list[str] = []  # chunks written to shared memory (the worker removes each it reads)
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
            chunk = episodes
            if self._shared_memory and _shareable(episodes):
                chunk = _share(episodes)
                self._files.append(chunk)
            self._pending.append(self._pool.submit(_evaluate_in_worker, chunk))
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
            for path in self._files:  # chunks a failed or cancelled worker never read
                Path(path).unlink(missing_ok=True)
        return self.done
