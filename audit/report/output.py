"""Where a report goes: a file, or standard output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import pandas as pd
from rich.console import Console

from audit.engine import TITLES
from audit.report.safety import neutralise_frame


def found_titles(findings: pd.DataFrame) -> pd.Series:
    """Each finding's found codes with their titles (given reference tables), else blank."""
    return findings[TITLES] if TITLES in findings.columns else pd.Series("", index=findings.index, dtype=object)


def write_text(text: str, output: Path | None) -> None:
    """UTF-8 text to ``output``, or to standard output when None."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(output).write_text(text, encoding="utf-8", newline="\n")


def write_csv_frame(frame: pd.DataFrame, output: Path | None) -> None:
    """A frame as CSV (no index, newline line ends), formula-looking text neutralised for spreadsheets."""
    write_text(neutralise_frame(frame).to_csv(index=False, lineterminator="\n"), output)


def write_console(render: Callable[[Console], None], output: Path | None) -> None:
    """A rich rendering to the terminal (with colour), or to ``output`` as plain text 140 columns wide."""
    if output is None:
        render(Console(highlight=False))
        return
    with open(output, "w", encoding="utf-8") as f:
        render(Console(file=f, width=140, no_color=True, highlight=False))


def write_bytes(data: bytes, output: Path | None) -> None:
    """Binary data (Parquet, XLSX) to ``output``; to standard output only when it is not a terminal."""
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(output).write_bytes(data)
