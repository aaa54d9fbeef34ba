"""The ``audit`` command line.

Exit codes: 0 no error findings; 1 at least one error finding; 2 unusable input,
rules or options (one message, no traceback); 3 an internal error (a bug: the
traceback is printed so it can be reported).
"""

from __future__ import annotations

import os
import sys
import textwrap
import traceback
from pathlib import Path

import click

from audit import __version__
from audit.allocator import keep_freed_memory
from audit.config import load_settings, where
from audit.errors import InputFileError, UserError
from audit.extract import DEFAULT_CHUNK_ROWS
from audit.extract.columns import LAYOUTS, ROLES
from audit.extract.database import database_source
from audit.report.database import findings_table_option, write_findings_table
from audit.redact import KEY_ENV
from audit.report.targets import FORMAT_NAMES
from audit.rules import load_rules
from audit.rules.attributes import LABELS
from audit.rules.conditions import unparen
from audit.rules.model import Rule
from audit.selection import FAIL_ON, apply_settings, parse_severity_options, resolve_settings, rule_statuses
from audit.spark.options import spark_options

EXIT_INTERNAL = 3
EXIT_BROKEN_PIPE = 141  # as a shell reports a command ended by SIGPIPE


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
        except BrokenPipeError:  # `audit rules list | head`: the reader stopped reading; not a bug
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception:  # noqa: BLE001 - anything else is a bug in the engine
            click.echo("internal error (please report it with this output):", err=True)
            click.echo(traceback.format_exc(), err=True)
            ctx.exit(EXIT_INTERNAL)


_EXTEND = "audit.extend_rules"  # ctx.meta key: the --extend-rules paths


def _remember_extend(ctx: click.Context, _param, value):
    ctx.meta[_EXTEND] = tuple(value or ())


def rules_option(f):
    """--rules (instead of the shipped rulesets) and --extend-rules (as well as them)."""
    f = click.option("--extend-rules", multiple=True, type=click.Path(path_type=Path), expose_value=False,
                     callback=_remember_extend,
                     help="Rule file or folder to add to the shipped rulesets (repeatable); also extend-rules "
                          "= [...] in the settings.")(f)
    return click.option(
        "--rules", "rule_paths", multiple=True, type=click.Path(path_type=Path),
        help="Rule file or folder (repeatable), instead of the shipped rulesets. Built-in data checks always "
             "run.")(f)


def load_run_rules(rule_paths: tuple[Path, ...], settings: dict | None = None):
    """The rules a command runs: --rules (else the shipped rulesets), plus --extend-rules and the settings'
    extend-rules (paths relative to the settings file)."""
    return load_rules(run_rule_paths(rule_paths, settings) or None)


def run_rule_paths(rule_paths: tuple[Path, ...], settings: dict | None = None) -> list[Path]:
    """The rule files and folders of ``load_run_rules`` (empty: the shipped rulesets)."""
    from audit.config import where
    from audit.rules import shipped_rules_dir

    settings = settings if settings is not None else {}
    configured = settings.get("extend-rules", settings.get("extend_rules", []))
    if isinstance(configured, str):
        configured = [configured]
    if not isinstance(configured, list) or not all(isinstance(p, str) for p in configured):
        raise UserError(f"{where(settings)} extend-rules must be a list of rule files or folders")
    base = getattr(settings, "path", None)
    folder = base.parent if base is not None else Path.cwd()
    extend = [folder / p for p in configured]
    ctx = click.get_current_context(silent=True)
    extend += list(ctx.meta.get(_EXTEND, ())) if ctx is not None else []
    paths = list(rule_paths) or ([shipped_rules_dir()] if extend else [])
    return paths + extend


reference_option = click.option(
    "--reference", type=click.Path(path_type=Path),
    help="Folder (or file) with your NHS TRUD classification tables: OPCS-4 CodesAndTitles and/or ICD-10 "
         "CodesAndTitlesAndMetadata. Default: [tool.audit] reference. Without them, checks against the "
         "classification are skipped.")
