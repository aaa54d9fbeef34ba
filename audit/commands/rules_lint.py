"""``audit rules lint``: check the rule files themselves (``audit.rules.lint``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from audit.cli import config_option, reference_option, rules_option


@click.command("lint")
@rules_option
@reference_option
@config_option
def rules_lint(rule_paths: tuple[Path, ...], reference: Path | None, config_path: Path | None):
    """Check the rule files: codes well formed and (with --reference) in the classification, codes repeated in
    a pattern, precedence naming rules that exist, two rules firing on the same defect. Exit 1 on any problem,
    0 when clean; each problem as file:line."""
    from audit.cli import _reference, _where, run_rule_paths
    from audit.config import load_settings
    from audit.rules.lint import lint_files
    from audit.rules.loader import builtin_rules_dir, load_rules, rule_files, shipped_rules_dir

    settings = load_settings(path=config_path)
    paths = run_rule_paths(rule_paths, settings) or [builtin_rules_dir(), shipped_rules_dir()]
    files = list(dict.fromkeys(f.resolve() for p in paths for f in rule_files(Path(p))))
    known = {r.id for r in load_rules()} if rule_paths else set()  # precedence may name a shipped rule
    problems = lint_files(files, _reference(reference, settings), known)
    for p in problems:
        click.echo(p.show(_where))
    n = len(problems)
    click.echo(f"{len(files)} rule file{'s' * (len(files) != 1)}: "
               + (f"{n} problem{'s' * (n != 1)}" if n else "no problems"), err=True)
    sys.exit(1 if problems else 0)
