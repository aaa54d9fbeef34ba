"""The engine's own JSON files (baselines, run results, reports): written one way, read with one-line
errors for the user."""

from __future__ import annotations

import json
from pathlib import Path

from audit.errors import UserError


def read_json(path: Path, what: str, missing_hint: str = "") -> object:
    """Parse ``path``; a missing or malformed file is a ``UserError`` naming it as ``what``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such {what}{missing_hint}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a {what} (invalid JSON: {exc})") from None


def json_text(document: object) -> str:
    """A document as the engine writes JSON: indented, UTF-8 characters as they are, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