option_values_option = click.option(
    "--option", "option_values", multiple=True, metavar="NAME=VALUE",
    help="Set a local rule option (repeatable), e.g. procurement_codes_collected=true; "
         "overrides [tool.audit.options].")


def audit_inputs(f):
    """The options that decide what an audit checks: reference tables and local rule options."""
    return reference_option(option_values_option(f))


def _reference(path: Path | None, settings: dict):
    """The reference tables from --reference or [tool.audit] reference; None when neither is given."""
    from audit.reference import load_reference

    path = path or settings.get("reference")
    if path is None:
        return None
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise UserError("[tool.audit] reference must be the path of a folder")
    return load_reference(Path(path))


def _stacked(options: list):
    """A decorator applying click ``options`` in the order listed (as they show in --help)."""
    def apply(f):
        for option in reversed(options):
            f = option(f)
        return f
    return apply


selection_options = _stacked([
    click.option("--select", multiple=True, metavar="RULES",
                 help="Only these rule ids or prefixes (comma-separated or repeated; ALL for every rule)."),
    click.option("--ignore", multiple=True, metavar="RULES", help="Not these rule ids or prefixes."),
    click.option("--severity", "severity_overrides", multiple=True, metavar="RULE=SEVERITY",
                 help="Set the severity of a rule or prefix: IPG406-02=warning (repeatable)."),
])  # --select / --ignore / --severity: which rules run and how severe; override [tool.audit]


def redact_options(f):
    """--redact / --redact-key: keyed pseudonyms instead of episode ids in every output."""
    f = click.option("--redact-key", envvar=KEY_ENV, metavar="KEY",
                     help=f"The key for --redact (or set {KEY_ENV}); the same key gives the same pseudonyms.")(f)
    return click.option("--redact", is_flag=True,
                        help="Replace episode ids with keyed pseudonyms (HMAC-SHA256) in every output.")(f)


def _settings(raw: dict, select, ignore, severity_overrides, fail_on=None, max_findings=None):
    return resolve_settings(raw, select=select, ignore=ignore,
                            severity=parse_severity_options(severity_overrides), fail_on=fail_on,
                            max_findings=max_findings)


def _audit(extract: Path, rule_paths: tuple[Path, ...], settings, chunk_size: int, redact_key: str | None,
           reference: Path | None, option_values: tuple[str, ...], raw: dict, inputs: dict):
    """Load and select the rules, run the audit (with a progress bar on a terminal), deal with rows set
    aside, redact when asked."""
    from audit.extract.columns import parse_column_options, settings_columns
    from audit.extract.reader import READ_SETTINGS, settings_read_options
    from audit.pipeline import run_audit
    from audit.spark.options import runner
    from audit.progress import progress_reporter
    from audit.redact import redact_result
    from audit.report.about import run_context
    from audit.report.rejects import write_rejects
    from audit.rules.options import option_names, resolve_options

    loaded = load_run_rules(rule_paths, raw)
    # Options are checked against every loaded rule (and the shipped ones), not only those --select kept:
    # settings that turn on an option of a rule left out of this run are still valid.
    shipped = option_names(load_rules()) if rule_paths else []
    options = resolve_options(loaded, raw.get("options"), option_values, also_known=shipped,
                              options_where=where(raw, "options"))
    rules = apply_settings(loaded, settings)
    read_options = {**settings_read_options(raw),
                    **{k: inputs[k] for k in READ_SETTINGS if inputs[k] is not None}}
    columns = {**settings_columns(raw), **parse_column_options(inputs["column_items"])}
    keep_freed_memory()  # chunk after chunk: freed arrays reused
    run_audit = runner(inputs, run_audit)  # --engine spark: audit.spark's, with the same arguments
    with progress_reporter(extract) as progress:
        result = run_audit(extract, rules, chunk_rows=chunk_size, reference=_reference(reference, raw),
                           options=options, progress=progress, columns=columns, workers=inputs["workers"],
                           **read_options)
    result.about = run_context(raw, options)  # title, organisation, settings for the reports (audit.report.about)
    if redact_key is not None:
        redact_result(result, redact_key)
    if inputs["rejects_path"] is not None:
        write_rejects(result, inputs["rejects_path"])
    if inputs["strict"] and result.episodes_rejected:
        n = result.episodes_rejected
        raise InputFileError(extract, f"{n} row{'s' if n != 1 else ''} set aside (--strict); first: "
                                      f"{_first_reject(result)}")
    return result


