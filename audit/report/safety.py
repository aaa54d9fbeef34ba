"""Keep outputs safe to open: spreadsheet formula injection is neutralised.

Following OWASP's CSV injection advice, a text cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe so
spreadsheet programs show it as text. The OPCS-4 placeholder ``-`` on its
own is left as it is: it is data, not a formula. HTML is escaped by the
template engine (autoescaping), not here. Characters XML 1.0 cannot hold are
replaced in every XML output (``xml_text``).
"""

from __future__ import annotations

import re

import pandas as pd

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_KEEP = {"-"}
# Characters XML 1.0 cannot hold (an XLSX cell, JUnit, the HTML report's text): control characters other than
# tab, newline and return, lone surrogates, U+FFFE and U+FFFF. Real extracts carry some (ESC, vertical tab).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralise(value: object) -> object:
    """One cell, made safe for a spreadsheet."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and value not in _KEEP:
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of a frame, made safe for a spreadsheet."""
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if column.dtype == object:
            out[col] = column.map(neutralise)  # mixed cells: only the text ones change
        elif pd.api.types.is_string_dtype(column):  # one vectorised test, and only the hits rewritten
            starts = column.str.startswith(_TRIGGERS).fillna(False).to_numpy(dtype=bool)
            hit = starts & ~column.isin(_KEEP).to_numpy()
            if hit.any():
                out[col] = column.where(~hit, "'" + column)
    return out


def xml_text(text: str) -> str:
    """Text XML 1.0 can hold: each character it cannot replaced by U+FFFD (the replacement character)."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def spreadsheet_text(value: str) -> str:
    """A text cell for an XLSX sheet: neutralised, and without characters XML cannot hold."""
    return neutralise(xml_text(value))
