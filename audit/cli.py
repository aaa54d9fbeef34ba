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
from audit.config import load_settings
from audit.errors import UserError
from audit.extract import DEFAULT_CHUNK_ROWS
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
reference_option = click.option(
    "--reference", type=click.Path(path_type=Path),
    help="Folder (or file) with your NHS TRUD classification tables: OPCS-4 CodesAndTitles and/or ICD-10 "
         "CodesAndTitlesAndMetadata. Default: [tool.audit] reference. Without them, checks against the "
         "classification are skipped.")


def _reference(path: Path | None, settings: dict):
    """The reference tables from --reference or [tool.audit] reference; None when neither is given."""
    from audit.reference import load_reference

    path = path or settings.get("reference")
    if path is None:
        return None
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise UserError("[tool.audit] reference must be the path of a folder")
    return load_reference(Path(path))


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
@reference_option
@click.option("--option", "option_values", multiple=True, metavar="NAME=VALUE",
              help="Set a local rule option (repeatable), e.g. procurement_codes_collected=true; "
                   "overrides [tool.audit.options].")
def run(extract: Path, rule_paths: tuple[Path, ...], fmt: str, output: Path | None, chunk_size: int,
        reference: Path | None, option_values: tuple[str, ...]):
    """Audit EXTRACT (HES wide layout: EPIKEY, DIAG_nn, OPERTN_nn; CSV or Parquet).

    Exit code 0 when there are no error findings, 1 when there is at least one,
    2 when the extract, rules or options cannot be used.
    """
    from audit.pipeline import run_audit
    from audit.report import write_report

    from audit.rules.options import option_names, resolve_options

    settings = load_settings()
    rules = load_rules(list(rule_paths) or None)
    shipped = option_names(load_rules()) if rule_paths else ()
    options = resolve_options(rules, settings.get("options"), option_values, also_known=shipped)
    result = run_audit(extract, rules, chunk_rows=chunk_size, reference=_reference(reference, settings),
                       options=options)
    write_report(result, fmt, output)
    sys.exit(result.exit_code)


@main.group(cls=_Group)
def rules():
    """List, explain and test the coding rules."""


@rules.command("list")
@rules_option
def rules_list(rule_paths: tuple[Path, ...]):
    """List the rules: id, severity, guidance and title."""
    for rule in load_rules(list(rule_paths) or None):
        click.echo(f"{rule.id:<12} {'/'.join(rule.severities):<14} {rule.source.guidance:<22} {rule.title}"
                   f"{_flags(rule)}")


def _flags(rule: Rule) -> str:
    """When a rule runs, if not always: its local option and the reference tables it needs."""
    flags = []
    if rule.enabled_by:
        flags.append(f"off unless option {rule.enabled_by}")
    if rule.disabled_by:
        flags.append(f"off when option {rule.disabled_by}")
    if rule.reference_kinds:
        flags.append("needs --reference")
    return f"  [{'; '.join(flags)}]" if flags else ""


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
@reference_option
def rules_test(rule_paths: tuple[Path, ...], reference: Path | None):
    """Run every rule's pass/fail examples; exit 1 if any example does not behave as stated.

    Examples of rules that check codes against the classification run only with --reference."""
    results = run_all_examples(load_rules(list(rule_paths) or None), _reference(reference, load_settings()))
    bad = [r for r in results if not r.ok]
    skipped = [r for r in results if r.skipped]
    for r in bad:
        click.echo(f"{r.rule.path}:{r.example.line}: {r.rule.id} example {r.problem}")
    tail = f", {len(skipped)} skipped (need --reference)" if skipped else ""
    click.echo(f"{len(results) - len(bad) - len(skipped)} passed, {len(bad)} failed{tail}")
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
    if rule.enabled_by:
        lines.append(_wrap(f"Off unless the local option {rule.enabled_by} is on ([tool.audit.options] "
                           f"{rule.enabled_by} = true, or --option {rule.enabled_by}=true)."))
    if rule.disabled_by:
        lines.append(_wrap(f"Off when the local option {rule.disabled_by} is on ([tool.audit.options] "
                           f"{rule.disabled_by} = true, or --option {rule.disabled_by}=true)."))
    if rule.reference_kinds:
        lines.append(_wrap("Needs your classification tables (--reference DIR); skipped without them."))
    lines += ["", "Why"]
    cite = ", ".join(x for x in (src.guidance, src.date) if x)
    lines.append(_wrap(f"{src.title} ({cite})" if src.title else cite))
    if src.url:
        lines.append(f"  {src.url}")
    if src.replaces:
        lines.append(_wrap(f"Replaces: {src.replaces}"))
    lines.append(_wrap(f'"{src.text}"'))
    if src.note:
        lines.append(_wrap(f"Note: {src.note}"))
    lines += ["", "Message", _wrap(rule.message), "", "Examples"]
    for e in rule.examples:
        verdict = "fails" if e.expect_fail else "passes"
        if e.expect_fail and e.severity:
            verdict += f" ({e.severity})"
        codes = "; ".join(x for x in (
            f"diagnoses {' '.join(e.diagnoses)}" if e.diagnoses else "",
            f"procedures {' '.join(e.procedures)}" if e.procedures else "",
            f"sex {e.sex}" if e.sex is not None else "", f"age {e.age}" if e.age is not None else "") if x)
        note = f"  [{e.note}]" if e.note else ""
        lines.append(f"  {verdict:<17} {codes}{note}")
    return "\n".join(lines)
