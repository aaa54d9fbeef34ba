"""The terminal summary: reconciliation, findings per rule, then the findings themselves."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from audit.engine import TITLES
from audit.pipeline import RunResult
from audit.report.output import write_console

SHOW_FINDINGS = 50
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def write(result: RunResult, output: Path | None) -> None:
    write_console(lambda console: _print(result, console), output)


def _print(result: RunResult, console: Console) -> None:
    s = result.summary()
    console.print(f"[bold]{escape(s['source'])}[/]: {result.reconciliation()}; {plural(s['rules'], 'rule')}")
    for note in s["notes"]:
        console.print(f"note: {escape(note)}")
    if s.get("redacted"):
        console.print("episode ids are redacted (keyed pseudonyms)")
    if "baseline" in s:
        b = s["baseline"]
        console.print(f"baseline {escape(b['file'])}: {b['matched']} accepted findings not shown, {b['new']} new; "
                      f"{b['stale']} baseline entries no longer occur")
        for e in b["stale_entries"][:10]:
            console.print(f"  no longer found: {escape(e['rule_id'])} episode {escape(e['episode_id'])} "
                          f"({escape(e['found'])})", style="dim")
        if b["stale"] > 10:
            console.print(f"  ... and {b['stale'] - 10} more (use --format json for all)", style="dim")

    per_rule = Table(title="Findings per rule", title_justify="left")
    for col, justify in (("Rule", "left"), ("Severity", "left"), ("Findings", "right"),
                         ("Episodes", "right"), ("Title", "left")):
        per_rule.add_column(col, justify=justify)
    # Only the rules that found something: a run of the shipped rules holds some 250, most quiet on a month.
    by_rule = result.by_rule()
    found = by_rule[by_rule["findings"] > 0]
    for row in found.itertuples():
        per_rule.add_row(escape(row.rule_id), row.severity, str(row.findings), str(row.episodes),
                         escape(row.title), style=_STYLE.get(row.severity, ""))
    if len(found):
        console.print(per_rule)
    quiet = int((by_rule.groupby("rule_id")["findings"].sum() == 0).sum())
    if quiet:
        console.print(f"{plural(quiet, 'rule')} found nothing" + (" else" if len(found) else "") +
                      " (every rule's count: --format json, csv or html)", style="dim")

    if s["findings"]:
        shown = result.all_findings.head(SHOW_FINDINGS)
        findings = Table(title="Findings", title_justify="left")
        titles = TITLES in shown.columns  # with --reference: the codes with their titles
        for col in ("Episode", "Rule", "Severity", "Message", *(["Codes"] if titles else [])):
            findings.add_column(col, overflow="fold")
        for row in shown.itertuples():
            extra = [escape(str(getattr(row, TITLES)))] if titles else []
            findings.add_row(escape(str(row.episode_id)), escape(row.rule_id), row.severity,
                             escape(str(row.message)), *extra, style=_STYLE.get(row.severity, ""))
        console.print(findings)
        if s["findings"] > SHOW_FINDINGS:
            console.print(f"... and {s['findings'] - SHOW_FINDINGS} more findings "
                          "(use --format csv or json for all of them)")
    if len(result.rejected):
        console.print(f"{plural(len(result.rejected), 'row')} set aside (use --format json for lines and reasons); "
                      f"first: line {result.rejected['line'].iloc[0]}: "
                      f"{escape(str(result.rejected['reason'].iloc[0]))}")
    if result.episodes_uncoded:
        shown = ", ".join(escape(str(i)) for i in result.uncoded["episode_id"].head(10))
        more = f" and {result.episodes_uncoded - 10:,} more" if result.episodes_uncoded > 10 else ""
        console.print(f"{plural(result.episodes_uncoded, 'episode')} uncoded, not audited: {shown}{more}")
    console.print(f"[bold]{counts_line(s)}[/]")


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``, ``1,000 episodes``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def counts_line(s: dict) -> str:
    """``49 errors, 4 warnings, 2 info in 48 episodes`` from a run's summary."""
    return (f"{plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}, {s['info']:,} info "
            f"in {plural(s['episodes_with_findings'], 'episode')}")
