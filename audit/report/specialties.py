"""Names of NHS Data Dictionary main specialty codes (``300`` General Medicine), from specialties.csv."""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources


@functools.cache
def names() -> dict[str, str]:
    """Main specialty code -> name (public NHS Data Dictionary values shipped as package data)."""
    text = resources.files("audit.report").joinpath("specialties.csv").read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def label(code) -> str:
    """``300 General Medicine`` for a known code; any other value as given."""
    text = str(code).strip()
    name = names().get(text)
    return f"{text} {name}" if name else text
