"""ICD-10 and OPCS-4 codes as small value types, and their normalisation.

Extracts write the same code many ways (``C78.7``, ``c787``, ``C787-``,
`` C78.7 ``); everything past this module sees one canonical, dotted form.
Normalisation is done once per distinct raw value (``normalise_values``),
never once per cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where it is used: `audit --version` starts without it
    import numpy as np


class Kind(str, Enum):
    """Which classification a column holds."""

    DIAGNOSIS = "diagnosis"  # ICD-10
    PROCEDURE = "procedure"  # OPCS-4


class Status(int, Enum):
    """What a raw cell value turned out to be."""

    EMPTY = 0  # blank, or an OPCS-4 placeholder
    VALID = 1
    INVALID = 2


class InvalidCode(ValueError):
    """A value that is not a well-formed code of its classification."""


DAGGER = "dagger"
ASTERISK = "asterisk"

# Undotted ICD-10 as the NHS Data Dictionary writes it: category, then a fourth
# character (or X padding for an undivided category), an optional fifth
# character (or "-" filler), and an optional sixth character D/A marking a
# dagger/asterisk code. Dots are removed before matching.
_ICD10 = re.compile(r"(?P<cat>[A-Z][0-9]{2})(?P<c4>[0-9X-])?(?P<c5>[0-9-])?(?P<c6>[DA])?")
# OPCS-4: A-Z except I, three digits; a three-character category is well formed too.
_OPCS4 = re.compile(r"(?P<cat>[A-HJ-Z][0-9]{2})(?P<c4>[0-9])?")
_OPCS4_PLACEHOLDERS = frozenset({"-", "&"})  # "-" no operation, "&" not known: not codes
_PRINTED_MARKERS = {"\u2020": DAGGER, "*": ASTERISK}
_MARKER_SIGN = {DAGGER: "\u2020", ASTERISK: "*"}


@dataclass(frozen=True, slots=True)
class Icd10Code:
    """A well-formed ICD-10 code in dotted form (``C78.7``, ``I10``) with its dagger/asterisk marker."""

    code: str
    marker: str | None = None

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Opcs4Code:
    """A well-formed OPCS-4 code in dotted form (``J12.4``) or a category (``J12``)."""

    code: str

    @property
    def chapter(self) -> str:
        return self.code[0]

    @property
    def is_qualifier(self) -> bool:
        """Y (method/approach) and Z (site/laterality) codes qualify the main code before them."""
        return self.chapter in "YZ"

    def __str__(self) -> str:
        return self.code


def _undot(value: str) -> str:
    """Drop the one dot a dotted code has after its category; any other dot is malformed."""
    if "." not in value:
        return value
    if value.count(".") > 1 or value.index(".") != 3:
        raise InvalidCode(value)
    return value.replace(".", "")


def parse_icd10(raw: str) -> Icd10Code:
    """Parse one ICD-10 value in any form extracts use; raise ``InvalidCode`` if malformed."""
    value = raw.strip().upper()
    marker = None
    if value and value[-1] in _PRINTED_MARKERS:
        marker = _PRINTED_MARKERS[value[-1]]
        value = value[:-1].rstrip()
    m = _ICD10.fullmatch(_undot(value))
    if m is None:
        raise InvalidCode(raw)
    cat, c4, c5, c6 = m.group("cat", "c4", "c5", "c6")
    if c6 is not None and c5 is None:  # D/A is only ever the sixth character
        raise InvalidCode(raw)
    if c6 is not None:
        marker = DAGGER if c6 == "D" else ASTERISK
    if c4 == "X" and c5 not in (None, "-"):
        # X holds the fourth place of a category divided only at the fifth (T08.X0, T08X0).
        return Icd10Code(f"{cat}.X{c5}", marker)
    if c4 is None or c4 in "X-":
        # X pads an undivided three-character category (I10X is I10); nothing may follow but filler.
        if c5 not in (None, "-"):
            raise InvalidCode(raw)
        return Icd10Code(cat, marker)
    fifth = c5 if c5 not in (None, "-") else ""  # "-" fills an unused fifth character (C787- is C78.7)
    return Icd10Code(f"{cat}.{c4}{fifth}", marker)


def parse_opcs4(raw: str) -> Opcs4Code | None:
    """Parse one OPCS-4 value; ``None`` for a blank or a placeholder (``-``, ``&``)."""
    value = raw.strip().upper()
    if not value or value in _OPCS4_PLACEHOLDERS:
        return None
    m = _OPCS4.fullmatch(_undot(value))
    if m is None:
        raise InvalidCode(raw)
    cat, c4 = m.group("cat", "c4")
    return Opcs4Code(f"{cat}.{c4}" if c4 else cat)


@lru_cache(maxsize=1_000_000)
def normalise_value(raw: str, kind: Kind) -> tuple[Status, str, str]:
    """Normalise one raw value: (status, canonical code or "", marker or "")."""
    if not raw.strip():
        return Status.EMPTY, "", ""
    try:
        if kind is Kind.DIAGNOSIS:
            icd = parse_icd10(raw)
            return Status.VALID, icd.code, icd.marker or ""
        opcs = parse_opcs4(raw)
    except InvalidCode:
        return Status.INVALID, "", ""
    if opcs is None:
        return Status.EMPTY, "", ""
    return Status.VALID, opcs.code, ""


@dataclass(frozen=True)
class NormalisedValues:
    """Normalisation of an array of distinct raw values, aligned with it."""

    raw: np.ndarray  # object array of the raw strings
    status: np.ndarray  # int8, a Status per value
    code: np.ndarray  # object array: canonical dotted code, "" unless VALID
    marker: np.ndarray  # object array: "dagger", "asterisk" or ""
    qualifier: np.ndarray  # bool: a valid OPCS-4 Y or Z code (it qualifies the main code before it)
    display: np.ndarray  # object array: how a finding shows the value (code + marker, or the raw value quoted)

    @property
    def valid(self) -> np.ndarray:
        return self.status == Status.VALID

    @property
    def invalid(self) -> np.ndarray:
        return self.status == Status.INVALID

    @property
    def main(self) -> np.ndarray:
        """A valid code that is not an OPCS-4 qualifier: the main code of a procedure block."""
        return self.valid & ~self.qualifier

    @classmethod
    def concat(cls, a: NormalisedValues, b: NormalisedValues) -> NormalisedValues:
        import numpy as np
        return cls(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in cls.__dataclass_fields__))


def normalise_values(raw: Iterable[str], kind: Kind) -> NormalisedValues:
    """Normalise distinct raw values of one classification (the vocabulary of a chunk)."""
    import numpy as np
    raw_arr = np.asarray(list(raw), dtype=object)
    results = [normalise_value(str(v), kind) for v in raw_arr]
    status = np.fromiter((r[0] for r in results), dtype=np.int8, count=len(results))
    code = np.array([r[1] for r in results], dtype=object)
    marker = np.array([r[2] for r in results], dtype=object)
    qualifier = np.array([kind is Kind.PROCEDURE and c[:1] in ("Y", "Z") for c in code], dtype=bool)
    shown = [c + _MARKER_SIGN.get(m, "") if s == Status.VALID else '"' + str(r).strip() + '"'
             for r, s, c, m in zip(raw_arr, status, code, marker)]
    display = np.array(shown, dtype=object)
    return NormalisedValues(raw_arr, status, code, marker, qualifier & (status == Status.VALID), display)
