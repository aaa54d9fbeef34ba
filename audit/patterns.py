"""Code patterns as the guidance writes them, matched against distinct codes at once.

A pattern is a list of items separated by commas:

- a code, ``J12.4`` (also matches codes below it: ``S72.0`` matches ``S72.00``);
- a category, ``Y53.-`` or ``Y53``;
- a range of categories or of codes, ``X70-X72``, ``C18-C20``, ``N18.1-N18.5``
  (an en dash as printed in guidance works too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.codes import InvalidCode, Kind, parse_icd10, parse_opcs4

if TYPE_CHECKING:  # numpy is imported where it is used: `audit --version` starts without it
    import numpy as np


class PatternError(ValueError):
    """A pattern that cannot be parsed; the message says which part and why."""


_CATEGORY = {
    Kind.DIAGNOSIS: re.compile(r"[A-Z][0-9]{2}"),
    Kind.PROCEDURE: re.compile(r"[A-HJ-Z][0-9]{2}"),
}


@dataclass(frozen=True)
class _Item:
    """One pattern item as an inclusive range of undotted prefixes of equal length."""

    low: str
    high: str

    def match(self, undotted: _Undotted) -> np.ndarray:
        prefix = undotted.prefix(len(self.low))
        return (prefix >= self.low) & (prefix <= self.high) & (undotted.length >= len(self.low))


class _Undotted:
    """Canonical codes without their dots as a numpy text array, with its prefixes of each length made once:
    every item of every pattern compares whole arrays (no pandas call an item: hundreds of national rules'
    patterns cost a few milliseconds against a run's distinct values)."""

    def __init__(self, codes: np.ndarray):
        import numpy as np
        self.text = np.array(["" if c is None or c != c else str(c).replace(".", "") for c in codes], dtype=str)
        self.length = np.strings.str_len(self.text)
        self._prefixes: dict[int, np.ndarray] = {}

    def prefix(self, n: int) -> np.ndarray:
        if n not in self._prefixes:
            self._prefixes[n] = self.text.astype(f"<U{n}")  # a narrower text type keeps the first n characters
        return self._prefixes[n]


def match_all(patterns: list[Pattern], codes: np.ndarray) -> list[np.ndarray]:
    """``pattern.match(codes)`` for each pattern, the codes undotted once."""
    undotted = _Undotted(codes)
    return [p.match_undotted(undotted) for p in patterns]


def _canonical(token: str, kind: Kind, text: str) -> str:
    """A single code or category token, undotted; category tokens may be written ``Y53.-``."""
    token = token.strip().upper()
    token = token.removesuffix(".-")
    if _CATEGORY[kind].fullmatch(token):
        return token
    try:
        code = parse_icd10(token).code if kind is Kind.DIAGNOSIS else parse_opcs4(token)
    except InvalidCode:
        code = None
    if code is None:
        classification = "ICD-10" if kind is Kind.DIAGNOSIS else "OPCS-4"
        raise PatternError(f"{token!r} in pattern {text!r} is not an {classification} code or category")
    return str(code).replace(".", "")


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern of one classification; ``text`` is kept for messages and docs."""

    kind: Kind
    text: str
    items: tuple[_Item, ...]

    @classmethod
    def parse(cls, text: str | list[str], kind: Kind) -> Pattern:
        """Parse a pattern string (or list of strings); raise ``PatternError`` if malformed."""
        parts = text if isinstance(text, list) else [text]
        tokens = [t.strip() for part in parts for t in str(part).split(",")]
        label = ", ".join(str(p) for p in parts)
        if not tokens or any(not t for t in tokens):
            raise PatternError(f"empty item in pattern {label!r}")
        items = []
        for token in tokens:
            token = token.replace("\u2013", "-")
            low, sep, high = token.rpartition("-") if not token.endswith(".-") else ("", "", token)
            if sep and low:
                lo, hi = _canonical(low, kind, label), _canonical(high, kind, label)
                if len(lo) != len(hi) or lo > hi:
                    raise PatternError(f"range {token!r} in pattern {label!r} must go from low to high "
                                       "at the same level (category to category, code to code)")
                items.append(_Item(lo, hi))
            else:
                code = _canonical(token, kind, label)
                items.append(_Item(code, code))
        return cls(kind, label, tuple(items))

    def match(self, codes: np.ndarray) -> np.ndarray:
        """Boolean array: which of these canonical codes (dotted; "" for none) the pattern matches."""
        return self.match_undotted(_Undotted(codes))

    def match_undotted(self, undotted: _Undotted) -> np.ndarray:
        import numpy as np
        hit = np.zeros(len(undotted.text), dtype=bool)
        for item in self.items:
            hit |= item.match(undotted)
        return hit & (undotted.length > 0)

    def __str__(self) -> str:
        return self.text
