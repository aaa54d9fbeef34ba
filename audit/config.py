"""Project settings from ``[tool.audit]`` in pyproject.toml, or an ``audit.toml``.

Settings are looked up in the current folder (``audit.toml`` first, then
``pyproject.toml``); options on the command line win over them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from audit.errors import UserError

CONFIG_FILES = ("audit.toml", "pyproject.toml")


def load_settings(path: Path | None = None) -> dict:
    """The ``[tool.audit]`` table (or the whole of an ``audit.toml``); empty when there is none."""
    candidates = [Path(path)] if path else [Path.cwd() / name for name in CONFIG_FILES]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{candidate}: invalid TOML ({exc})") from None
        if candidate.name == "pyproject.toml":
            settings = data.get("tool", {}).get("audit")
            if settings is None:
                continue
        else:
            settings = data.get("tool", {}).get("audit", data)
        if not isinstance(settings, dict):
            raise UserError(f"{candidate}: [tool.audit] must be a table")
        return settings
    return {}
