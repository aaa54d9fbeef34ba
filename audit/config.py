"""Project settings from ``[tool.audit]`` in pyproject.toml, or an ``audit.toml``.

Settings are looked up in the current folder (``audit.toml`` first, then
``pyproject.toml``); options on the command line win over them. As in ruff, a key
or table the engine does not know is an error naming the file, its line and the
nearest known key: a typo never silently does nothing.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

from audit.errors import UserError

CONFIG_FILES = ("audit.toml", "pyproject.toml")

# Every key the engine reads from [tool.audit] (or the top of an audit.toml); "-" and "_" are alike.
TOP_KEYS = ("select", "ignore", "fail-on", "max-findings", "reference", "extend-rules", "title", "organisation")
# Tables and their keys: None means the keys are the user's own (rule ids, option names) and are
# checked where they are used (audit.selection, audit.rules.options).
TABLES: dict[str, tuple[str, ...] | None] = {
    "severity": None,
    "options": None,
    "columns": None,  # column roles, checked by audit.extract.columns.settings_columns
    "extract": ("layout", "encoding", "delimiter", "sheet", "separator"),  # audit.extract.reader.READ_SETTINGS
    "attainment": None,  # checked by the audit workflow's scoring
}


class SettingsFile(dict):
    """The settings table, remembering the file it came from so that messages can name it."""

    path: Path | None = None
    prefix: str = "tool.audit"  # how the file names the engine's table: "" at the top of an audit.toml

    def where(self, table: str | None = None) -> str:
        """``pyproject.toml [tool.audit.columns]``, or ``audit.toml [columns]``, for a message."""
        name = ".".join(p for p in (self.prefix, table) if p)
        file = self.path.name if self.path is not None else "settings"
        return f"{file} [{name}]" if name else file


def where(settings: dict, table: str | None = None) -> str:
    """The file and table of ``settings`` for a message (``[tool.audit...]`` when not read from a file)."""
    if isinstance(settings, SettingsFile):
        return settings.where(table)
    return "[" + ".".join(p for p in ("tool.audit", table) if p) + "]"


def load_settings(path: Path | None = None) -> SettingsFile:
    """The ``[tool.audit]`` table (or the whole of an ``audit.toml``); empty when there is none."""
    candidates = [Path(path)] if path else [Path.cwd() / name for name in CONFIG_FILES]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            text = candidate.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{candidate}: invalid TOML ({exc})") from None
        prefix = "tool.audit"
        if candidate.name == "pyproject.toml":
            table = data.get("tool", {}).get("audit")
            if table is None:
                continue
        elif "tool" in data and isinstance(data["tool"], dict) and "audit" in data["tool"]:
            table = data["tool"]["audit"]
        else:
            table, prefix = data, ""
        if not isinstance(table, dict):
            raise UserError(f"{candidate}: [tool.audit] must be a table")
        settings = SettingsFile(table)
        settings.path, settings.prefix = candidate, prefix
        _check_keys(settings, text)
        return settings
    return SettingsFile()


def _canonical(key: str) -> str:
    return str(key).replace("_", "-")


def _check_keys(settings: SettingsFile, text: str) -> None:
    """An unknown key or table: exit 2 with the file, the line and the nearest known name."""
    known_top = {_canonical(k) for k in TOP_KEYS}
    known_tables = {_canonical(k): k for k in TABLES}
    for key, value in settings.items():
        canon = _canonical(key)
        if canon in known_tables:
            keys = TABLES[known_tables[canon]]
            if not isinstance(value, dict):
                raise UserError(f"{_line(settings, text, key)}: {key} must be a table "
                                f"([{'.'.join(p for p in (settings.prefix, key) if p)}])")
            if keys is None:
                continue
            for inner in value:
                if _canonical(inner) not in {_canonical(k) for k in keys}:
                    raise UserError(f"{_line(settings, text, inner, key)}: unknown key {inner!r} in "
                                    f"{settings.where(key).split(' ', 1)[1]}{_nearest(inner, keys)}")
        elif canon not in known_top:
            kind = "table" if isinstance(value, dict) else "key"
            shown = f"[{'.'.join(p for p in (settings.prefix, str(key)) if p)}]" if kind == "table" else repr(key)
            names = list(TABLES) if kind == "table" else list(TOP_KEYS)
            hint = _nearest(key, names, table=kind == "table", prefix=settings.prefix)
            raise UserError(f"{_line(settings, text, key)}: unknown {kind} {shown}{hint}")


def _nearest(key: str, names, table: bool = False, prefix: str = "") -> str:
    match = difflib.get_close_matches(_canonical(key), [_canonical(n) for n in names], n=1, cutoff=0.6)
    if not match:
        return f" (known: {', '.join(names)})"
    name = next(n for n in names if _canonical(n) == match[0])
    shown = f"[{'.'.join(p for p in (prefix, name) if p)}]" if table else name
    return f"; did you mean {shown}?"


def _line(settings: SettingsFile, text: str, key: str, table: str | None = None) -> str:
    """``audit.toml:3``: the file and the first line naming ``key`` (under ``table``, when given)."""
    lines = text.splitlines()
    start = 0
    if table is not None:  # look below the table's header first
        header = re.compile(r"^\s*\[\s*" + re.escape(".".join(p for p in (settings.prefix, table) if p))
                            + r"\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), 0)
    pattern = re.compile(r"^\s*(\[\s*)?([\w.\-\"']*\.)?[\"']?" + re.escape(str(key)) + r"[\"']?\s*(=|\])")
    for i in range(start, len(lines)):
        if pattern.match(lines[i]):
            return f"{settings.path.name}:{i + 1}"
    return settings.path.name if settings.path is not None else "settings"
