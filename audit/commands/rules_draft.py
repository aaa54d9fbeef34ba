"""``audit rules draft``: draft a ruleset from the text of a NICE guidance page (``audit.draft``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("draft")
@click.argument("guidance_text", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the draft ruleset to this YAML file (default: print it).")
@click.option("--id", "guidance_id", default=None, metavar="IPGNNN",
              help="The guidance id, when the text does not give its address (e.g. IPG327, HTG532).")
def rules_draft(guidance_text: Path, output: Path | None, guidance_id: str | None):
    """Draft a ruleset from GUIDANCE_TEXT, the saved text of a NICE guidance page (either layout: "OPCS4.6
    Code(s)" or "Coding recommendations"). Review its CHECK comments and the strength of each rule, then run
    `audit rules test --rules FILE`. A text that names no code writes nothing and exits 2."""
    from audit.draft.files import draft_file

    text = draft_file(guidance_text, guidance_id, output)
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"{output}: drafted from {guidance_text}; review its CHECK comments, then run "
                   f"'audit rules test --rules {output}'", err=True)
