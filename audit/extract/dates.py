"""Dates as extracts write them, parsed once per distinct value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

DATE_DTYPE = "datetime64[us]"  # microseconds: open-ended dates such as 9999-12-31 still fit
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_dates(raw: pd.Series) -> pd.Series:
    """ISO (2024-03-31), HES compact (20240331) or UK (31/03/2024) dates; NaT where blank or unparseable.

    Columns already holding dates (Parquet) are kept as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.astype(DATE_DTYPE).reset_index(drop=True).set_axis(raw.index)
    if isinstance(raw.dtype, pd.CategoricalDtype):  # each distinct value parsed once
        parsed = parse_dates(pd.Series(raw.cat.categories.astype(str))).to_numpy()
        table = np.append(parsed, np.array(["NaT"], dtype=DATE_DTYPE))  # code -1 (missing) -> NaT
        return pd.Series(table[raw.cat.codes.to_numpy()], index=raw.index, dtype=DATE_DTYPE)
    text = text_values(raw)
    codes, values = pd.factorize(text)  # each distinct date once
    values = pd.Series(values, dtype=object).astype(str)
    out = pd.Series(pd.NaT, index=values.index, dtype=DATE_DTYPE)
    for fmt in DATE_FORMATS:
        missing = out.isna() & (values != "")
        if not missing.any():
            break
        out[missing] = pd.to_datetime(values[missing], format=fmt, errors="coerce").astype(DATE_DTYPE)
    table = np.concatenate([out.to_numpy(), np.array([np.datetime64("NaT")], dtype=DATE_DTYPE)])
    return pd.Series(table[codes], index=raw.index, dtype=DATE_DTYPE)


def unparseable(raw: pd.Series) -> pd.Series:
    """bool per cell: a non-blank value that is not a date in a known form."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        return pd.Series(False, index=raw.index)
    return (text_values(raw) != "") & parse_dates(raw).isna()


def text_values(raw: pd.Series) -> pd.Series:
    """Cells as stripped text, blank for missing."""
    if isinstance(raw.dtype, pd.CategoricalDtype):  # strip each distinct value once, take the cells in Arrow
        stripped = pd.Series(raw.cat.categories.astype(str)).str.strip()
        table = pa.array(pd.concat([stripped, pd.Series([""], dtype="str")], ignore_index=True))
        codes = raw.cat.codes.to_numpy()  # code -1 (missing) selects the appended ""
        cells = table.take(np.where(codes < 0, len(stripped), codes))
        return pd.Series(pd.array(cells, dtype="str"), index=raw.index)
    if isinstance(raw.dtype, pd.StringDtype):
        return (raw.fillna("") if raw.hasnans else raw).str.strip()
    return raw.astype(object).where(raw.notna(), "").astype(str).str.strip()