def _say_done(result, targets) -> None:
    """When reports go to files, on standard error: the reconciliation and counts (unless the table report
    printed them to standard output too), then a line per report written."""
    from audit.report.table import counts_line

    if not any(t.output is not None for t in targets):
        return  # the report on standard output is what the user reads
    if not any(t.format == "table" and t.output is None for t in targets):
        click.echo(f"{result.source}: {result.reconciliation()}", err=True)
        click.echo(counts_line(result.summary()), err=True)
    for t in targets:
        if t.output is not None:
            click.echo(f"wrote the {t.format} report to {t.output}", err=True)


def _first_reject(result) -> str:
    first = result.rejected.iloc[0]
    return f"line {first['line']}: {first['reason']}"


def _fail_if_nothing_audited(extract: Path, result) -> None:
    """Exit 2 when every row was set aside (after the reports, which list why)."""
    if result.episodes_audited == 0 and result.episodes_rejected:
        raise InputFileError(extract, f"no episode could be audited: all {result.episodes_read} rows were set "
                                      f"aside; first: {_first_reject(result)}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audit")
def main():
    """Audit coded NHS episodes (ICD-10, OPCS-4) against declarative coding rules."""


config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Settings file (audit.toml, or a pyproject.toml with [tool.audit]); default: ./audit.toml or "
         "./pyproject.toml.")

# How to read the extract: layout, column mapping, encoding, ...; what to do with bad rows; workers, config.
extract_options = _stacked([
    click.option("--layout", type=click.Choice(LAYOUTS), default=None,
                 help="Where the codes are: wide (DIAG_01..), long (one row per code) or concatenated "
                      "(DIAG_ALL). Default: detected from the columns."),
    click.option("--column", "column_items", multiple=True, metavar="ROLE=NAME",
                 help="The extract's column for a role (repeatable), e.g. episode_id=EPISODE_NO; roles: "
                     + ", ".join(ROLES) + "."),
    click.option("--encoding", default=None, help="CSV text encoding (default: UTF-8, or Windows-1252 when the "
                                                 "file is not UTF-8)."),
    click.option("--delimiter", default=None, help="CSV delimiter: a character, or tab, comma, pipe, semicolon "
                                                  "(default: detected from the header)."),
    click.option("--sheet", default=None, help="Excel sheet name or number (default: the first sheet)."),
    click.option("--separator", default=None,
                 help="Separator between codes in a concatenated field (default: detected)."),
    click.option("--strict", is_flag=True,
                 help="Exit 2, without a report, if any row had to be set aside (--rejects still lists them)."),
    click.option("--rejects", "rejects_path", type=click.Path(path_type=Path, dir_okay=False),
                 help="Write the rows set aside (line, episode_id, reason) to this CSV file."),
    click.option("--workers", type=click.IntRange(min=0), default=1, show_default=True,
                 help="Threads that evaluate chunks while the next ones are read (0: evaluate each as it is "
                      "read). Findings are the same either way."),
    config_option,
])


@main.command()
@database_source("extract")
@click.argument("extract", type=click.Path(path_type=Path))
@rules_option
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMAT_NAMES),
              help="Report format (repeatable; paired in order with --output). Default: table.")
@click.option("--output", "-o", "outputs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Report file (repeatable; '-' is standard output). Alone, its extension gives the format.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_ROWS, show_default=True,
              help="Episodes per chunk: memory is bounded by this, not by the file size.")
@audit_inputs
@extract_options
@spark_options
@selection_options
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="Lowest severity that fails the run (exit 1). Default: error, or fail-on in [tool.audit].")
@click.option("--max-findings", type=click.IntRange(min=0), default=None, metavar="N",
              help="Fail only when more than N findings are at or above --fail-on. Default: 0.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings would fail the run.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Report and gate only findings not in this baseline ('audit baseline create').")
