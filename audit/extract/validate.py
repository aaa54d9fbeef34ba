"""Row-level checks with pandera, every problem collected; and duplicate episode ids across chunks.

A row that fails a check is set aside with its line and reason (several reasons
joined by "; "); the rest of the file is audited. The checks are vectorised
and run on the distinct values of dictionary-encoded (code) columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from audit.codes import Kind
from audit.extract import dates

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


def kind_of(values: pd.Series) -> pd.Series:
    """Each long-layout kind value as "diagnosis" / "procedure" (``Kind.value``); "" if it is neither."""
    text = dates.text_values(values).str.lower()
    out = pd.Series("", index=values.index, dtype=object)
    for kind, spellings in KIND_VALUES.items():
        out[text.isin(spellings).to_numpy()] = kind.value
    return out


def positions(values: pd.Series) -> pd.Series:
    """Long-layout positions as numbers (NaN where blank or not a whole number)."""
    return pd.to_numeric(dates.text_values(values), errors="coerce")


def quoted(values: pd.Series) -> pd.Series:
    """Bad values for a reason: quoted, cut to a readable length."""
    text = dates.text_values(values)
    cut = text.str.slice(0, SHOWN).str.replace(r"[^\x20-\x7e\u00a0-\uffff]", "?", regex=True)
    return "'" + cut + np.where(text.str.len() > SHOWN, "...", "") + "'"


def _per_value(fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    """A check on the distinct values of a dictionary-encoded column, mapped back to its cells."""

    def check(s: pd.Series) -> pd.Series:
        if isinstance(s.dtype, pd.CategoricalDtype):
            ok = fn(pd.Series(s.cat.categories.astype(str))).to_numpy(dtype=bool)
            codes = s.cat.codes.to_numpy()
            table = np.concatenate([ok, [True]])  # code -1 (missing) selects the appended True
            return pd.Series(table[codes], index=s.index)
        if pd.api.types.is_datetime64_any_dtype(s):
            return pd.Series(True, index=s.index)
        if isinstance(s.dtype, pd.StringDtype):
            return fn(s.fillna("") if s.hasnans else s)
        return fn(s.astype(object).where(s.notna(), "").astype(str))

    return check


@dataclass(frozen=True)
class _Rule:
    column: str
    reason: Callable[[pd.Series], pd.Series]  # failing cells -> reasons
    passes: Callable[[pd.Series], pd.Series]  # the check itself (per value): True where a cell passes


class RowChecker:
    """The pandera schema of one extract's columns, and the reasons its failures give."""

    def __init__(
        self,
        id_column: str,
        columns: list[str],
        date_columns: dict[str, str],
        free_text: tuple[str, ...] = (),
        kind_column: str | None = None,
        position_column: str | None = None,
    ):
        self.rules: dict[str, _Rule] = {}
        schema_columns = {}
        for col in columns:
            checks = []
            if col == id_column:
                checks.append(
                    self._check(
                        col,
                        "id",
                        lambda s: s.str.strip() != "",
                        lambda v: pd.Series("missing episode id", index=v.index),
                    )
                )
            checks.append(
                self._check(
                    col,
                    "nul",
                    lambda s: ~s.str.contains("\x00", regex=False),
                    lambda v, c=col: pd.Series(f"NUL byte in column {c}", index=v.index),
                )
            )
            checks.append(
                self._check(
                    col,
                    "size",
                    lambda s: s.str.len() <= MAX_CELL,
                    lambda v, c=col: pd.Series(f"cell over 1 MB in column {c}", index=v.index),
                )
            )
            if col not in free_text:
                checks.append(
                    self._check(
                        col,
                        "lines",
                        lambda s: ~s.str.contains(r"[\r\n]", regex=True),
                        lambda v, c=col: pd.Series(
                            f"line break in column {c} (an unclosed quote?)", index=v.index
                        ),
                    )
                )
            if col in date_columns:
                label = date_columns[col].replace("_", " ")
                checks.append(
                    self._check(
                        col,
                        "date",
                        lambda s: ~dates.unparseable(s),
                        lambda v, lab=label: f"unparseable {lab} " + quoted(v),
                    )
                )
            if col == kind_column:
                checks.append(
                    self._check(
                        col,
                        "kind",
                        lambda s: (s.str.strip() == "") | (kind_of(s) != ""),
                        lambda v: "unknown code kind " + quoted(v) + " (expected diagnosis or procedure)",
                    )
                )
            if col == position_column:
                checks.append(
                    self._check(
                        col,
                        "position",
                        _position_ok,
                        lambda v: (
                            "position " + quoted(v) + f" is not a whole number from 1 to {MAX_POSITION}"
                        ),
                    )
                )
            schema_columns[col] = pa.Column(None, checks=checks, nullable=True, required=True)
        self.schema = pa.DataFrameSchema(schema_columns, strict=False, coerce=False)

    def _check(self, column: str, name: str, fn, reason) -> pa.Check:
        key = f"{name}:{column}"
        self.rules[key] = _Rule(column, reason, _per_value(fn))
        return pa.Check(self.rules[key].passes, name=key, error=key)

    def problems(self, frame: pd.DataFrame) -> np.ndarray:
        """Why each row cannot be audited ("" if it can): every failing check, in column then check order."""
        reasons = np.full(len(frame), "", dtype=object)
        if not len(frame):
            return reasons
        # The checks run directly first (each vectorised over the column's distinct values); pandera then
        # validates only the columns with a failing cell and collects every failure. A clean chunk, the
        # usual case, so costs the checks and not pandera's per-check overhead.
        failing = list(dict.fromkeys(
            rule.column for rule in self.rules.values()
            if rule.column in frame and not rule.passes(frame[rule.column]).all()))
        missing = [c for c in self.schema.columns if c not in frame]
        if not failing and not missing:
            return reasons
        try:
            self.schema.select_columns(failing + missing).validate(frame, lazy=True, inplace=True)
            return reasons
        except SchemaErrors as exc:
            failures = exc.failure_cases
        failures = failures[failures["index"].notna()]
        for key, rule in self.rules.items():  # a loop over checks, each vectorised over the failing rows
            rows = failures.loc[failures["check"] == key, "index"].to_numpy(dtype=np.int64)
            if not rows.size:
                continue
            rows = np.unique(rows)
            text = rule.reason(frame[rule.column].iloc[rows].reset_index(drop=True)).to_numpy(dtype=object)
            reasons[rows] = join(reasons[rows], text)
        return reasons


