"""Row-level checks with pandera, every problem collected; and duplicate episode ids across chunks.

A row that fails a check is set aside with its line and reason (several reasons
joined by "; "); the rest of the file is audited. Each check runs once a chunk, on the
distinct values of the dictionary-encoded (code and attribute) columns and the cells of
the others together; pandera collects the failures of the few columns with a failing value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.codes import Kind
from audit.extract import dates
from audit.kernels import HashIndex, arrow_text, starts_printable, text_hashes

MAX_CELL = 1 << 20  # characters: a cell over 1 MB is not an episode's data
MAX_POSITION = 99
SHOWN = 40  # characters of a bad value quoted in a reason
KIND_VALUES = {
    Kind.DIAGNOSIS: {"d", "diag", "diagnosis", "diagnoses", "dx", "icd", "icd10", "icd-10"},
    Kind.PROCEDURE: {
        "p",
        "proc",
        "procedure",
        "procedures",
        "px",
        "op",
        "oper",
        "opertn",
        "operation",
        "opcs",
        "opcs4",
        "opcs-4",
    },
}


def kind_of(text: pd.Series) -> pd.Series:
    """Each long-layout kind value (stripped text, as ``dates.text_values`` gives it) as "diagnosis" /
    "procedure" (``Kind.value``); "" if it is neither."""
    lower = text.str.lower()
    out = pd.Series("", index=text.index, dtype=object)
    for kind, spellings in KIND_VALUES.items():
        out[lower.isin(spellings).to_numpy()] = kind.value
    return out


def positions(text: pd.Series) -> pd.Series:
    """Long-layout positions (stripped text, as ``dates.text_values`` gives it) as numbers (NaN where blank
    or not a whole number)."""
    return pd.to_numeric(text, errors="coerce")


def quoted(values: pd.Series) -> pd.Series:
    """Bad values for a reason: quoted, cut to a readable length."""
    text = dates.text_values(values)
    cut = text.str.slice(0, SHOWN).str.replace(r"[^\x20-\x7e\u00a0-\uffff]", "?", regex=True)
    return "'" + cut + np.where(text.str.len() > SHOWN, "...", "") + "'"


def _values(s: pd.Series) -> pd.Series | None:
    """What a column's checks look at: an encoded column's distinct values, else its cells (None: dates)."""
    if (values := dates.distinct_values(s)) is not None:
        return values
    if pd.api.types.is_datetime64_any_dtype(s):
        return None
    return dates.cell_text(s)


def _per_value(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """A check on the distinct values of a dictionary-encoded column, mapped back to its cells."""

    def check(s: pd.Series) -> pd.Series:
        cells = dates.per_value(s, lambda values: fn(values).to_numpy(dtype=bool), True)  # missing: passes
        if cells is not None:
            return pd.Series(cells, index=s.index)
        values = _values(s)
        return pd.Series(True, index=s.index) if values is None else fn(values)

    return check


def _text(s: pd.Series) -> pa.Array | None:
    """``_values`` as one Arrow string or large_string array (an Arrow dictionary's values, or Arrow-backed
    text, without a copy)."""
    if (dictionary := dates.arrow_dictionary(s)) is not None:
        values = dictionary.dictionary
    elif (values := _values(s)) is None:
        return None
    else:
        values = pa.array(values.array) if isinstance(values.dtype, pd.StringDtype) else pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())
    return values


def _all_pass(test: Callable[[pd.Series], pd.Series], text: pa.Array) -> bool:
    """Whether every value passes ``test``; a test in ``_BYTE_TESTS`` first looks at all the bytes at once."""
    if test in _BYTE_TESTS and not _BYTE_TESTS[test](*_bytes(text)):
        return True
    return bool(test(pd.Series(pd.array(text, dtype="str"))).all())


def _bytes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A text array's UTF-8 bytes, and where each value's bytes start and end (n + 1 offsets)."""
    if not len(text):
        return np.empty(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    data, offsets = arrow_text(text)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def _has_id(s: pd.Series) -> pd.Series:
    return s.str.strip() != ""


def _no_nul(s: pd.Series) -> pd.Series:
    return ~s.str.contains("\x00", regex=False)


def _not_huge(s: pd.Series) -> pd.Series:
    return s.str.len() <= MAX_CELL


def _one_line(s: pd.Series) -> pd.Series:
    return ~(s.str.contains("\r", regex=False) | s.str.contains("\n", regex=False))


def _date_ok(s: pd.Series) -> pd.Series:
    return ~dates.unparseable(s)


def _kind_ok(s: pd.Series) -> pd.Series:
    text = s.str.strip()
    return (text == "") | (kind_of(text) != "")


# From a text array's UTF-8 bytes and offsets: whether some value may fail the test (if not, none does).
# In UTF-8 the bytes of NUL, CR and LF are never part of another character, and a value has at least as
# many bytes as characters.
_BYTE_TESTS = {
    _has_id: lambda data, offsets: not starts_printable(data, offsets),
    _no_nul: lambda data, offsets: bool((data == 0).any()),
    _one_line: lambda data, offsets: bool(((data == 10) | (data == 13)).any()),
    _not_huge: lambda data, offsets: bool(np.diff(offsets).max(initial=0) > MAX_CELL),
}


@dataclass(frozen=True)
class _Rule:
    column: str
    reason: Callable[[pd.Series], pd.Series]  # failing cells -> reasons
    test: Callable[[pd.Series], pd.Series]  # the check on text values: True where a value passes
    passes: Callable[[pd.Series], pd.Series]  # the check on a column's cells (for pandera)


class RowChecker:
    """The pandera schema of one extract's columns, and the reasons its failures give.

    pandera is imported, and the schema built, only when a chunk has a failing value: a clean
    extract never pays for it (a quarter of a second, a large part of a small extract's run)."""

    def __init__(
        self,
        id_column: str,
        columns: list[str],
        date_columns: dict[str, str],
        free_text: tuple[str, ...] = (),
        kind_column: str | None = None,
        position_column: str | None = None,
    ):
        self.columns = list(columns)
        self.rules: dict[str, _Rule] = {}  # "check:column" -> the check and its reason, in column order
        for col in columns:
            label = date_columns.get(col, "").replace("_", " ")
            for name, applies, test, reason in [
                ("id", col == id_column, _has_id, lambda v: _same("missing episode id", v)),
                ("nul", True, _no_nul, lambda v, c=col: _same(f"NUL byte in column {c}", v)),
                ("size", True, _not_huge, lambda v, c=col: _same(f"cell over 1 MB in column {c}", v)),
                ("lines", col not in free_text, _one_line,
                 lambda v, c=col: _same(f"line break in column {c} (an unclosed quote?)", v)),
                ("date", col in date_columns, _date_ok,
                 lambda v, lab=label: f"unparseable {lab} " + quoted(v)),
                ("kind", col == kind_column, _kind_ok,
                 lambda v: "unknown code kind " + quoted(v) + " (expected diagnosis or procedure)"),
                ("position", col == position_column, _position_ok,
                 lambda v: "position " + quoted(v) + f" is not a whole number from 1 to {MAX_POSITION}"),
            ]:
                if applies:
                    self.rules[f"{name}:{col}"] = _Rule(col, reason, test, _per_value(test))
        self._schema = None
        self._tests: dict[Callable, list[str]] = {}  # each check, and the columns it applies to
        for rule in self.rules.values():
            self._tests.setdefault(rule.test, []).append(rule.column)

    @property
    def schema(self):
        """The pandera ``DataFrameSchema``: each column's checks, named ``check:column``."""
        if self._schema is None:
            pandera = _pandera()
            checks: dict[str, list] = {c: [] for c in self.columns}
            for key, rule in self.rules.items():
                checks[rule.column].append(pandera.Check(rule.passes, name=key, error=key))
            self._schema = pandera.DataFrameSchema(
                {c: pandera.Column(None, checks=checks[c], nullable=True, required=True)
                 for c in self.columns},
                strict=False, coerce=False)
        return self._schema

    def problems(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Why each row cannot be audited ("" if it can): every failing check, in column then check order.
        None when every row can (the usual chunk: no array of blanks made and compared)."""
        if not len(frame):
            return None
        # The checks run directly first; pandera then validates only the columns with a failing value and
        # collects every failure. A clean chunk, the usual case, so costs the checks and not pandera's
        # per-check overhead.
        failing = self._failing_columns(frame)
        missing = [c for c in self.columns if c not in frame]
        if not failing and not missing:
            return None
        SchemaErrors = _pandera().errors.SchemaErrors  # noqa: N806

        try:
            self.schema.select_columns(failing + missing).validate(frame, lazy=True, inplace=True)
            return None
        except SchemaErrors as exc:
            failures = exc.failure_cases
        reasons = np.full(len(frame), "", dtype=object)
        failures = failures[failures["index"].notna()]
        for key, rule in self.rules.items():  # a loop over checks, each vectorised over the failing rows
            rows = failures.loc[failures["check"] == key, "index"].to_numpy(dtype=np.int64)
            if not rows.size:
                continue
            rows = np.unique(rows)
            text = rule.reason(frame[rule.column].iloc[rows].reset_index(drop=True)).to_numpy(dtype=object)
            reasons[rows] = join(reasons[rows], text)
        return reasons

    def _failing_columns(self, frame: pd.DataFrame) -> list[str]:
        """The columns with a value failing a check.

        Each check runs on each column's values (a code column's distinct values, another
        column's cells) where they are, without a copy; most checks first look at the bytes.
        """
        texts = {c: t for c in self.columns if c in frame and (t := _text(frame[c])) is not None}
        failing: set[str] = set()
        for test, columns in self._tests.items():
            failing.update(c for c in columns if c in texts and c not in failing and not _all_pass(test, texts[c]))
        return [c for c in self.columns if c in failing]


def _pandera():
    """``pandera.pandas``, imported when first needed. With pyspark installed (the ``[spark]`` extra) pandera
    imports ``pyspark.pandas``, whose warning about the pandas version is not the user's business."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
        import pandera.backends.pandas.builtin_checks  # where pandera imports pyspark.pandas
        import pandera.errors
        import pandera.pandas
    return pandera.pandas


def _same(reason: str, failing: pd.Series) -> pd.Series:
    """The same reason for every failing cell."""
    return pd.Series(reason, index=failing.index)


def _position_ok(s: pd.Series) -> pd.Series:
    text = s.str.strip()
    number = positions(text)
    whole = number.notna() & (number == number.round()) & (number >= 1) & (number <= MAX_POSITION)
    return (text == "") | whole


def join(first: np.ndarray, second: np.ndarray, sep: str = "; ") -> np.ndarray:
    """Two arrays of reasons, joined where both are non-empty."""
    first = first.astype(object)
    second = second.astype(object)
    both = (first != "") & (second != "")
    out = np.where(first == "", second, first).astype(object)
    out[both] = first[both] + sep + second[both]
    return out


FEW_IDS = 2_000_000  # up to this many ids, no hash table (and no numba: audit.kernels)


class SeenIds:
    """Episode ids already read, across chunks, with the line each was first seen at.

    Ids are kept as 64-bit hashes of their text with their first lines. Up to ``FEW_IDS`` (a
    trust's month, a 1M extract) in a pandas index of pandas' hashes; past that in one hash
    table (``audit.kernels.HashIndex``, compiled): about 20 bytes an episode, so ten million
    episodes take 200 MB. Two different ids sharing a hash (a chance of about 3 in a million
    for 10^7 ids) would be set aside as a duplicate, never lost.
    """

    def __init__(self, expected: int = 0):
        """``expected``: at most the ids there will be, when known (a file's rows): room made once."""
        self._expected = expected
        self._index: HashIndex | None = None
        self._few_keys = pd.Index(np.empty(0, dtype=np.uint64))
        self._few_lines = np.empty(0, dtype=np.int64)
        self._few_text: list[np.ndarray] = []  # the ids themselves, hashed again if the table takes over
        if expected > FEW_IDS:
            self._index = HashIndex.holding(expected)

    def first_lines(self, ids, lines: np.ndarray) -> np.ndarray:
        """For each non-blank id, the line it was first seen at (0 for a first sight); then remember them.

        ``ids`` is text: a pandas Series, an Arrow array or an array of str.
        """
        lines = np.asarray(lines, dtype=np.int64)
        arr = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(ids, pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if self._index is None and len(self._few_lines) + len(lines) > FEW_IDS:
            self._grow()
        if self._index is None:
            return self._first_lines_few(arr, lines)
        hashes, length = text_hashes(arr)
        if length.all():  # the usual chunk: no blank id
            return self._index.first_lines(hashes, lines)
        out = np.zeros(len(lines), dtype=np.int64)
        rows = np.flatnonzero(length > 0)
        out[rows] = self._index.first_lines(hashes[rows], lines[rows])
        return out

    def _first_lines_few(self, arr: pa.Array, lines: np.ndarray) -> np.ndarray:
        text = pd.Series(arr.to_pandas(), dtype=object).fillna("").to_numpy(dtype=object)
        present = np.flatnonzero(text != "")
        text, seen_at = text[present], lines[present]
        keys = pd.util.hash_array(text, categorize=False)
        here = seen_at  # the first line of each id within this chunk
        if pd.Index(keys).has_duplicates:
            here = pd.Series(seen_at).groupby(keys, sort=False).transform("min").to_numpy()
        position = self._few_keys.get_indexer(keys)  # -1: not seen in an earlier chunk
        first = np.where(position >= 0, np.append(self._few_lines, 0)[position], here)
        out = np.zeros(len(lines), dtype=np.int64)
        out[present] = np.where(first != seen_at, first, 0)
        new = (position < 0) & (first == seen_at)  # each new id once, at its first line
        if new.any():
            self._few_keys = self._few_keys.append(pd.Index(keys[new]))
            self._few_lines = np.concatenate([self._few_lines, seen_at[new]])
            self._few_text.append(text[new])
        return out

    def _grow(self) -> None:
        """From the few ids' index to the hash table, every id with its first line (in line order)."""
        self._index = HashIndex.holding(max(self._expected, 4 * FEW_IDS))
        if len(self._few_lines):
            text = pa.array(np.concatenate(self._few_text), pa.large_string())
            self._index.first_lines(text_hashes(text)[0], self._few_lines)
        self._few_keys = pd.Index(np.empty(0, dtype=np.uint64))
        self._few_lines, self._few_text = np.empty(0, dtype=np.int64), []
