"""GitHub Actions workflow commands: one annotation per finding (``::error file=...::message``).

Errors become ``error``, warnings ``warning`` and info ``notice``
annotations on the extract file (at the episode's line when the extract is text;
another format's row number is said in the message), titled with the rule id. Values are escaped
as the workflow command syntax requires, so no data can start a command.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.episodes import LINE
from audit.pipeline import RunResult
from audit.report.output import extract_path, found_titles, write_bytes

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a message for a workflow command."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title) for a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def lines(result: RunResult) -> list[str]:
    """Every workflow command, as a list."""
    return [line for part in _line_parts(result) for line in part]


def _line_parts(result: RunResult) -> Iterator[list[str]]:
    """The workflow commands a chunk of findings at a time, then the rows set aside."""
    source = escape_property(extract_path(result))
    by_line = result.located_by == "line"
    for f in result.all_findings.frames():
        part = []
        lines = f[LINE] if LINE in f else [None] * len(f)
        for episode_id, line, rule_id, severity, message, guidance, code_titles in zip(
                f["episode_id"], lines, f["rule_id"], f["severity"], f["message"], f["guidance"],
                found_titles(f)):
            title = escape_property(f"{rule_id} ({guidance})")
            where = "" if line is None or by_line else f" ({result.located_by} {line})"
            text = f"episode {episode_id}{where}: {message}" + (f" ({code_titles})" if code_titles else "")
            at = f",line={line}" if line is not None and by_line else ""
            part.append(f"::{LEVEL.get(severity, 'warning')} file={source}{at},title={title}::{escape_data(text)}")
        yield part
    if len(result.rejected):
        said = escape_data(f"{len(result.rejected)} rows could not be audited (see the JSON report)")
        yield [f"::warning file={source},title=rows set aside::{said}"]
    if result.episodes_uncoded:
        said = escape_data(f"{result.episodes_uncoded} episodes uncoded (no diagnosis and no procedure), not "
                           "audited (see the JSON report)")
        yield [f"::notice file={source},title=uncoded episodes::{said}"]


def write(result: RunResult, output: Path | None) -> None:
    """The commands, written a chunk of findings at a time."""
    write_bytes(("".join(line + "\n" for line in part).encode("utf-8") for part in _line_parts(result)), output)