@redact_options
@findings_table_option
@click.option("--quiet", "-q", is_flag=True,
              help="No summary and no 'wrote ...' lines on standard error (errors are still shown).")
def run(extract: Path, rule_paths: tuple[Path, ...], formats: tuple[str, ...], outputs: tuple[Path, ...],
        chunk_size: int, reference: Path | None, option_values: tuple[str, ...], select, ignore,
        severity_overrides, fail_on, max_findings, exit_zero: bool, statistics: bool, baseline_path: Path | None,
        redact: bool, redact_key: str | None, quiet: bool, **inputs):
    """Audit EXTRACT: CSV (also gzip), Parquet or Excel .xlsx, or a database URL with --table or --query;
    wide, long or concatenated layout.

    Exit code 0 when no findings fail the run (by default: no error findings), 1 when
    some do, 2 when the extract, rules or options cannot be used (or, with --strict,
    when a row was set aside).

    Formats and files pair in order (--format csv -o a.csv --format html -o r.html);
    files alone take their format from the extension (-o r.html -o r.sarif).
    """
    from audit import baseline
    from audit.redact import require_key
    from audit.report.statistics import write as write_statistics
    from audit.report.targets import resolve_targets
    from audit.selection import exit_code

    raw = load_settings(path=inputs["config_path"])
    settings = _settings(raw, select, ignore, severity_overrides, fail_on, max_findings)
    targets = [] if statistics and not formats and not outputs else resolve_targets(formats, outputs)
    if statistics and any(t.output is None for t in targets):
        raise UserError("--statistics prints to standard output: give the report an --output file")
    key = require_key(redact_key) if redact else None
    accepted = baseline.load(baseline_path) if baseline_path is not None else None
    result = _audit(extract, rule_paths, settings, chunk_size, key, reference, option_values, raw, inputs)
    if accepted is not None:
        baseline.apply(result, accepted, baseline_path)
    targets, failed = _write_reports(result, targets)
    if statistics:
        write_statistics(result, None)
    write_findings_table(result, inputs["findings_table"], quiet)
    if not quiet:
        _say_done(result, targets)
    if failed is not None:
        raise failed
    _fail_if_nothing_audited(extract, result)
    sys.exit(exit_code(result.all_findings.tally(), settings, exit_zero))


def _write_reports(result, targets) -> tuple[list, Exception | None]:
    """Every report asked for: one that fails does not stop the others. Returns the targets written and the
    failure to end the run with (a ``UserError``, or an ``InternalReportError`` for a bug in a writer); all
    failures but that one are said here."""
    from audit.report import write_report

    written, failures = [], []
    for target in targets:
        try:
            write_report(result, target.format, target.output)
            written.append(target)
        except UserError as exc:
            failures.append(exc)
        except BrokenPipeError:
            raise
        except Exception:  # noqa: BLE001 - a bug in one writer: the others still write theirs
            click.echo(f"internal error writing the {target.format} report (please report it with this output):",
                       err=True)
            click.echo(traceback.format_exc(), err=True)
            failures.append(InternalReportError(target.format))
    for exc in failures[:-1]:
        click.echo(f"error: {exc}", err=True)
    return written, (failures[-1] if failures else None)


class InternalReportError(UserError):
    """A writer's bug: said with its traceback when it happened; the run ends with exit code 3."""

    exit_code = EXIT_INTERNAL

    def __init__(self, fmt: str):
        super().__init__(f"the {fmt} report was not written (internal error above)")


@main.group()
def baseline():
    """Accept today's findings, so that a run reports and gates only new ones."""


@baseline.command("create")
@database_source("extract")
@click.argument("extract", type=click.Path(path_type=Path))
@rules_option
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default="audit-baseline.json",
              show_default=True, help="Baseline file to write (reasons already in it are kept).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_ROWS, show_default=True,
              help="Episodes per chunk.")