def _position_ok(s: pd.Series) -> pd.Series:
    text = s.str.strip()
    number = pd.to_numeric(text, errors="coerce")
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


class SeenIds:
    """Episode ids already read, across chunks, with the line each was first seen at.

    Ids are kept as 64-bit hashes in a sorted array (16 bytes an episode), so ten
    million episodes take 160 MB. Two different ids sharing a hash (a chance of about
    3 in a million for 10^7 ids) would be set aside as a duplicate, never lost.
    """

    def __init__(self):
        self._hashes = np.empty(0, dtype=np.uint64)
        self._lines = np.empty(0, dtype=np.int64)

    def first_lines(self, ids: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """For each non-blank id, the line it was first seen at (0 for a first sight); then remember them."""
        ids = np.asarray(ids, dtype=object)
        n = len(ids)
        out = np.zeros(n, dtype=np.int64)
        present = ids != ""
        if not present.any():
            return out
        idx = np.flatnonzero(present)
        h = pd.util.hash_array(ids[idx], categorize=False)
        # The first occurrence in this chunk of each hash: assign in reverse so the first one is kept.
        codes, uniques = pd.factorize(h)
        first_pos = np.empty(len(uniques), dtype=np.int64)
        first_pos[codes[::-1]] = np.arange(len(h) - 1, -1, -1)
        first_here = lines[idx][first_pos[codes]]
        pos = np.searchsorted(self._hashes, h)
        found = pos < len(self._hashes)
        found[found] = self._hashes[pos[found]] == h[found]
        earlier = np.where(
            found,
            self._lines[np.minimum(pos, max(len(self._lines) - 1, 0))] if len(self._lines) else 0,
            first_here,
        )
        out[idx] = np.where(earlier != lines[idx], earlier, 0)
        new = ~found & (first_pos[codes] == np.arange(len(h)))
        if new.any():
            order = np.argsort(h[new], kind="stable")
            new_h, new_lines = h[new][order], lines[idx][new][order]
            at = np.searchsorted(self._hashes, new_h)
            self._hashes = np.insert(self._hashes, at, new_h)
            self._lines = np.insert(self._lines, at, new_lines)
        return out
