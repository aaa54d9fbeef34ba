"""Reading the guidance text file and writing the draft, checked with the engine's own loader."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from audit.errors import InputFileError, UserError


def read_text(path: Path) -> str:
    """The text of a saved guidance page (UTF-8, or Windows-1252 as a browser may save it)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read the guidance text ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def draft_file(path: Path, guidance_id: str | None = None, output: Path | None = None) -> str:
    """Draft the ruleset of the guidance text at ``path``; check that it loads; write it to ``output`` if given."""
    from audit.draft.phrasing import read_guidance
    from audit.draft.writer import draft_yaml
    from audit.rules.loader import load_rule_file

    draft = read_guidance(read_text(path), guidance_id, name=str(path))
    text = draft_yaml(draft, Path(path).name)
    if "\n  - id: " not in text:
        named = ", ".join(dict.fromkeys(c for g in draft.groups for s in g.slots for c in s.codes))
        raise UserError(f"{path}: the text names only {named or 'codes'} and no code that must go with them: "
                        f"nothing to check; nothing written"
                        + ("; it also asks for codes it does not name: write those rules by hand"
                           if any("names no code" in c for c in draft.comments) else ""))
    target = Path(output) if output else None
    folder = target.parent if target else None
    fd, tmp = tempfile.mkstemp(suffix=".yaml", dir=folder if folder and folder.is_dir() else None)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        load_rule_file(Path(tmp))  # a draft the engine cannot load is our bug, never the user's
        if target:
            if not target.parent.is_dir():
                raise UserError(f"{target}: the folder {target.parent} does not exist")
            os.replace(tmp, target)
            tmp = None
    finally:
        if tmp:
            os.unlink(tmp)
    return text
