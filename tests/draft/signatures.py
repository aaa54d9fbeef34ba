"""What a rule checks, as codes and strength: to compare a drafted ruleset with a hand-written one."""

from __future__ import annotations

from pathlib import Path

import yaml

_CODE_KEYS = {"diagnosis", "procedure", "every_diagnosis", "every_procedure", "main", "contains", "must_contain",
              "coded_with"}
_WHEN_KEYS = {"procedure", "main", "contains"}  # which procedures: the diagnoses of a `when` are a reviewer's choice


def _codes(node, keys: set[str], out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "not" and keys is _WHEN_KEYS:
                continue  # an exclusion ("not C22.-") narrows which episodes; it is not a code the rule asks for
            if key in keys and not isinstance(value, dict):
                for item in value if isinstance(value, list) else [value]:
                    out.update(c.strip().removesuffix(".-") for c in str(item).split(","))
            else:
                _codes(value, keys, out)
    elif isinstance(node, list):
        for item in node:
            _codes(item, keys, out)
    return out


def signatures(path: Path) -> dict[tuple, str]:
    """{(procedures of `when`, codes of `require`, enabled_by): severity} for every rule of the file."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return {(frozenset(_codes(r.get("when"), _WHEN_KEYS, set())), frozenset(_codes(r["require"], _CODE_KEYS, set())),
             r.get("enabled_by", "")): r["severity"] for r in doc["rules"]}