@audit_inputs
@extract_options
@selection_options
@redact_options
def baseline_create(extract: Path, rule_paths: tuple[Path, ...], output: Path, chunk_size: int,
                    reference: Path | None, option_values: tuple[str, ...], select, ignore, severity_overrides,
                    redact: bool, redact_key: str | None, **inputs):
    """Write every finding of EXTRACT to a baseline file, each with a 'reason' to fill in.

    Then 'audit run EXTRACT --baseline FILE' reports and gates only findings that are
    not in it, and lists baseline entries that no longer occur. Existing reasons are
    kept when the file is written again.
    """
    from audit import baseline as baseline_file
    from audit.redact import require_key

    raw = load_settings(path=inputs["config_path"])
    settings = _settings(raw, select, ignore, severity_overrides)
    key = require_key(redact_key) if redact else None
    previous = baseline_file.load(output) if output.exists() else None
    result = _audit(extract, rule_paths, settings, chunk_size, key, reference, option_values, raw, inputs)
    _fail_if_nothing_audited(extract, result)
    written = baseline_file.save(result, previous, output)
    kept = written.reasons_kept()
    click.echo(f"wrote {len(written)} baseline entries to {output}"
               + (f" (kept {kept} reasons)" if kept else ""), err=True)


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
def compare(old: Path, new: Path, fmt: str, output: Path | None):
    """Compare two runs (JSON results of 'audit run --format json'), OLD then NEW.

    Per rule: findings new in NEW, fixed since OLD and persisting (matched by rule,
    episode and codes), and findings per 1,000 episodes audited in each run.
    """
    from audit.compare import WRITERS, load_result
    from audit.compare import compare as compare_runs

    WRITERS[fmt](compare_runs(load_result(old), load_result(new)), output)


@main.group()
def rules():
    """List, explain and test the coding rules."""


@rules.command("list")
@rules_option
@selection_options
@option_values_option
@config_option
def rules_list(rule_paths: tuple[Path, ...], select, ignore, severity_overrides, option_values: tuple[str, ...],
               config_path: Path | None):
    """List the rules: id, status (after select/ignore and local options), severity, guidance, title and when
    it runs."""
    from audit.rules.options import option_names, resolve_options

    raw = load_settings(path=config_path)
    settings = _settings(raw, select, ignore, severity_overrides)
    loaded = load_run_rules(rule_paths, raw)
    shipped = option_names(load_rules()) if rule_paths else []
    options = resolve_options(loaded, raw.get("options"), option_values, also_known=shipped,
                              options_where=where(raw, "options"))
    statuses = rule_statuses(loaded, settings)
    width = max([len("ID"), *(len(st.rule.id) for st in statuses)])
    click.echo(f"{'ID':<{width}} {'STATUS':<8} {'SEVERITY':<14} {'GUIDANCE':<22} TITLE")
    for st in statuses:
        rule = st.rule
        severity = f"{st.severity} (set)" if st.severity else "/".join(rule.severities)
        status = _status(st, options)
        click.echo(f"{rule.id:<{width}} {status:<8} {severity:<14} {rule.source.guidance:<22} {rule.title}"
                   f"{_flags(rule)}")
    counts = {s: sum(1 for st in statuses if _status(st, options) == s) for s in ("active", "option", "off")}
    click.echo(f"{len(statuses)} rules: {counts['active']} active, {counts['option']} off by local options, "
               f"{counts['off']} not selected", err=True)


def _status(st, options: dict) -> str:
    return "off" if not st.active else "option" if not st.rule.active(options) else "active"


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
    """Explain RULE_ID (or every rule whose id starts with it, e.g. IPG327): what it checks, why, its source
    and its examples."""
    loaded = load_run_rules(rule_paths, load_settings())
    rule = loaded.get(rule_id)
    matched = [rule] if rule is not None else [r for r in loaded if r.id.upper().startswith(rule_id.upper())]
    if not matched:
        raise UserError(f"no rule {rule_id!r} and no rule id starting with it (see 'audit rules list')")
    click.echo(("\n\n" + "-" * 100 + "\n\n").join(describe_rule(r, loaded) for r in matched))


