"""Keep outputs safe to open: spreadsheet formula injection is neutralised.

Following OWASP's CSV injection advice, a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe so
spreadsheet programs show it as text. The OPCS-4 placeholder ``-`` on its
own is left as it is: it is data, not a formula.
"""

from __future__ import annotations

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_KEEP = {"-"}


def neutralise(value: object) -> object:
    """One cell, made safe for a spreadsheet."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and value not in _KEEP:
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of a frame, made safe for a spreadsheet."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out
