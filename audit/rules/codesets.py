"""Named code sets: a list of codes defined once in a rule file and used by name in its rules.

::

    codesets:
      sepsis: "A40, A41, A02.1, A32.7, A39.2-A39.4, B37.7, O85, P36"
      obstetric: O00-O99
    rules:
      - ...
        require: {every_diagnosis: R65.1, directly_preceded_by: "@sepsis"}

``@name`` stands for the set's codes wherever a pattern is written (``"@sepsis, T81.4"`` mixes a set
with other codes); a set may use another (``"@sepsis, @obstetric"``). A set is written like any
pattern (see ``audit.patterns``). Sets belong to their file: another file's ``@sepsis`` is its own.
The pattern keeps the name and its codes in its text, so ``audit rules show`` reads
``@sepsis (A40, A41, ...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audit.codes import Kind
from audit.patterns import Pattern, PatternError

NAME = re.compile(r"[a-z][a-z0-9_]*")
_REFERENCE = re.compile(r"@([A-Za-z0-9_]*)")


class CodeSetError(ValueError):
    """A code set problem; ``line`` is where it was written (None: where the set is used)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass
class CodeSets:
    """The code sets of one rule file: name -> its pattern text, and the line it is defined on."""

    texts: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, raw, line: int) -> CodeSets:
        """``codesets:`` of a rule file (a mapping name -> "codes" or [codes]); None: no sets."""
        from audit.rules.yamlsource import LineList, LineMap

        sets = cls()
        if raw is None:
            return sets
        if not isinstance(raw, LineMap):
            raise CodeSetError("'codesets' must be a mapping of name: codes, e.g. sepsis: \"A40, A41\"", line)
        for name, value in raw.items():
            at = raw.line_of(name)
            if not isinstance(name, str) or not NAME.fullmatch(name):
                raise CodeSetError(f"code set name {name!r} must be lower case letters, digits and _ "
                                   "(e.g. sepsis, obstetric_codes)", at)
            if isinstance(value, LineList) and value and all(isinstance(v, str) for v in value):
                value = ", ".join(value)
            if not isinstance(value, str) or not value.strip():
                raise CodeSetError(f"code set {name!r} must be codes such as \"A40, A41\" or a list of them", at)
            sets.texts[name], sets.lines[name] = value.strip(), at
        for name in sets.texts:  # each set is well formed as codes of one classification or the other
            try:
                expanded = sets.expand(f"@{name}")[0]
            except CodeSetError as exc:
                raise CodeSetError(f"code set {name!r}: {exc}", exc.line or sets.lines[name]) from None
            if not any(_parses(expanded, kind) for kind in Kind):
                try:
                    Pattern.parse(expanded, Kind.DIAGNOSIS)
                except PatternError as exc:
                    raise CodeSetError(f"code set {name!r}: {exc}", sets.lines[name]) from None
        sets.used.clear()
        return sets

    def expand(self, text: str, _seen: tuple[str, ...] = ()) -> tuple[str, str]:
        """(the codes, a label) for pattern text that may name sets: ``@sepsis, T81.4`` ->
        (``A40, A41, ..., T81.4``, ``@sepsis (A40, A41, ...), T81.4``)."""
        if "@" not in text:
            return text, text

        def codes(m: re.Match) -> str:
            name = m.group(1)
            if name not in self.texts:
                known = ", ".join(sorted(self.texts)) or "none defined in this file"
                raise CodeSetError(f"unknown code set '@{name}' (code sets of this file: {known})")
            if name in _seen:
                raise CodeSetError(f"code set {name!r} refers to itself (through {' -> '.join(_seen)})",
                                   self.lines[name])
            self.used.add(name)
            return self.expand(self.texts[name], (*_seen, name))[0]

        expanded = _REFERENCE.sub(codes, text)
        label = _REFERENCE.sub(lambda m: f"@{m.group(1)} ({codes(m)})", text)
        return expanded, label

    def pattern(self, text: str, kind: Kind) -> Pattern:
        """``text`` parsed as a pattern of ``kind``, its sets expanded; the pattern's text is the label."""
        expanded, label = self.expand(text)
        try:
            parsed = Pattern.parse(expanded, kind)
        except PatternError as exc:
            names = [n for n in _REFERENCE.findall(text)]
            where = f" (in code set '@{names[0]}', line {self.lines[names[0]]})" if names else ""
            raise PatternError(f"{exc}{where}") from None
        return Pattern(kind, label, parsed.items) if label != expanded else parsed


def _parses(text: str, kind: Kind) -> bool:
    try:
        Pattern.parse(text, kind)
        return True
    except PatternError:
        return False
