"""What every extract format gives the reader: ``RawChunk`` and ``Source``, and the steps they share
(pieces of any size cut into chunks, blank rows dropped, columns made pandas)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from audit.extract.readahead import read_ahead
from audit.kernels import TextInterner, arrow_text, joined_dictionary, starts_printable

if TYPE_CHECKING:
    import pandas as pd

TEXT = pa.string()
CODES = pa.dictionary(pa.int32(), pa.string())


@dataclass
class RawChunk:
    """Rows as read: the asked-for columns, each row's line number, and why a row could not be read."""

    frame: pd.DataFrame
    lines: np.ndarray  # int64
    defects: np.ndarray | None  # object: "" or the reason the format could not read the row; None: no row has one


@dataclass
class Source(ABC):
    """An opened extract: its header, and its rows as raw chunks (see ``chunks``)."""

    located_by = "line"  # what a row's number is: a text file's line, or another format's "row"
    path: Path
    header: list[str]
    header_note: str = ""  # a hint for messages about missing columns (blank header cells...)
    notes: list[str] = field(default_factory=list)  # said in the run's summary
    blank_rows: int = 0  # rows with nothing in any asked-for column, skipped (not episodes)
    rows: int | None = None  # rows in the file (at most), when known up front: Parquet's count, CSV's lines

    def chunks(
        self, columns: list[str], dictionary: list[str], chunk_rows: int, id_column: str,
        short: list[str] = (),
    ) -> Iterator[RawChunk]:
        """Rows ``chunk_rows`` at a time; ``dictionary`` columns are dictionary-encoded (codes), the
        ``short`` ones among them (one code a cell) perhaps through a ``TextInterner``."""
        self.blank_rows = 0
        interner = self._text_interner(len(short))  # one per read: a run-wide table of the values
        interned = set(short) if interner is not None else set()
        dictionary = [c for c in dictionary if c not in interned]
        pieces = rechunk(self._pieces(columns, dictionary, chunk_rows, id_column), chunk_rows)
        # Closed however the reading ends (an exception, a consumer that stops): the read-ahead thread joined.
        raw = ((raw_chunk(*piece, interner, interned), len(piece[1])) for piece in pieces)
        with closing(read_ahead(raw)) as ahead:
            for chunk, read in ahead:
                self.blank_rows += read - len(chunk.lines)
                if len(chunk.lines):
                    yield chunk

    @abstractmethod
    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        """(Arrow table, line numbers, defects) pieces of any size, in file order; ``dictionary`` columns
        dictionary-encoded. Defects as ``RawChunk.defects`` (None: no row of the piece has one)."""

    def _text_interner(self, short_columns: int) -> TextInterner | None:
        """An interner when the short columns are better read as text and interned a chunk at a time."""
        return None


def rechunk(pieces, chunk_rows: int):
    """Pieces of any size as chunks of exactly ``chunk_rows`` rows (the last may be shorter)."""
    buffer: list[tuple[pa.Table, np.ndarray, np.ndarray]] = []
    size = 0
    for piece in pieces:
        if piece[0].num_rows == 0 and not len(piece[1]):
            continue
        buffer.append(piece)
        size += piece[0].num_rows
        while size >= chunk_rows:
            table, lines, defects = _joined(buffer)
            yield table.slice(0, chunk_rows), lines[:chunk_rows], defect_rows(defects, slice(0, chunk_rows))
            rest = table.num_rows - chunk_rows
            tail = slice(chunk_rows, None)
            buffer = [(table.slice(chunk_rows), lines[tail], defect_rows(defects, tail))] if rest else []
            size = rest
    if size:
        yield _joined(buffer)


def _joined(pieces) -> tuple[pa.Table, np.ndarray, np.ndarray | None]:
    """Pieces (table, line numbers, defects) end to end."""
    return (pa.concat_tables([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces]),
            joined_defects([p[2] for p in pieces], [len(p[1]) for p in pieces]))


def joined_defects(parts: list[np.ndarray | None], rows: list[int]) -> np.ndarray | None:
    """Pieces' defects (``RawChunk.defects``) end to end: None while no piece has one."""
    if all(p is None for p in parts):
        return None
    return np.concatenate([np.full(n, "", dtype=object) if p is None else p for p, n in zip(parts, rows)])


def defect_rows(defects: np.ndarray | None, rows) -> np.ndarray | None:
    """Some rows' defects (``RawChunk.defects``; ``rows`` a slice or a mask): None stays None."""
    return None if defects is None else defects[rows]


def raw_chunk(table: pa.Table, lines: np.ndarray, defects: np.ndarray | None, interner: TextInterner | None = None,
               interned: set[str] = frozenset()) -> RawChunk:
    """Rows with nothing in them dropped (worked out in Arrow), then to pandas with missing text blank;
    ``interned`` text columns dictionary-encoded by ``interner``."""
    blank = np.ones(len(lines), dtype=bool) if defects is None else defects == ""
    for col in table.columns:  # a loop over columns, each computed for every row at once
        if not blank.any():
            break  # a row is blank only if every column is: once no candidate is left, stop looking
        if blank.sum() < len(blank) // 8:  # few candidates left: look at those rows only
            candidates = np.flatnonzero(blank)
            col = col.take(pa.array(candidates))
            blank[candidates] = _blank_cells(col)
            continue
        blank &= _blank_cells(col)
    keep = ~blank
    if not keep.all():
        table, lines, defects = table.filter(pa.array(keep)), lines[keep], defect_rows(defects, keep)
    import pandas as pd  # imported when a chunk is made: a command that reads no extract does not load it

    frame = pd.DataFrame(
        {name: _to_pandas(col, interner if name in interned else None)
         for name, col in zip(table.column_names, table.columns)}, copy=False
    )
    return RawChunk(frame, lines, defects)


def _to_pandas(col: pa.ChunkedArray, interner: TextInterner | None = None) -> pd.Series:
    """A column for pandas: dictionaries stay Arrow dictionaries (one, missing cells blank), text given an
    ``interner`` becomes one, other missing text is "", dates datetime64."""
    import pandas as pd
    if interner is not None:
        return pd.Series(pd.arrays.ArrowExtensionArray(interner.encode(col)))
    if pa.types.is_dictionary(col.type):
        return pd.Series(pd.arrays.ArrowExtensionArray(joined_dictionary(col)))
    if col.null_count and not pa.types.is_timestamp(col.type):
        col = pc.fill_null(col, "")
    return col.to_pandas()


def _blank_cells(col) -> np.ndarray:
    """bool per cell: nothing in it (null, or only white space)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if _none_blank(col):  # the usual id column: no cell trimmed
        return np.zeros(len(col), dtype=bool)
    if pa.types.is_dictionary(col.type):
        empty = pc.equal(pc.utf8_trim_whitespace(col.dictionary), "").to_numpy(zero_copy_only=False)
        indices = pc.fill_null(col.indices, 0).to_numpy(zero_copy_only=False)
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        return ~valid | (empty[np.where(valid, indices, 0)] if len(empty) else np.ones(len(col), dtype=bool))
    if pa.types.is_timestamp(col.type):
        return col.is_null().to_numpy(zero_copy_only=False)
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True).to_numpy(zero_copy_only=False)


def _none_blank(col: pa.Array) -> bool:
    """True when surely no cell is blank: text without nulls whose bytes say so (``starts_printable``)."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)) or col.null_count or not len(col):
        return False
    return starts_printable(*arrow_text(col))


def first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
