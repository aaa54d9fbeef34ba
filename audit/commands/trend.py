"""``audit trend``: several runs' JSON results side by side (audit.trend)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["html", "json", "csv"]), default=None,
              help="Output format [default: from the -o extension, else json].")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
def trend(runs: tuple[Path, ...], fmt: str | None, output: Path | None):
    """Several months' runs (JSON results of 'audit run --format json'), oldest first, side by side.

    Per rule and per coder: findings and findings per 1,000 episodes audited in each
    run, and against the run before, the findings new, fixed and persisting (matched
    by rule, episode and codes, as 'audit compare' matches them).
    """
    from audit.trend import trend as trend_of
    from audit.trend.output import WRITERS

    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        fmt = {"htm": "html"}.get(suffix, suffix) if suffix in ("html", "htm", "json", "csv") else "json"
    WRITERS[fmt](trend_of(list(runs)), output)
