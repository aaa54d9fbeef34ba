"""Pair ``--format`` and ``--output`` options into report targets.

The rule, in order:

1. neither given: the ``table`` report on standard output;
2. only ``--format`` once: that format on standard output;
3. only ``--output`` (any number): each file's format comes from its extension
   (``.csv .json .jsonl .ndjson .parquet .xlsx .html .xml .junit.xml .sarif
   .sarif.json``);
4. as many ``--format`` as ``--output``: paired in the order given; a file whose
   extension names another format is an error;
5. otherwise each file with a known extension takes its format (using up a
   ``--format`` that names it), files without one take the remaining ``--format``
   values in order, and a ``--format`` left over goes to standard output: the CI
   line ``-o report.html -o junit.xml -o results.sarif --format github`` works as
   written.

An output of ``-`` is standard output. At most one report goes to standard
output, and never a binary one (parquet, xlsx) when it is a terminal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from audit.errors import UserError
from audit.report import FORMATS

FORMAT_NAMES = tuple(FORMATS)
BINARY = {"parquet", "xlsx"}
EXTENSIONS = {  # longest suffixes first
    ".junit.xml": "junit", ".sarif.json": "sarif",
    ".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
    ".pq": "parquet", ".xlsx": "xlsx", ".html": "html", ".htm": "html", ".xml": "junit",
    ".sarif": "sarif", ".txt": "table",
}


@dataclass(frozen=True)
class Target:
    """One report: its format and its file (None: standard output)."""

    format: str
    output: Path | None


def infer_format(path: Path) -> str | None:
    """The format a file name's extension implies, or None."""
    name = Path(path).name.lower()
    for suffix, fmt in EXTENSIONS.items():
        if name.endswith(suffix):
            return fmt
    return None


def resolve_targets(formats: tuple[str, ...], outputs: tuple[Path, ...],
                    stdout_is_terminal: bool | None = None) -> list[Target]:
    """The reports to write; any mismatch is a one-line error (exit 2)."""
    files = [None if str(o) == "-" else Path(o) for o in outputs]
    if not formats and not files:
        targets = [Target("table", None)]
    elif formats and not files and len(formats) == 1:
        targets = [Target(formats[0], None)]
    elif not formats:
        targets = []
        for f in files:
            fmt = infer_format(f) if f is not None else "table"
            if fmt is None:
                raise UserError(f"--output {f}: cannot tell the format from the extension; "
                                f"give --format too (one per --output, in the same order)")
            targets.append(Target(fmt, f))
    elif len(formats) != len(files):
        targets = _mixed(list(formats), files)
    else:
        targets = []
        for fmt, f in zip(formats, files):
            implied = infer_format(f) if f is not None else None
            if implied is not None and implied != fmt:
                raise UserError(f"--format {fmt} with --output {f}: the extension says {implied}")
            targets.append(Target(fmt, f))
    to_stdout = [t for t in targets if t.output is None]
    if len(to_stdout) > 1:
        raise UserError("more than one report would go to standard output ("
                        + ", ".join(t.format for t in to_stdout) + "): give each but one an --output file")
    if stdout_is_terminal is None:
        stdout_is_terminal = sys.stdout.isatty()
    for t in to_stdout:
        if t.format in BINARY and stdout_is_terminal:
            raise UserError(f"--format {t.format} is binary: give --output FILE (or redirect standard output)")
    seen = set()
    for t in targets:
        if t.output is not None:
            if not t.output.parent.is_dir():
                raise UserError(f"--output {t.output}: the folder {t.output.parent} does not exist")
            key = t.output.resolve()
            if key in seen:
                raise UserError(f"--output {t.output} is given twice")
            seen.add(key)
    return targets


def _mixed(formats: list[str], files: list[Path | None]) -> list[Target]:
    """Rule 5: files by extension, the other files by the --format values left, the rest to standard output."""
    targets: list[Target | None] = []
    for f in files:
        implied = infer_format(f) if f is not None else None
        if implied is not None and implied in formats:
            formats.remove(implied)  # said twice: by the extension and by --format
        targets.append(Target(implied, f) if implied is not None else None)
    for i, f in enumerate(files):
        if targets[i] is None:
            if not formats:
                raise UserError(f"--output {f or '-'}: cannot tell the format from the extension; give --format "
                                "too")
            targets[i] = Target(formats.pop(0), f)
    return [*targets, *(Target(fmt, None) for fmt in formats)]
