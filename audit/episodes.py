"""Episodes' ordered codes, dictionary-encoded, and their OPCS-4 blocks.

A chunk of episodes holds each classification as an integer matrix
(episodes x positions) of indexes into the run's distinct raw values (its
``Vocabulary``), so a value is normalised and matched once per run and mapped
back with an integer take. Position 0 is the primary diagnosis / main procedure.

The canonical episode frame every reader produces and the engine takes:
``episode_id`` (text), optional ``end_date`` and other attributes, then the
code columns in order, ``diag_01``, ``diag_02``, ... and ``proc_01``, ... as
raw strings, categoricals or Arrow dictionaries (blank or missing for no code;
an Arrow dictionary may hold a value more than once: ``audit.kernels.joined_dictionary``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.codes import Kind, NormalisedValues, Status, normalise_values
from audit.kernels import dictionary_indices, place_rows

EMPTY = -1  # index of an empty cell (blank, or an OPCS-4 placeholder)

ID = "episode_id"
LINE = "line"  # where the episode is in the extract: CSV line, sheet row, Parquet or table row (1-based)
END_DATE = "end_date"
CODE_PREFIX = {Kind.DIAGNOSIS: "diag_", Kind.PROCEDURE: "proc_"}
_CODE_COLUMN = re.compile(r"(diag|proc)_(\d+)")


def code_column(kind: Kind, position: int) -> str:
    """Canonical name of the code column at 1-based ``position``."""
    return f"{CODE_PREFIX[kind]}{position:02d}"


def code_columns(episodes: pd.DataFrame, kind: Kind) -> list[str]:
    """The canonical frame's code columns of one classification, in position order."""
    prefix = CODE_PREFIX[kind][:-1]
    found = [(int(m.group(2)), col) for col in episodes.columns
             if (m := _CODE_COLUMN.fullmatch(str(col))) and m.group(1) == prefix]
    return [col for _, col in sorted(found)]


class Vocabulary:
    """Every distinct raw value of one classification seen in a run, normalised once.

    Chunks index into it, so a value met in chunk 1 is not normalised (or matched
    against patterns) again in chunk 40. It only grows; row numbers are stable.
    """

    def __init__(self, kind: Kind):
        self.kind = kind
        self._arrow = pa.array([], pa.string())  # the raw values, for lookups in C++
        self.values = normalise_values([], kind)

    def __len__(self) -> int:
        return len(self._arrow)

    def rows(self, raw: pa.Array) -> np.ndarray:
        """int32 row of each raw value (a chunk's dictionaries), adding the values not seen before."""
        raw = raw.cast(pa.string()) if raw.type != pa.string() else raw
        found = pc.index_in(raw, value_set=self._arrow)
        if found.null_count:  # values not seen before: normalise them once and add them
            new_values = pc.unique(pc.filter(raw, pc.is_null(found))).to_pylist()
            new_values = [v for v in new_values if v is not None]
            self.values = NormalisedValues.concat(self.values, normalise_values(new_values, self.kind))
            self._arrow = pa.concat_arrays([self._arrow, pa.array(new_values, pa.string())])
            found = pc.index_in(raw, value_set=self._arrow)
        return pc.fill_null(found, EMPTY).to_numpy(zero_copy_only=False).astype(np.int32)


@dataclass
class _Column:
    """One code column of a chunk: dictionary indices (-1 missing) and the dictionary's vocabulary rows."""

    codes: np.ndarray  # int (n,): index into the column's dictionary, -1 for a missing value
    remap: np.ndarray  # int32 (len(dictionary) + 1,): vocabulary row or EMPTY; the last entry serves -1

    def vocabulary_rows(self) -> np.ndarray:
        return self.remap[self.codes]