@rules.command("test")
@rules_option
@reference_option
@config_option
@click.option("--verbose", "-v", is_flag=True, help="List every example with its verdict.")
def rules_test(rule_paths: tuple[Path, ...], reference: Path | None, config_path: Path | None, verbose: bool):
    """Run the rules' pass/fail examples; exit 1 if any example does not behave as stated.

    With --rules, only the examples of those files run (not the built-in data checks'). Examples of rules that
    check codes against the classification run only with --reference (or the reference folder of the settings
    file)."""
    from audit.rules.loader import builtin_rules_dir

    settings = load_settings(path=config_path)
    loaded = load_run_rules(rule_paths, settings)
    if rule_paths:
        builtin = builtin_rules_dir().resolve()
        loaded = type(loaded)([r for r in loaded if builtin not in Path(r.path).resolve().parents])
    from audit.rules.examples import run_all_examples  # here: pandas, only for this command

    results = run_all_examples(loaded, _reference(reference, settings))
    bad = [r for r in results if not r.ok]
    skipped = [r for r in results if r.skipped]
    for r in results if verbose else bad:
        verdict = "skipped" if r.skipped else "ok" if r.ok else r.problem
        kind = "fail" if r.example.expect_fail else "pass"
        click.echo(f"{_where(r.rule.path)}:{r.example.line}: {r.rule.id} {kind} example: {verdict}")
    tail = f", {len(skipped)} skipped (need --reference)" if skipped else ""
    click.echo(f"{len(results) - len(bad) - len(skipped)} passed, {len(bad)} failed{tail}")
    sys.exit(1 if bad else 0)


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent, subsequent_indent=indent)


def _where(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def describe_rule(rule: Rule, rules=()) -> str:
    """The rule as documentation, in the manner of ruff's rule pages (``rules``: the others of the run, for the
    ones this rule gives way to)."""
    from audit.rules.precedence import linked_rules
    src = rule.source
    lines = [f"{rule.id}: {rule.title}", "",
             f"Severity: {'/'.join(rule.severities)}    Ruleset: {rule.ruleset}    Defined at: {_where(rule.path)}:{rule.line}",
             "", "What it checks"]
    if rule.description:
        lines.append(_wrap(rule.description))
    lines.append(_wrap(f"Applies to: {unparen(rule.when.describe()) if rule.when else 'every episode'}."))
    lines.append(_wrap(f"Requires: {unparen(rule.require.describe())}."))
    lines.append(_wrap(f"Expected: {rule.expected}."))
    from audit.rules.tables import describe_tables  # a table rule: its table and rows

    lines += [f"  {line}" for line in describe_tables(rule, _where)]
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
    gives_way = sorted({*rule.unless_rule, *(r.id for r in linked_rules(rule, rules))})
    if gives_way:
        lines.append(_wrap(f"Gives way to {', '.join(gives_way)}: no finding on an episode where "
                           f"{'it has' if len(gives_way) == 1 else 'they have'} one."))
    if rule.supersedes:
        lines.append(_wrap(f"Supersedes {', '.join(rule.supersedes)}: where this rule has a finding, "
                           f"{'that rule has' if len(rule.supersedes) == 1 else 'those rules have'} none."))
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
            *(f"{label} {getattr(e, key)}" for key, label in LABELS.items() if getattr(e, key) is not None))
            if x)
        note = f"  [{e.note}]" if e.note else ""
        lines.append(f"  {verdict:<17} {codes}{note}")
    return "\n".join(lines)


from audit.commands.rules_lint import rules_lint  # noqa: E402 - registered here, defined in its own module

rules.add_command(rules_lint)

from audit.commands.rules_draft import rules_draft  # noqa: E402 - audit rules draft (audit.draft)

rules.add_command(rules_draft)

from audit.audit_workflow.commands import sample, score  # noqa: E402 - the coding audit's own commands

main.add_command(sample)
main.add_command(score)

from audit.commands.trend import trend  # noqa: E402 - audit trend (audit.trend)

main.add_command(trend)
