"""Which of a file's columns plays which role: episode id, codes, episode attributes.

Roles are found under their usual HES names (matched case-insensitively), or
mapped to local names in ``[tool.audit.columns]`` of the project settings or
with ``--column ROLE=NAME`` (the command line wins). Mapping a role to an empty
name says the file has no such column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from audit.codes import Kind
from audit.errors import UserError

EPISODE_ID = "episode_id"
# Attributes carried into the findings, in the canonical frame's column order.
ATTRIBUTE_ROLES = ("provider", "start_date", "end_date", "specialty", "sex", "age", "coder")
# Attributes read for rule conditions only (audit.rules.attributes): in the canonical frame, after the
# others, never carried into the findings (the reports' columns stay as they are).
CONDITION_ROLES = ("admission_method", "patient_class")
EPISODE_ROLES = (*ATTRIBUTE_ROLES, *CONDITION_ROLES)
DATE_ROLES = ("start_date", "end_date")
CODE_ROLES = {Kind.DIAGNOSIS: "diagnoses", Kind.PROCEDURE: "procedures"}
LONG_ROLES = ("kind", "position", "code")
ROLES = (EPISODE_ID, *CODE_ROLES.values(), *LONG_ROLES, *EPISODE_ROLES)
LAYOUTS = ("wide", "long", "concatenated")  # where the codes are (audit.extract.layouts reads each)

# Names looked for when a role is not mapped, first found wins.
DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    EPISODE_ID: ("EPIKEY", "EPISODE_ID"),
    "provider": ("PROCODE", "PROCODE3", "PROCODE5", "PROVIDER"),
    "start_date": ("EPISTART", "START_DATE"),
    "end_date": ("EPIEND", "END_DATE"),
    "specialty": ("MAINSPEF", "TRETSPEF", "SPECIALTY"),
    "sex": ("SEX",),
    "age": ("STARTAGE", "AGE"),
    "coder": ("CODER", "CODING_TEAM", "TEAM"),
    "admission_method": ("ADMIMETH", "ADMISSION_METHOD"),
    "patient_class": ("CLASSPAT", "PATIENT_CLASS"),
    "kind": ("CODE_TYPE", "CODE_KIND", "KIND"),
    "position": ("POSITION", "CODE_POSITION", "SEQUENCE"),
    "code": ("CODE",),
}
# Wide layout: numbered columns under these prefixes (DIAG_01.., else the derived DIAG_4_01..).
WIDE_PREFIXES = {Kind.DIAGNOSIS: ("DIAG_", "DIAG_4_"), Kind.PROCEDURE: ("OPERTN_", "OPERTN_4_")}
# Concatenated layout: one field per classification.
CONCATENATED_FIELDS = {Kind.DIAGNOSIS: ("DIAG_ALL",), Kind.PROCEDURE: ("OPERTN_ALL",)}


def parse_column_options(items: Iterable[str]) -> dict[str, str]:
    """``ROLE=NAME`` strings from the command line as a role -> column name mapping."""
    out: dict[str, str] = {}
    for item in items:
        role, sep, name = item.partition("=")
        if not sep:
            raise UserError(f"--column {item!r}: expected ROLE=NAME, e.g. --column episode_id=EPISODE_NO")
        out[check_role(role.strip(), f"--column {item!r}")] = name.strip()
    return out


def check_role(role: str, where: str) -> str:
    """``role`` if it is a known role; otherwise a message naming the nearest and listing them."""
    if role not in ROLES:
        near = difflib.get_close_matches(role, ROLES, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise UserError(f"{where}: unknown column role {role!r}{hint} (roles: {', '.join(ROLES)})")
    return role


def settings_columns(settings: Mapping) -> dict[str, str]:
    """The ``[tool.audit.columns]`` table of the settings, checked."""
    from audit.config import where

    table = settings.get("columns", {})
    if not isinstance(table, Mapping):
        raise UserError(f'{where(settings, "columns")} must be a table of ROLE = "column name"')
    out = {}
    for role, name in table.items():
        check_role(str(role), where(settings, "columns"))
        if not isinstance(name, str):
            raise UserError(f"{where(settings, 'columns')} {role}: the column name must be a string")
        out[str(role)] = name.strip()
    return out


class Header:
    """A file's column names, looked up case-insensitively (surrounding spaces ignored)."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        self._by_key: dict[str, list[str]] = {}
        for name in self.names:
            self._by_key.setdefault(_key(name), []).append(name)

    def find(self, name: str) -> str | None:
        """The file's spelling of ``name``; an error if the header has it twice."""
        found = self._by_key.get(_key(name), [])
        if len(found) > 1:
            raise AmbiguousColumn(name)
        return found[0] if found else None

    def numbered(self, prefix: str) -> list[tuple[int, str]]:
        """Columns named ``prefix`` + a number (``DIAG_01``; also ``DIAG01`` for a prefix without ``_``)."""
        # Only leading spaces are dropped: "Proc " is the prefix of "Proc 01".
        regex = re.compile(
            re.escape(prefix.lstrip().upper()) + ("" if prefix.endswith(("_", " ")) else "_?") + r"(\d+)"
        )
        return sorted(
            (int(m.group(1)), name)
            for key, names in self._by_key.items()
            if (m := regex.fullmatch(key))
            for name in names
        )

    def preview(self, limit: int = 12) -> str:
        """The first names, for a message: blank ones quoted, unprintable characters as '?'."""
        shown = ", ".join(repr(n) if not n.strip() else printable(n, 40) for n in self.names[:limit])
        return shown + (f", ... ({len(self.names)} columns)" if len(self.names) > limit else "")


class AmbiguousColumn(Exception):
    """A column name that the header holds more than once."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def printable(text: str, limit: int) -> str:
    """Text safe to print in a message: control characters replaced, cut to ``limit`` characters."""
    text = str(text)
    return "".join(c if c.isprintable() else "?" for c in text[:limit]) + ("..." if len(text) > limit else "")


def _key(name: str) -> str:
    return str(name).strip().upper()


@dataclass(frozen=True)
class Resolved:
    """A role's column: the file's name for it, and whether the user mapped it."""

    column: str | None
    mapped: bool


def resolve(header: Header, role: str, mapping: Mapping[str, str]) -> Resolved:
    """The column of a single-column role: the mapped name, else the first default name present."""
    if role in mapping:
        name = mapping[role]
        return Resolved(header.find(name) if name else None, True)
    for name in DEFAULT_NAMES.get(role, ()):
        found = header.find(name)
        if found is not None:
            return Resolved(found, False)
    return Resolved(None, False)


def looked_for(role: str, mapping: Mapping[str, str]) -> str:
    """What was looked for, for a message: the mapped name or the default names."""
    if role in mapping:
        return repr(mapping[role]) + " (mapped)"
    return " or ".join(DEFAULT_NAMES.get(role, ()))