def _dictionary(column: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A code column as (indices, dictionary), without converting each cell when it is already encoded."""
    from audit.extract.dates import arrow_dictionary  # here: audit.extract imports this module

    if (arr := arrow_dictionary(column)) is not None:  # the reader's dictionary; one chunk: zero-copy
        return dictionary_indices(arr.indices), arr.dictionary
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object).where(column.notna(), None).astype("category")
    categories = pa.array(np.asarray(column.cat.categories, dtype=object).astype(str), pa.string())
    return column.cat.codes.to_numpy(), categories


class CodeMatrix:
    """One classification's codes for a chunk, by position, as rows of the run's ``Vocabulary``.

    ``index[episode, position]`` (EMPTY where there is no code) is only built when asked for;
    tests over every episode work column by column on the dictionaries (``any_cell``, and the
    engine's pattern bits), and cell-level work is done on ``rows(...)`` of the few episodes
    that need it.
    """

    def __init__(self, kind: Kind, columns: list[_Column], values: NormalisedValues, n: int):
        self.kind, self.columns, self.values, self.n_episodes = kind, columns, values, n
        self._index: np.ndarray | None = None
        self._by_position: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_columns(cls, columns: list[pd.Series], kind: Kind, vocabulary: Vocabulary | None = None,
                     n: int | None = None) -> CodeMatrix:
        """Encode ordered code columns (strings, categoricals or Arrow dictionaries) against the vocabulary.

        ``n`` is the number of episodes; it is needed when there are no columns (no codes of this kind)."""
        vocabulary = vocabulary if vocabulary is not None else Vocabulary(kind)
        n = n if n is not None else (len(columns[0]) if columns else 0)
        encoded = [_dictionary(c) for c in columns]
        # One lookup of every column's dictionary against the vocabulary, in C++.
        rows = vocabulary.rows(pa.concat_arrays([d for _, d in encoded])) if encoded else np.zeros(0, np.int32)
        # Blank cells and OPCS-4 placeholders ("-", "&") hold no code: they map to EMPTY.
        status = np.append(vocabulary.values.status, Status.EMPTY)
        rows = np.where(status[rows] == Status.EMPTY, EMPTY, rows).astype(np.int32)
        out, offset = [], 0
        for codes, dictionary in encoded:
            remap = np.append(rows[offset:offset + len(dictionary)], np.int32(EMPTY))
            offset += len(dictionary)
            out.append(_Column(codes, remap))
        return cls(kind, out, vocabulary.values, n)

    @property
    def index(self) -> np.ndarray:
        """int32 (n_episodes, n_positions) of vocabulary rows, EMPTY where there is no code."""
        if self._index is None:
            self._index = np.empty((self.n_episodes, len(self.columns)), dtype=np.int32)
            for j, col in enumerate(self.columns):
                self._index[:, j] = col.vocabulary_rows()
        return self._index

    def by_position(self) -> tuple[np.ndarray, np.ndarray]:
        """int32 (n_positions, n_episodes) of vocabulary rows (EMPTY where there is no code) and, per
        episode, the positions up to its last code; built once, in compiled code, for the walks of
        ``audit.sequence`` over many episodes."""
        if self._by_position is None:
            index = np.empty((len(self.columns), self.n_episodes), dtype=np.int32)
            lengths = np.zeros(self.n_episodes, dtype=np.int32)
            for j, col in enumerate(self.columns):
                place_rows(col.remap, col.codes, index[j], lengths, j)
            self._by_position = index, lengths
        return self._by_position

    @property
    def has_by_position(self) -> bool:
        return self._by_position is not None

    def take(self, per_value: np.ndarray, fill) -> np.ndarray:
        """Map an array aligned with ``values`` onto the cells; empty cells get ``fill``."""
        # Appending the fill makes index EMPTY (-1) select it: one integer take, no mask.
        table = np.concatenate([per_value, np.array([fill], dtype=per_value.dtype)])
        return table[self.index]

    def any_cell(self, per_value: np.ndarray) -> np.ndarray:
        """bool (n_episodes,): does any cell hold a value for which ``per_value`` is true?"""
        per_value = np.append(np.asarray(per_value, dtype=bool), False)
        out = np.zeros(self.n_episodes, dtype=bool)
        for col in self.columns:  # a loop over positions; a column whose dictionary has no such value is skipped
            hit = per_value[col.remap]
            if hit.any():
                out |= hit[col.codes]
        return out

    def rows(self, rows: np.ndarray) -> CodeMatrix:
        """The same codes for a subset of episodes (row numbers)."""
        columns = [_Column(col.codes[rows], col.remap) for col in self.columns]
        return CodeMatrix(self.kind, columns, self.values, len(rows))


@dataclass(frozen=True)
class Blocks:
    """OPCS-4 procedure blocks: each Y/Z code belongs to the nearest main code before it.

    Sequencing ("PYZ"): a main code (chapters A-T, V-W, X) comes first, then its
    supplementary Y codes, then Z site codes and Z94 laterality; then the next
    main code. So the block of a qualifier is the last main code to its left.
    """

    is_main: np.ndarray  # bool (n, k): a valid code that is not Y/Z
    is_qualifier: np.ndarray  # bool (n, k): a valid Y or Z code
    owner: np.ndarray  # int (n, k): position of the main code of the cell's block; -1 before any main

    @classmethod
    def of(cls, procedures: CodeMatrix) -> Blocks:
        """Work out the blocks of a (usually small, already filtered) set of episodes."""
        values = procedures.values
        is_main = procedures.take(values.main, False)
        is_qualifier = procedures.take(values.qualifier, False)
        k = procedures.index.shape[1]
        positions = np.where(is_main, np.arange(k, dtype=np.int32), -1)
        owner = np.maximum.accumulate(positions, axis=1) if k else positions
        return cls(is_main, is_qualifier, owner)

    def contains(self, qualifier_hit: np.ndarray) -> np.ndarray:
        """bool (n, k) by main position: does the block whose main code is at j hold a matching qualifier?"""
        hit = qualifier_hit & self.is_qualifier & (self.owner >= 0)
        rows, cols = np.nonzero(hit)
        out = np.zeros(hit.shape, dtype=bool)
        out[rows, self.owner[rows, cols]] = True
        return out


def episodes_from_lists(ids: list[str], diagnoses: list[list[str]], procedures: list[list[str]],
                        attributes: dict[str, list] | None = None) -> pd.DataFrame:
    """A canonical episode frame from per-episode code lists (rule examples, tests, small inputs)."""
    data: dict[str, list] = {ID: [str(i) for i in ids]}
    data.update(attributes or {})
    for kind, lists in ((Kind.DIAGNOSIS, diagnoses), (Kind.PROCEDURE, procedures)):
        width = max([1, *(len(codes) for codes in lists)])
        for pos in range(width):
            data[code_column(kind, pos + 1)] = [codes[pos] if pos < len(codes) else "" for codes in lists]
    return pd.DataFrame(data)


def coded_mask(episodes: pd.DataFrame) -> np.ndarray:
    """bool per episode: it holds at least one diagnosis or procedure (blank cells and the OPCS-4
    placeholders ``-`` and ``&`` are not codes); each column's distinct values are tested once."""
    from audit.extract import dates

    coded = np.zeros(len(episodes), dtype=bool)
    for kind in Kind:
        for col in code_columns(episodes, kind):
            # Only the episodes without a code so far are looked at (after the primary diagnosis, few).
            rest = np.flatnonzero(~coded)
            if not rest.size:
                return coded
            column = episodes[col] if rest.size == len(coded) else episodes[col].iloc[rest]
            cells = dates.per_value(column, lambda v: ~v.str.strip().isin(_NOT_CODES).to_numpy(), False)
            if cells is None:
                cells = ~dates.text_values(column).isin(_NOT_CODES).to_numpy()
            coded[rest] |= cells
    return coded


_NOT_CODES = ["", "-", "&"]  # blank, and OPCS-4 "no operation performed" / "not known"
