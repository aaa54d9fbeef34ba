"""Dates and text as extracts write them; a dictionary-encoded column's distinct values are worked on once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.kernels import arrow_text, dictionary_indices

DATE_DTYPE = "datetime64[us]"  # microseconds: open-ended dates such as 9999-12-31 still fit
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_dates(raw: pd.Series) -> pd.Series:
    """ISO (2024-03-31), HES compact (20240331) or UK (31/03/2024) dates; NaT where blank or unparseable.

    Columns already holding dates (Parquet) are kept as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype(DATE_DTYPE)
    cells = per_value(raw, lambda values: parse_dates(values).to_numpy(), np.datetime64("NaT"))
    if cells is not None:  # each distinct value parsed once
        return pd.Series(cells, index=raw.index, dtype=DATE_DTYPE)
    return _parse_text(text_values(raw))


def per_value(raw: pd.Series, fn, missing) -> np.ndarray | None:
    """``fn`` of a dictionary-encoded column's distinct values (text), mapped back to its cells, ``missing``
    for a missing cell; None for a column that is not dictionary-encoded."""
    if (dictionary := encoded(raw)) is None:
        return None
    codes, values = dictionary
    table = np.asarray(fn(values))
    return np.append(table, np.array([missing], dtype=table.dtype))[codes]  # code -1 (missing): the last


_PARSED: dict[str, np.datetime64] = {}  # date text already parsed (a few thousand in an extract), run-wide
_PARSED_MAX = 100_000  # values remembered; past this the memo starts again


def _parse_text(text: pd.Series) -> pd.Series:
    """``parse_dates`` of text already stripped, blank for missing (``text_values``)."""
    codes, values = pd.factorize(text)  # each distinct date once
    values = [str(v) for v in values]
    # The same dates come back in every chunk: each is parsed once a run (a loop over distinct values).
    memo = [_PARSED.get(v) for v in values]
    table = np.array([np.datetime64("NaT") if d is None else d for d in memo] + [np.datetime64("NaT")],
                     dtype=DATE_DTYPE)
    new = [i for i, d in enumerate(memo) if d is None]
    if new:
        texts = [values[i] for i in new]
        fresh = _parse_formats(pd.Series(texts, dtype=object)).to_numpy()
        table[new] = fresh
        if len(_PARSED) + len(new) > _PARSED_MAX:
            _PARSED.clear()
        _PARSED.update(zip(texts, fresh))
    return pd.Series(table[codes], index=text.index, dtype=DATE_DTYPE)


def _parse_formats(values: pd.Series) -> pd.Series:
    """Distinct date texts tried against each of ``DATE_FORMATS`` in turn; NaT where none fits."""
    out = pd.Series(pd.NaT, index=values.index, dtype=DATE_DTYPE)
    for fmt in DATE_FORMATS:
        missing = out.isna() & (values != "")
        if not missing.any():
            break
        out[missing] = pd.to_datetime(values[missing], format=fmt, errors="coerce").astype(DATE_DTYPE)
    return out


def unparseable(values: pd.Series) -> pd.Series:
    """bool per value of text (a row check's values: never dates, never dictionary-encoded): not blank and
    not a date in a known form."""
    text = text_values(values)  # stripped once, for the blank test and the parse
    return (text != "") & _parse_text(text).isna()


def text_values(raw: pd.Series) -> pd.Series:
    """Cells as stripped text, blank for missing."""
    if (dictionary := encoded(raw)) is not None:  # strip each distinct value once, take the cells in Arrow
        codes, values = dictionary
        table = pa.array(pd.concat([values.str.strip(), pd.Series([""], dtype="str")], ignore_index=True))
        cells = table.take(np.where(codes < 0, len(values), codes))  # code -1 (missing): ""
        return pd.Series(pd.array(cells, dtype="str"), index=raw.index)
    text = cell_text(raw)
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow" and not _may_strip(text):
        return text  # nothing to strip (the usual id column): no copy of every cell
    return text.str.strip()


def _may_strip(text: pd.Series) -> bool:
    """Whether some value of Arrow-backed text might start or end with white space: False when every
    value starts and ends with a printable ASCII character other than the space (checked on the bytes)."""
    arrow = pa.array(text.array)  # the Arrow data itself, no copy
    for arr in arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]:
        if not len(arr):
            continue
        data, offsets = arrow_text(arr)
        starts, ends = offsets[:-1], offsets[1:]
        if (ends <= starts).any():
            return True  # a blank value (nothing to strip, but the cheap test cannot say so)
        first, last = data[starts], data[ends - 1]
        if not (((first > 32) & (first < 127)) & ((last > 32) & (last < 127))).all():
            return True
    return False


def cell_text(raw: pd.Series) -> pd.Series:
    """The cells of a column that is not dictionary-encoded as text, blank for missing (not stripped)."""
    if isinstance(raw.dtype, pd.StringDtype):
        return raw.fillna("") if raw.hasnans else raw
    return raw.astype(object).where(raw.notna(), "").astype(str)


def encoded(raw: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """A dictionary-encoded column (categorical or Arrow dictionary) as its codes and its distinct values
    as text; code -1 is a missing cell. None for a column that is not dictionary-encoded."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        return raw.cat.codes.to_numpy(), distinct_values(raw)
    if (arr := arrow_dictionary(raw)) is not None:
        return dictionary_indices(arr.indices), arr.dictionary.to_pandas().astype(str)
    return None


def distinct_values(raw: pd.Series) -> pd.Series | None:
    """The distinct values of a dictionary-encoded column as text (those of ``encoded``); else None."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        return pd.Series(raw.cat.categories.astype(str))
    if (arr := arrow_dictionary(raw)) is not None:
        return arr.dictionary.to_pandas().astype(str)
    return None


def arrow_dictionary(raw: pd.Series) -> pa.DictionaryArray | None:
    """An Arrow dictionary column (``pd.ArrowDtype``) as one DictionaryArray; else None."""
    if not (isinstance(raw.dtype, pd.ArrowDtype) and pa.types.is_dictionary(raw.dtype.pyarrow_dtype)):
        return None
    arr = pa.array(raw)
    # One dictionary: concatenating unifies the chunks' dictionaries.
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
