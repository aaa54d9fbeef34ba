"""A run's findings, written as each chunk's arrive: held in memory while few, spilled to disk when many.

A national extract can give millions of findings (a broad rule, or a data problem
every episode shares). They are not held as one frame: each chunk's findings are
added as they are evaluated, and past ``SPILL_ROWS`` held in memory they go to a
temporary Arrow IPC file, a record batch a chunk. Every report and the counts read
them back a batch at a time (``frames``, ``tally``, ``head``: whole chunks' findings,
consecutive ones joined up to ``BATCH_ROWS``), so memory stays that of a chunk or two
whatever the number of findings. Redaction (``transform``) is applied once to
findings held in memory, and to spilled ones as each chunk is read back; baseline
filtering (``keep``) decides each finding once and keeps the answer (a byte a finding).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa

SPILL_ROWS = 1_000_000  # findings held in memory; past this every chunk's findings go to disk
# Findings read back at a time, at least: consecutive chunks' findings are joined up to this, so a report's
# work per batch (neutralising, text columns, counts) is paid a few times a run, not once a chunk for a
# few hundred findings (a 10M run's forty chunks: 0.6 s of writing its CSV report, after the run).
BATCH_ROWS = 65_536


class Findings:
    """Findings in chunk order: ``add`` a chunk's, then read them by ``batches`` or whole (``frame``)."""

    def __init__(self, empty: pd.DataFrame, spill_rows: int | None = None, batch_rows: int | None = None):
        """``empty``: the columns (and types) a run without findings reports; ``spill_rows``: findings held
        in memory before they go to disk (default ``SPILL_ROWS``); ``batch_rows``: consecutive chunks'
        findings are read back joined up to this many (default ``BATCH_ROWS``)."""
        self._empty = empty
        self._spill_rows = SPILL_ROWS if spill_rows is None else spill_rows
        self._batch_rows = BATCH_ROWS if batch_rows is None else batch_rows
        self._held: list[pd.DataFrame] = []
        self._held_rows = 0
        self._file = None  # the temporary Arrow IPC file, once spilled
        self._writer: pa.RecordBatchFileWriter | None = None
        self._schema: pa.Schema | None = None
        self._dtypes: pd.Series | None = None
        # Applied in order to each spilled chunk as it is read back: a function, or the masks ``keep``
        # decided, one a chunk (by its number in the file).
        self._transforms: list[Callable[[pd.DataFrame], pd.DataFrame] | list[np.ndarray]] = []
        self._whole: pd.DataFrame | None = None
        self._finished = False
        self._chunks = 0
        self._tally: tuple[pd.DataFrame, int] | None = None
        self.spilled = False

    def add(self, frame: pd.DataFrame) -> None:
        """One chunk's findings (chunks in file order, during the run: ``transform`` comes after it)."""
        if not self._chunks:
            self._empty = frame.iloc[0:0]  # a run without findings reports the first chunk's columns
        self._chunks += 1
        if not len(frame):
            return
        if self._finished:  # internal: findings are added during the run, read after it
            raise RuntimeError("findings added after they were read")
        if self._dtypes is None:
            self._dtypes = frame.dtypes
        if self._writer is None and self._held_rows + len(frame) <= self._spill_rows:
            self._held.append(frame)
            self._held_rows += len(frame)
            return
        if self._writer is None:
            self._open()
            for held in self._held:
                self._write(held)
            self._held, self._held_rows = [], 0
        self._write(frame)

    @classmethod
    def held(cls, frame: pd.DataFrame) -> Findings:
        """Findings given whole (a frame a test or another engine made), held in memory."""
        findings = cls(frame.iloc[0:0])
        findings._chunks, findings._held, findings._held_rows = 1, [frame], len(frame)
        return findings

    def transform(self, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        """Apply ``fn`` to every chunk's findings (a filter, a column replaced): at once to those held in
        memory, to spilled ones each time they are read back."""
        if self._writer is None:
            self._held = [fn(frame) for frame in self._held]
            self._empty = fn(self._empty)
        else:
            self._transforms.append(fn)
        self._whole, self._tally = None, None

    def keep(self, decide: Callable[[pd.DataFrame], np.ndarray]) -> None:
        """Keep only the findings for which ``decide`` (bool, one a finding of the chunk given) is true.
        ``decide`` sees each chunk's findings exactly once, in order, so it may also count them; the
        answers are kept for spilled findings, which are not decided again each time they are read."""
        if self._writer is None:
            self._held = [frame.loc[_mask(decide, frame)] for frame in self._held]
        else:
            self._transforms.append([_mask(decide, frame) for frame in self._transformed()])
        self._whole, self._tally = None, None

    def tally(self) -> pd.DataFrame:
        """Findings and distinct episodes per rule and severity (rule_id, severity, findings, episodes),
        counted a batch at a time: a batch holds whole chunks, and a chunk each of its episodes, so counts per
        batch add up."""
        return self._counts()[0]

    def episodes(self) -> int:
        """Distinct episodes with a finding."""
        return self._counts()[1]

    def _counts(self) -> tuple[pd.DataFrame, int]:
        if self._tally is None:
            parts, episodes = [], 0
            for frame in [self._whole] if self._whole is not None else self.batches():
                grouped = frame.groupby(["rule_id", "severity"])["episode_id"]
                parts.append(pd.DataFrame({"findings": grouped.size(), "episodes": grouped.nunique()}))
                episodes += int(frame["episode_id"].nunique())
            tally = pd.concat(parts).groupby(level=[0, 1]).sum() if parts else \
                pd.DataFrame({"findings": [], "episodes": []}, index=pd.MultiIndex.from_arrays([[], []]))
            tally.index.names = ["rule_id", "severity"]
            self._tally = (tally.reset_index().astype({"findings": "int64", "episodes": "int64"}), episodes)
        return self._tally

    def batches(self) -> Iterator[pd.DataFrame]:
        """The findings, transformed, in order, consecutive chunks' joined until a batch holds ``batch_rows``
        (a chunk with more is a batch of its own size); chunks left with no finding are skipped. A batch
        holds whole chunks, and so each of its episodes' findings whole."""
        pending, rows = [], 0
        for frame in self._transformed():
            if not len(frame):
                continue
            pending.append(frame)
            rows += len(frame)
            if rows >= self._batch_rows:
                yield _joined(pending)
                pending, rows = [], 0
        if pending:
            yield _joined(pending)

    def _transformed(self) -> Iterator[pd.DataFrame]:
        # Every chunk, even one left empty: a mask of ``keep`` belongs to a chunk by its number.
        for i, frame in enumerate(self._raw_batches()):
            for step in self._transforms:
                frame = frame.loc[step[i]] if isinstance(step, list) else step(frame)
            yield frame

    def frames(self) -> Iterator[pd.DataFrame]:
        """``batches``, or the run's empty findings (its columns) when there is no finding: at least one frame."""
        if self._whole is not None:
            yield self._whole
            return
        empty = True
        for frame in self.batches():
            empty = False
            yield frame
        if empty:
            yield self.frame()

    def frame(self) -> pd.DataFrame:
        """Every finding as one frame (read once, then kept)."""
        if self._whole is None:
            frames = list(self.batches())
            if not frames:
                empty = self._empty
                for step in self._transforms:
                    empty = empty if isinstance(step, list) else step(empty)
                self._whole = empty.reset_index(drop=True)
            else:
                self._whole = _joined(frames)
        return self._whole

    def head(self, n: int) -> pd.DataFrame:
        """The first ``n`` findings (``frame().head(n)``), reading only the chunks that hold them."""
        got, rows = [], 0
        for frame in self.frames():
            got.append(frame.head(n - rows))
            rows += len(got[-1])
            if rows >= n:
                break
        return got[0].reset_index(drop=True) if len(got) == 1 else pd.concat(got, ignore_index=True)

    def close(self) -> None:
        """Remove the temporary file, if any."""
        if self._file is not None:
            self._file.close()
        self._file, self._writer, self._held = None, None, []

    # -- the spill file ----------------------------------------------------
    def _open(self) -> None:
        # Open for the run (unlinked at once on POSIX): closed by ``close`` or when the run ends.
        self._file = tempfile.TemporaryFile(prefix="audit-findings-")  # noqa: SIM115
        self.spilled = True

    def _write(self, frame: pd.DataFrame) -> None:
        # One record batch a chunk: the counts rely on a batch holding its episodes' findings together.
        table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
        if self._writer is None:
            self._schema = table.schema
            self._writer = pa.ipc.new_file(self._file, self._schema)
        self._writer.write_table(table.cast(self._schema), max_chunksize=len(table))

    def _raw_batches(self) -> Iterator[pd.DataFrame]:
        if self._writer is None:
            yield from self._held
            return
        self._finish()
        self._file.seek(0)
        reader = pa.ipc.open_file(self._file)
        for i in range(reader.num_record_batches):
            frame = reader.get_batch(i).to_pandas()
            yield frame.astype(self._dtypes.to_dict()) if self._dtypes is not None else frame

    def _finish(self) -> None:
        if self._writer is not None and not self._finished:
            self._writer.close()
            self._finished = True


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0].reset_index(drop=True) if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _mask(decide: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame) -> np.ndarray:
    mask = np.asarray(decide(frame), dtype=bool)
    if mask.shape != (len(frame),):  # internal: a decision a finding
        raise ValueError(f"keep: {mask.shape} answers for {len(frame)} findings")
    return mask
