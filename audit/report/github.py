"""GitHub Actions workflow commands: one annotation per finding (``::error file=...::message``).

Errors become ``error``, warnings ``warning`` and info ``notice``
annotations on the extract file, titled with the rule id. Values are escaped
as the workflow command syntax requires, so no data can start a command.
"""

from __future__ import annotations

from pathlib import Path

from audit.pipeline import RunResult
from audit.report.output import found_titles, write_text

LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a message for a workflow command."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title) for a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def lines(result: RunResult) -> list[str]:
    out = []
    f = result.findings
    source = escape_property(result.source)
    for episode_id, rule_id, severity, message, guidance, code_titles in zip(
            f["episode_id"], f["rule_id"], f["severity"], f["message"], f["guidance"], found_titles(f)):
        title = escape_property(f"{rule_id} ({guidance})")
        text = f"episode {episode_id}: {message}" + (f" ({code_titles})" if code_titles else "")
        out.append(f"::{LEVEL.get(severity, 'warning')} file={source},title={title}::"
                   f"{escape_data(text)}")
    if len(result.rejected):
        out.append(f"::warning file={source},title=rows set aside::"
                   f"{escape_data(f'{len(result.rejected)} rows could not be audited (see the JSON report)')}")
    return out


def write(result: RunResult, output: Path | None) -> None:
    write_text("".join(line + "\n" for line in lines(result)), output)
