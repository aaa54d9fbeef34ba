"""The ``audit`` command line.

Exit codes: 0 no error findings; 1 at least one error finding; 2 unusable input,
rules or options (one message, no traceback); 3 an internal error (a bug: the
traceback is printed so it can be reported).
"""

from __future__ import annotations

import sys
import textwrap
import traceback
from pathlib import Path

import click

from audit import __version__
from audit.errors import UserError
from audit.extract import DEFAULT_CHUNK_ROWS
from audit.extract.columns import ROLES
from audit.extract.layouts import LAYOUTS
from audit.rules import load_rules
from audit.rules.examples import run_all_examples
from audit.rules.model import Rule

EXIT_INTERNAL = 3


class _Group(click.Group):
    """Turns user errors into one line and exit code 2, and bugs into exit code 3."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception:  # noqa: BLE001 - anything else is a bug in the engine
            click.echo("internal error (please report it with this output):", err=True)
            click.echo(traceback.format_exc(), err=True)
            ctx.exit(EXIT_INTERNAL)


rules_option = click.option(
    "--rules", "rule_paths", multiple=True, type=click.Path(path_type=Path),
    help="Rule file or folder (repeatable). Default: the shipped rulesets. Built-in data checks always run.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audit")
def main():
    """Audit coded NHS episodes (ICD-10, OPCS-4) against declarative coding rules."""


@main.command()
@click.argument("extract", type=click.Path(path_type=Path))
@rules_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_ROWS, show_default=True,
              help="Episodes per chunk: memory is bounded by this, not by the file size.")
@click.option("--layout", type=click.Choice(LAYOUTS), default=None,
              help="Where the codes are: wide (DIAG_01..), long (one row per code) or concatenated "
                   "(DIAG_ALL). Default: detected from the columns.")
@click.option("--column", "column_items", multiple=True, metavar="ROLE=NAME",
              help="The extract's column for a role (repeatable), e.g. episode_id=EPISODE_NO; roles: "
                   + ", ".join(ROLES) + ".")
@click.option("--encoding", default=None, help="CSV text encoding (default: UTF-8, or Windows-1252 when the "
                                               "file is not UTF-8).")
@click.option("--delimiter", default=None, help="CSV delimiter: a character, or tab, comma, pipe, semicolon "
                                                "(default: detected from the header).")
@click.option("--sheet", default=None, help="Excel sheet name or number (default: the first sheet).")
@click.option("--separator", default=None,
              help="Separator between codes in a concatenated field (default: detected).")
@click.option("--strict", is_flag=True,
              help="Exit 2, without a report, if any row had to be set aside (--rejects still lists them).")
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the rows set aside (line, episode_id, reason) to this CSV file.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Settings file (audit.toml, or a pyproject.toml with [tool.audit]); default: "
                   "./audit.toml or ./pyproject.toml.")
def run(extract: Path, rule_paths: tuple[Path, ...], fmt: str, output: Path | None, chunk_size: int,
        layout: str | None, column_items: tuple[str, ...], encoding: str | None, delimiter: str | None,
        sheet: str | None, separator: str | None, strict: bool, rejects_path: Path | None,
        config_path: Path | None):
    """Audit EXTRACT: CSV (also gzip), Parquet or Excel .xlsx; wide, long or concatenated layout.

    Exit code 0 when there are no error findings, 1 when there is at least one,
    2 when the extract, rules or options cannot be used (or, with --strict, when
    a row was set aside).
    """
    from audit.config import load_settings
    from audit.errors import InputFileError
    from audit.extract.columns import parse_column_options, settings_columns
    from audit.pipeline import run_audit
    from audit.report import write_report
    from audit.report.rejects import write_rejects

    settings = load_settings(path=config_path)
    options = _extract_settings(settings)
    columns = {**settings_columns(settings), **parse_column_options(column_items)}
    given = {"layout": layout, "encoding": encoding, "delimiter": delimiter, "sheet": sheet,
             "separator": separator}
    options.update({k: v for k, v in given.items() if v is not None})
    rules = load_rules(list(rule_paths) or None)
    result = run_audit(extract, rules, chunk_rows=chunk_size, columns=columns, **options)
    if rejects_path is not None:
        write_rejects(result, rejects_path)
    if strict and result.episodes_rejected:
        first = result.rejected.iloc[0]
        n = result.episodes_rejected
        raise InputFileError(extract, f"{n} row{'s' if n != 1 else ''} set aside (--strict); first: line "
                                      f"{first['line']}: {first['reason']}")
    write_report(result, fmt, output)
    if result.episodes_audited == 0:
        first = result.rejected.iloc[0]
        raise InputFileError(extract, f"no episode could be audited: all {result.episodes_read} rows were set "
                                      f"aside; first: line {first['line']}: {first['reason']}")
    sys.exit(result.exit_code)


_EXTRACT_SETTINGS = ("layout", "encoding", "delimiter", "sheet", "separator")


def _extract_settings(settings: dict) -> dict:
    """``[tool.audit.extract]``: defaults for --layout, --encoding, --delimiter, --sheet, --separator."""
    table = settings.get("extract", {})
    if not isinstance(table, dict):
        raise UserError("[tool.audit.extract] must be a table")
    unknown = sorted(set(table) - set(_EXTRACT_SETTINGS))
    if unknown:
        raise UserError(f"[tool.audit.extract]: unknown setting {unknown[0]!r} "
                        f"(settings: {', '.join(_EXTRACT_SETTINGS)})")
    if "layout" in table and table["layout"] not in LAYOUTS:
        raise UserError(f"[tool.audit.extract] layout: {table['layout']!r} is not one of "
                        f"{', '.join(LAYOUTS)}")
    return {k: str(v) for k, v in table.items()}


@main.group(cls=_Group)
def rules():
    """List, explain and test the coding rules."""


@rules.command("list")
@rules_option
def rules_list(rule_paths: tuple[Path, ...]):
    """List the rules: id, severity, guidance and title."""
    for rule in load_rules(list(rule_paths) or None):
        click.echo(f"{rule.id:<12} {'/'.join(rule.severities):<14} {rule.source.guidance:<22} {rule.title}")


@rules.command("show")
@click.argument("rule_id")
@rules_option
def rules_show(rule_id: str, rule_paths: tuple[Path, ...]):
    """Explain rule RULE_ID: what it checks, why, its source and its examples."""
    rule = load_rules(list(rule_paths) or None).get(rule_id)
    if rule is None:
        raise UserError(f"no rule {rule_id!r} (see 'audit rules list')")
    click.echo(describe_rule(rule))


@rules.command("test")
@rules_option
def rules_test(rule_paths: tuple[Path, ...]):
    """Run every rule's pass/fail examples; exit 1 if any example does not behave as stated."""
    results = run_all_examples(load_rules(list(rule_paths) or None))
    bad = [r for r in results if not r.ok]
    for r in bad:
        click.echo(f"{r.rule.path}:{r.example.line}: {r.rule.id} example {r.problem}")
    click.echo(f"{len(results) - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


def _unparen(text: str) -> str:
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _where(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def describe_rule(rule: Rule) -> str:
    """The rule as documentation, in the manner of ruff's rule pages."""
    src = rule.source
    lines = [f"{rule.id}: {rule.title}", "",
             f"Severity: {'/'.join(rule.severities)}    Ruleset: {rule.ruleset}    Defined at: {_where(rule.path)}:{rule.line}",
             "", "What it checks"]
    if rule.description:
        lines.append(_wrap(rule.description))
    lines.append(_wrap(f"Applies to: {_unparen(rule.when.describe()) if rule.when else 'every episode'}."))
    lines.append(_wrap(f"Requires: {_unparen(rule.require.describe())}."))
    lines.append(_wrap(f"Expected: {rule.expected}."))
    for v in rule.variants:
        lines.append(_wrap(f"When {v.when.describe()}: severity {v.severity}."))
    if rule.effective_from or rule.effective_to:
        lines.append(_wrap(f"Effective for episodes ending {rule.effective_from or 'any time'} to "
                           f"{rule.effective_to or 'now'} (by episode end date)."))
    lines += ["", "Why"]
    cite = ", ".join(x for x in (src.guidance, src.date) if x)
    lines.append(_wrap(f"{src.title} ({cite})" if src.title else cite))
    if src.url:
        lines.append(f"  {src.url}")
    if src.replaces:
        lines.append(_wrap(f"Replaces: {src.replaces}"))
    lines.append(_wrap(f'"{src.text}"'))
    lines += ["", "Message", _wrap(rule.message), "", "Examples"]
    for e in rule.examples:
        verdict = "fails" if e.expect_fail else "passes"
        if e.expect_fail and e.severity:
            verdict += f" ({e.severity})"
        codes = "; ".join(x for x in (
            f"diagnoses {' '.join(e.diagnoses)}" if e.diagnoses else "",
            f"procedures {' '.join(e.procedures)}" if e.procedures else "") if x)
        note = f"  [{e.note}]" if e.note else ""
        lines.append(f"  {verdict:<17} {codes}{note}")
    return "\n".join(lines)
