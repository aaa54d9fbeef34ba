"""Episodes' ordered codes, dictionary-encoded, and their OPCS-4 blocks.

A chunk of episodes holds each classification as an integer matrix
(episodes x positions) of indexes into the run's distinct raw values (its
``Vocabulary``), so a value is normalised and matched once per run and mapped
back with an integer take. Position 0 is the primary diagnosis / main procedure.

The canonical episode frame every reader produces and the engine takes:
``episode_id`` (text), optional ``end_date`` and other attributes, then the
code columns in order, ``diag_01``, ``diag_02``, ... and ``proc_01``, ... as
raw strings or categoricals (blank or missing for no code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.codes import Kind, NormalisedValues, Status, normalise_values

EMPTY = -1  # index of an empty cell (blank, or an OPCS-4 placeholder)

ID = "episode_id"
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
        self._row: dict[str, int] = {}
        self.values = normalise_values([], kind)

    def __len__(self) -> int:
        return len(self._row)

    def rows(self, raw: np.ndarray) -> np.ndarray:
        """int32 row of each raw value (distinct values of a chunk), adding the values not seen before."""
        known = self._row
        new = [v for v in dict.fromkeys(raw) if v not in known]  # a loop over distinct values only
        if new:
            added = normalise_values(new, self.kind)
            self.values = NormalisedValues.concat(self.values, added)
            for v in new:
                known[v] = len(known)
        return np.fromiter((known[v] for v in raw), dtype=np.int32, count=len(raw))


@dataclass(frozen=True)
class CodeMatrix:
    """One classification's codes for a chunk: ``index[episode, position]`` into ``values``."""

    kind: Kind
    index: np.ndarray  # int32 (n_episodes, n_positions); EMPTY where there is no code
    values: NormalisedValues  # the distinct raw values (of the run's vocabulary), normalised

    @classmethod
    def from_columns(cls, columns: list[pd.Series], kind: Kind, vocabulary: Vocabulary | None = None
                     ) -> "CodeMatrix":
        """Encode ordered code columns (strings or categoricals) against their distinct values."""
        vocabulary = vocabulary if vocabulary is not None else Vocabulary(kind)
        n = len(columns[0]) if columns else 0
        cats = [c if isinstance(c.dtype, pd.CategoricalDtype) else c.astype("category") for c in columns]
        categories = [np.asarray(c.cat.categories, dtype=object) for c in cats]
        # One factorize over every column's categories gives the chunk's distinct values.
        inverse, distinct = pd.factorize(np.concatenate(categories) if categories else np.array([], object))
        vocab_rows = vocabulary.rows(np.asarray(distinct, dtype=object))
        # Blank cells and OPCS-4 placeholders ("-", "&") hold no code: they map to EMPTY.
        vocab_rows = np.where(vocabulary.values.status[vocab_rows] == Status.EMPTY, EMPTY, vocab_rows)
        index = np.empty((n, len(cats)), dtype=np.int32)
        offset = 0
        for j, c in enumerate(cats):  # a loop over columns; each step is one integer take
            remap = np.append(vocab_rows[inverse[offset:offset + len(categories[j])]], EMPTY).astype(np.int32)
            offset += len(categories[j])
            index[:, j] = remap[c.cat.codes.to_numpy()]  # missing (-1) selects the EMPTY appended last
        return cls(kind, index, vocabulary.values)

    @property
    def n_episodes(self) -> int:
        return self.index.shape[0]

    def take(self, per_value: np.ndarray, fill) -> np.ndarray:
        """Map an array aligned with ``values`` onto the cells; empty cells get ``fill``."""
        # Appending the fill makes index EMPTY (-1) select it: one integer take, no mask.
        table = np.concatenate([per_value, np.array([fill], dtype=per_value.dtype)])
        return table[self.index]

    def rows(self, selector: np.ndarray) -> "CodeMatrix":
        """The same codes for a subset of episodes (boolean mask or row numbers)."""
        return CodeMatrix(self.kind, self.index[selector], self.values)


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
    def of(cls, procedures: CodeMatrix) -> "Blocks":
        """Work out the blocks of a (usually small, already filtered) set of episodes."""
        values = procedures.values
        is_main = procedures.take(values.valid & ~values.qualifier, False)
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
