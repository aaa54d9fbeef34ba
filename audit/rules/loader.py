"""Load and validate rule files: every problem names the file and line.

A rule file is a YAML mapping::

    ruleset: IPG327
    title: Radiofrequency ablation for the treatment of colorectal liver metastases
    source: {guidance: IPG327, title: ..., url: ..., date: 2009-12-23}   # defaults for its rules
    rules:
      - id: IPG327-01
        title: ...
        severity: error            # error | warning | info
        source: {text: "the sentence of the guidance this rule encodes"}
        effective: {from: 2009-12-23, to: 2030-03-31}   # optional, by episode end date
        when: {procedure: J12.4}   # optional: which episodes the rule applies to
        require: {every_block: {main: J12.4, must_contain: Y53.-}}
        expected: a Y53.- approach code in the J12.4 block
        message: "J12.4 without a Y53.- approach code in its block (found {found})"
        variants: [{when: ..., severity: warning, message: ..., expected: ...}]   # optional
        enabled_by: procurement_codes_collected   # optional: off unless [tool.audit.options] sets it
        examples:
          pass: [{procedures: [J12.4, Y53.9], diagnoses: [C78.7, C18.7]}]
          fail: [{procedures: [J12.4], diagnoses: [C78.7, C18.7], sex: 2, age: 64}]

Nothing in the file is executed; see ``audit.rules.conditions`` for conditions.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import string
from pathlib import Path

from audit.codes import Kind
from audit.errors import RuleFileError
from audit.patterns import Pattern, PatternError
from audit.rules import attributes
from audit.rules import conditions as c
from audit.rules.codesets import CodeSetError, CodeSets
from audit.rules.model import SEVERITIES, Example, Rule, RuleSet, Source, Variant
from audit.rules.yamlsource import LineList, LineMap, load_yaml

RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")
OPTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
PLACEHOLDERS = {"found", "expected", "blocks"}

_FILE_KEYS = {"ruleset", "title", "description", "source", "codesets", "rules"}
_RULE_KEYS = {"id", "title", "description", "severity", "source", "effective", "when", "require",
              "expected", "message", "variants", "examples", "enabled_by", "disabled_by", "unless_rule",
              "supersedes"}
_RULE_REQUIRED = ("id", "title", "severity", "require", "expected", "message", "examples")
_SOURCE_KEYS = {"guidance", "title", "url", "date", "text", "replaces", "note"}
_VARIANT_KEYS = {"when", "severity", "message", "expected"}
_EXAMPLE_KEYS = {"diagnoses", "procedures", "end_date", "severity", "note", *attributes.ATTRIBUTES}
_BLOCK_KEYS = {"main", "contains", "must_contain"}
_CODE_KEYS = {"diagnosis": (Kind.DIAGNOSIS, False), "procedure": (Kind.PROCEDURE, False),
              "every_diagnosis": (Kind.DIAGNOSIS, True), "every_procedure": (Kind.PROCEDURE, True)}
_CODE_TESTS = {"position", "usage", "has_character", "character", "in", "not_in", *c.SEQUENCE_RELATIONS,
               "within_block", "coded_with", "not_coded_with", "unless"}
_CONDITION_KEYS = ("diagnosis, procedure, every_diagnosis, every_procedure, not_coded_together, block, "
                   "every_block, malformed, invalid_code, sex_conflict, age_conflict, "
                   f"{', '.join(attributes.ATTRIBUTES)}, all, any, not")


def shipped_rules_dir() -> Path:
    """The rulesets that ship with the engine (the checkout's ``rulesets/`` or the installed copy)."""
    checkout = Path(__file__).resolve().parents[2] / "rulesets"
    if checkout.is_dir():
        return checkout
    # Installed, audit.rulesets is a namespace package (a folder of YAML, no __init__.py).
    return Path(next(iter(importlib.import_module("audit.rulesets").__path__)))


def builtin_rules_dir() -> Path:
    """The built-in data checks, loaded in every run."""
    return shipped_rules_dir() / "builtin"


def rule_files(path: Path) -> list[Path]:
    """The YAML files a ``--rules`` path names: the file itself, or every .yaml/.yml below a folder."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                      and not p.name.endswith((".table.yaml", ".table.yml")))  # tables of rules (audit.rules.tables)
    if path.is_file():
        return [path]
    raise RuleFileError(path, None, "no such rule file or folder")


def load_rules(paths: list[Path] | None = None, *, builtin: bool = True) -> RuleSet:
    """Load rule files/folders (default: the shipped rulesets); ids must be unique across all of them."""
    paths = [shipped_rules_dir()] if not paths else list(paths)
    files: list[Path] = []
    if builtin:
        files += rule_files(builtin_rules_dir())
    for p in paths:
        files += rule_files(Path(p))
    seen_files: set[Path] = set()
    by_id: dict[str, Rule] = {}
    for f in files:
        if f.resolve() in seen_files:
            continue
        seen_files.add(f.resolve())
        for rule in load_rule_file(f):
            other = by_id.get(rule.id)
            if other is not None:
                raise RuleFileError(f, rule.line, f"duplicate rule id {rule.id} (also at {other.path}:{other.line})")
            by_id[rule.id] = rule
    return RuleSet(list(by_id.values()))


def load_rule_file(path: Path) -> list[Rule]:
    """Validate one rule file and return its rules."""
    return _FileParser(Path(path)).parse()


class _FileParser:
    def __init__(self, path: Path):
        self.path = path
        self.codesets = CodeSets()  # the file's named code sets (audit.rules.codesets)

    def fail(self, line: int | None, problem: str):
        raise RuleFileError(self.path, line, problem)

    # -- structure helpers -------------------------------------------------
    def mapping(self, value, line: int, what: str, allowed: set[str], required=()) -> LineMap:
        if not isinstance(value, LineMap):
            self.fail(line, f"{what} must be a mapping, not {_kind_of(value)}")
        for key in value:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.fail(value.line_of(key), f"unknown key {key!r} in {what} (allowed: {hint})")
        for key in required:
            if key not in value:
                self.fail(value.line, f"{what} is missing {key!r}")
        return value

    def text(self, m: LineMap, key: str, what: str, default: str | None = None) -> str:
        if key not in m:
            if default is None:
                self.fail(m.line, f"{what} is missing {key!r}")
            return default
        value = m[key]
        if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail(m.line_of(key), f"{key!r} in {what} must be non-empty text")
        return value.strip()

    def date(self, m: LineMap, key: str, what: str) -> dt.date | None:
        if key not in m or m[key] is None:
            return None
        try:
            return dt.date.fromisoformat(str(m[key]))
        except ValueError:
            self.fail(m.line_of(key), f"{key!r} in {what} must be a date YYYY-MM-DD, not {m[key]!r}")

    def pattern(self, value, line: int, kind: Kind) -> Pattern:
        if isinstance(value, LineList):
            if not value or not all(isinstance(v, str) for v in value):
                self.fail(line, "a pattern list must hold code texts")
            value = ", ".join(value)
        elif not isinstance(value, str):
            self.fail(line, f"a pattern must be text such as 'J12.4', 'Y53.-' or 'X70-X72', not {_kind_of(value)}")
        try:
            return self.codesets.pattern(value, kind)  # "@name" expanded (audit.rules.codesets)
        except (PatternError, CodeSetError) as exc:
            self.fail(getattr(exc, "line", None) or line, str(exc))

    def patterns(self, value, line: int, kind: Kind) -> tuple[Pattern, ...]:
        """A list of patterns, each of which must be present ('contains: [Y12.3, Y53.-]')."""
        items = value if isinstance(value, LineList) else [value]
        return tuple(self.pattern(v, line, kind) for v in items)

    # -- the file ----------------------------------------------------------
    def parse(self) -> list[Rule]:
        doc = load_yaml(self.path)
        if doc is None:
            self.fail(None, "the rule file is empty")
        top = self.mapping(doc, 1, "a rule file", _FILE_KEYS, required=("rules",))
        try:
            self.codesets = CodeSets.parse(top.get("codesets"), top.line_of("codesets"))
        except CodeSetError as exc:
            self.fail(exc.line, str(exc))
        defaults = self.source(top["source"], top.line_of("source"), None) if "source" in top else None
        ruleset = self.text(top, "ruleset", "a rule file", default=self.path.stem)
        rules = top["rules"]
        if not isinstance(rules, LineList) or not rules:
            self.fail(top.line_of("rules"), "'rules' must be a non-empty list of rules")
        out, seen = [], {}
        for i, raw in enumerate(rules):
            rule = self.rule(raw, rules.line_of(i), defaults, ruleset)
            if rule.id in seen:
                self.fail(rule.line, f"duplicate rule id {rule.id} (also at line {seen[rule.id]})")
            seen[rule.id] = rule.line
            out.append(rule)
        return out

    def source(self, raw, line: int, defaults: Source | None) -> Source:
        m = self.mapping(raw, line, "source", _SOURCE_KEYS)
        base = defaults or Source(guidance="")
        fields = {k: self.text(m, k, "source") for k in m}
        merged = Source(**{**base.__dict__, **fields})
        if not merged.guidance:
            self.fail(m.line, "source is missing 'guidance' (the guidance id, e.g. IPG327)")
        return merged

    def rule(self, raw, line: int, defaults: Source | None, ruleset: str) -> Rule:
        m = self.mapping(raw, line, "a rule", _RULE_KEYS, required=_RULE_REQUIRED)
        rule_id = self.text(m, "id", "a rule")
        if not RULE_ID.fullmatch(rule_id):
            self.fail(m.line_of("id"), f"rule id {rule_id!r} must look like IPG327-01 (capitals, digits, dashes)")
        what = f"rule {rule_id}"
        if "source" in m:
            source = self.source(m["source"], m.line_of("source"), defaults)
        elif defaults is not None:
            source = defaults
        else:
            self.fail(m.line, f"{what} has no source (give 'source' in the rule or the file)")
        if not source.text:
            self.fail(m.line_of("source"), f"{what}: source is missing 'text' (the guidance sentence it encodes)")
        severity = self.severity(m, what)
        effective_from = effective_to = None
        if "effective" in m:
            eff = self.mapping(m["effective"], m.line_of("effective"), f"{what} effective", {"from", "to"})
            effective_from, effective_to = self.date(eff, "from", "effective"), self.date(eff, "to", "effective")
            if effective_from and effective_to and effective_from > effective_to:
                self.fail(eff.line, f"{what}: effective 'from' is after 'to'")
        when = self.condition(m["when"], m.line_of("when")) if "when" in m else None
        require = self.condition(m["require"], m.line_of("require"))
        message = self.message(m, what)
        variants = self.variants(m, what) if "variants" in m else ()
        templates = (message, *(v.message for v in variants))
        if any("blocks" in _placeholders(t) for t in templates) and not c.every_block_tests(require):
            self.fail(m.line_of("message"), f"{what}: {{blocks}} says which OPCS-4 blocks lack a code; it needs an "
                                            "'every_block' test in 'require' (alone or in an 'all')")
        examples = self.examples(m, what)
        enabled_by, disabled_by = self.option(m, "enabled_by", what), self.option(m, "disabled_by", what)
        if enabled_by and disabled_by:
            self.fail(m.line_of("disabled_by"), f"{what}: give 'enabled_by' or 'disabled_by', not both")
        unless_rule, supersedes = self.rule_ids(m, "unless_rule", rule_id), self.rule_ids(m, "supersedes", rule_id)
        return Rule(
            id=rule_id, title=self.text(m, "title", what), severity=severity, source=source,
            require=require, message=message, expected=self.text(m, "expected", what), when=when,
            description=self.text(m, "description", what, default=""),
            effective_from=effective_from, effective_to=effective_to, variants=variants,
            examples=examples, ruleset=ruleset, path=str(self.path), line=m.line,
            enabled_by=enabled_by, disabled_by=disabled_by, unless_rule=unless_rule, supersedes=supersedes,
        )

    def rule_ids(self, m: LineMap, key: str, own: str) -> tuple[str, ...]:
        """``unless_rule`` / ``supersedes``: a rule id or a list of them (``audit.rules.precedence``)."""
        if key not in m:
            return ()
        raw = m[key]
        ids = list(raw) if isinstance(raw, LineList) else [raw]
        if not ids or not all(isinstance(i, str) and RULE_ID.fullmatch(i) for i in ids):
            self.fail(m.line_of(key), f"rule {own}: '{key}' takes a rule id or a list of them, such as "
                                      f"NAT-ICD-15 or [IPG445-02], not {raw!r}")
        if own in ids:
            self.fail(m.line_of(key), f"rule {own}: '{key}' names the rule itself")
        return tuple(ids)

    def option(self, m: LineMap, key: str, what: str) -> str:
        if key not in m:
            return ""
        name = m[key]
        if not isinstance(name, str) or not OPTION_NAME.fullmatch(name):
            self.fail(m.line_of(key), f"{what}: '{key}' takes an option name such as "
                                      f"procurement_codes_collected (lower case, digits, _), not {name!r}")
        return name

    def severity(self, m: LineMap, what: str) -> str:
        severity = self.text(m, "severity", what)
        if severity not in SEVERITIES:
            self.fail(m.line_of("severity"), f"{what}: severity must be one of {', '.join(SEVERITIES)}, "
                                             f"not {severity!r}")
        return severity

    def message(self, m: LineMap, what: str) -> str:
        message = self.text(m, "message", what)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(message) if name is not None}
        except ValueError as exc:
            self.fail(m.line_of("message"), f"{what}: message is not a valid template ({exc})")
        unknown = names - PLACEHOLDERS
        if unknown:
            self.fail(m.line_of("message"), f"{what}: unknown placeholder {{{min(unknown)}}} in message "
                                            f"(use {{found}}, {{expected}} or {{blocks}})")
        return message

    def variants(self, m: LineMap, what: str) -> tuple[Variant, ...]:
        raw = m["variants"]
        if not isinstance(raw, LineList) or not raw:
            self.fail(m.line_of("variants"), f"{what}: 'variants' must be a non-empty list")
        out = []
        for i, item in enumerate(raw):
            v = self.mapping(item, raw.line_of(i), f"a variant of {what}", _VARIANT_KEYS,
                             required=("when", "severity", "message"))
            out.append(Variant(
                when=self.condition(v["when"], v.line_of("when")),
                severity=self.severity(v, f"a variant of {what}"),
                message=self.message(v, f"a variant of {what}"),
                expected=self.text(v, "expected", what, default=self.text(m, "expected", what)),
            ))
        return tuple(out)

    def examples(self, m: LineMap, what: str) -> tuple[Example, ...]:
        ex = self.mapping(m["examples"], m.line_of("examples"), f"{what} examples", {"pass", "fail"},
                          required=("pass", "fail"))
        out = []
        for key in ("pass", "fail"):
            items = ex[key]
            if not isinstance(items, LineList) or not items:
                self.fail(ex.line_of(key), f"{what}: examples '{key}' must be a non-empty list of episodes")
            for i, item in enumerate(items):
                e = self.mapping(item, items.line_of(i), f"an example of {what}", _EXAMPLE_KEYS)
                if key == "pass" and "severity" in e:
                    self.fail(e.line_of("severity"), f"{what}: a passing example has no severity")
                end_date = self.date(e, "end_date", "an example")
                out.append(Example(
                    diagnoses=self.codes(e, "diagnoses"), procedures=self.codes(e, "procedures"),
                    end_date=end_date.isoformat() if end_date else None, expect_fail=key == "fail",
                    severity=self.severity(e, what) if "severity" in e else None,
                    note=self.text(e, "note", "an example", default=""), line=e.line,
                    **{key: self.attribute(e, key) for key in attributes.ATTRIBUTES},
                ))
        return tuple(out)

    def attribute(self, e: LineMap, key: str) -> str | None:
        """An example episode's attribute (sex, age, ...) as the extract would write it (text or a number)."""
        if key not in e:
            return None
        value = e[key]
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            self.fail(e.line_of(key), f"example {key!r} must be a value as the extract writes it "
                                      f"(e.g. sex: 2, age: 7003), not {value!r}")
        return str(value).strip()

    def codes(self, e: LineMap, key: str) -> tuple[str, ...]:
        value = e.get(key, [])
        if isinstance(value, str):
            value = value.split()
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            self.fail(e.line_of(key), f"example {key!r} must be a list of code values")
        return tuple(str(v) for v in value)

    # -- conditions ---------------------------------------------------------
    def condition(self, raw, line: int) -> c.Condition:
        if not isinstance(raw, LineMap) or not raw:
            self.fail(line, f"a condition must be a mapping such as {{procedure: J12.4}}, not {_kind_of(raw)}")
        keys = set(raw)
        code_keys = keys & set(_CODE_KEYS)
        if code_keys:
            return self.code_condition(raw, code_keys)
        at = raw.line
        if keys & _CODE_TESTS:
            key = min(keys & _CODE_TESTS)
            self.fail(raw.line_of(key), f"{key!r} is a test on codes: it goes with diagnosis, procedure, "
                                        "every_diagnosis or every_procedure in the same mapping")
        if len(keys) != 1:
            self.fail(at, f"a condition has exactly one of {_CONDITION_KEYS} "
                          f"(found {', '.join(sorted(map(str, keys)))})")
        (key,) = keys
        value, vline = raw[key], raw.line_of(key)
        if key in ("all", "any"):
            if not isinstance(value, LineList) or not value:
                self.fail(vline, f"'{key}' takes a non-empty list of conditions")
            items = tuple(self.condition(v, value.line_of(i)) for i, v in enumerate(value))
            return c.AllOf(items) if key == "all" else c.AnyOf(items)
        if key == "not":
            return c.Not(self.condition(value, vline))
        if key == "malformed":
            if value not in ("diagnosis", "procedure"):
                self.fail(vline, "'malformed' takes diagnosis or procedure")
            return c.Malformed(Kind(value))
        if key in c.REFERENCE_CHECKS:
            allowed = ("diagnosis", "procedure") if key == "invalid_code" else ("diagnosis",)
            if value not in allowed:
                self.fail(vline, f"'{key}' takes {' or '.join(allowed)}"
                          + ("" if key == "invalid_code" else " (the OPCS-4 tables carry no sex or age limits)"))
            return c.ReferenceCheck(key, Kind(value))
        if key == "not_coded_together":
            return self.not_coded_together(value, vline)
        if key in attributes.ATTRIBUTES:  # the episode's sex, age, specialty, ... (audit.rules.attributes)
            return attributes.parse(key, value, vline, self.fail)
        if key in ("block", "every_block"):
            b = self.mapping(value, vline, f"'{key}'", _BLOCK_KEYS)
            every = key == "every_block"
            if every and "must_contain" not in b:
                self.fail(b.line, "'every_block' needs 'must_contain' (what every selected block must hold)")
            if not every and "must_contain" in b:
                self.fail(b.line_of("must_contain"), "'must_contain' belongs to 'every_block'; "
                                                     "use 'contains' with 'block'")
            if not every and not ({"main", "contains"} & set(b)):
                self.fail(b.line, "'block' needs 'main' or 'contains'")
            get = lambda k: self.patterns(b[k], b.line_of(k), Kind.PROCEDURE) if k in b else ()
            main = self.pattern(b["main"], b.line_of("main"), Kind.PROCEDURE) if "main" in b else None
            return c.InBlock(main, get("contains"), get("must_contain"), every)
        self.fail(vline, f"unknown condition {key!r} (use one of {_CONDITION_KEYS})")

    def code_condition(self, raw: LineMap, code_keys: set[str]) -> c.Condition:
        """``{diagnosis: P, ...tests}`` / ``{every_diagnosis: P, ...tests}`` (see ``audit.rules.conditions``)."""
        if len(code_keys) > 1:
            self.fail(raw.line, f"a condition names one of {', '.join(sorted(code_keys))}, not several "
                                "(use 'all' or 'any' to combine them)")
        (code_key,) = code_keys
        kind, every = _CODE_KEYS[code_key]
        unknown = set(raw) - {code_key} - _CODE_TESTS
        if unknown:
            key = min(map(str, unknown))
            self.fail(raw.line_of(key), f"unknown key {key!r} in a {code_key} condition (allowed with it: "
                                        f"{', '.join(sorted(_CODE_TESTS))})")
        pattern = self.pattern(raw[code_key], raw.line_of(code_key), kind)
        position = raw.get("position", "any")
        if position not in c.POSITIONS:
            self.fail(raw.line_of("position"), f"position must be one of {', '.join(c.POSITIONS)}")
        usage = self.usage(raw, kind)
        tests = set(raw) - {code_key, "usage"}
        if not every and not usage and tests <= {"position"}:
            return c.HasCode(pattern, position)  # the plain "has a code" test, answered from pattern bits
        if every and not tests:
            self.fail(raw.line, f"'{code_key}' needs a test every such code must pass (position, has_character, "
                                "character, a relation such as directly_preceded_by, coded_with ...)")
        relation = self.relation(raw, kind)
        if "unless" in raw and not ({"coded_with", "not_coded_with"} & set(raw)):
            self.fail(raw.line_of("unless"), "'unless' goes with 'not_coded_with' or 'coded_with'")
        if "coded_with" in raw and "not_coded_with" in raw:
            self.fail(raw.line_of("not_coded_with"), "give 'coded_with' or 'not_coded_with', not both "
                                                     "(use 'all' to combine two conditions)")
        episode = {k: self.episode_test(raw[k], raw.line_of(k), kind) if k in raw else None
                   for k in ("coded_with", "not_coded_with", "unless")}
        return c.CodeTest(c.Selector(pattern, usage), every=every, position=position,
                          characters=self.characters(raw, kind), relation=relation, **episode)

    def usage(self, raw: LineMap, kind: Kind) -> str:
        if "usage" not in raw:
            return ""
        if kind is not Kind.DIAGNOSIS or raw["usage"] not in c.USAGES:
            self.fail(raw.line_of("usage"), "'usage' takes dagger or asterisk (ICD-10 diagnoses only)")
        return raw["usage"]

    def characters(self, raw: LineMap, kind: Kind) -> tuple[c.CharacterTest, ...]:
        longest = 5 if kind is Kind.DIAGNOSIS else 4
        out = []
        if "has_character" in raw:
            n = raw["has_character"]
            if isinstance(n, bool) or not isinstance(n, int) or not 4 <= n <= longest:
                self.fail(raw.line_of("has_character"), f"'has_character' takes the number of the character "
                                                        f"the code must have (4{' or 5' if longest == 5 else ''})")
            out.append(c.CharacterTest(n, present=True))
        listed = [k for k in ("in", "not_in") if k in raw]
        if "character" in raw or listed:
            if "character" not in raw:
                self.fail(raw.line_of(listed[0]), f"'{listed[0]}' goes with 'character: N' (which character)")
            n = raw["character"]
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= longest:
                self.fail(raw.line_of("character"), f"'character' takes a character number from 1 to {longest}")
            if len(listed) != 1:
                self.fail(raw.line_of("character"), "'character' needs one of 'in' or 'not_in' "
                                                    "(the values it may or may not take)")
            key = listed[0]
            values = raw[key] if isinstance(raw[key], list) else [raw[key]]
            chars = [str(v).strip().upper() for v in values]
            if not chars or any(isinstance(v, bool) or len(ch) != 1 or not ch.isalnum()
                                for v, ch in zip(values, chars)):
                self.fail(raw.line_of(key), f"'{key}' takes a list of single characters such as [0, 1] or [X]")
            out.append(c.CharacterTest(n, values=tuple(chars), allowed=key == "in"))
        return tuple(out)

    def relation(self, raw: LineMap, kind: Kind) -> c.Relation | None:
        found = [k for k in c.SEQUENCE_RELATIONS if k in raw]
        if len(found) > 1:
            self.fail(raw.line_of(found[1]), f"give one of {', '.join(c.SEQUENCE_RELATIONS)} per condition "
                                             "(use 'all' to combine two)")
        within = raw.get("within_block", False)
        if "within_block" in raw:
            if not isinstance(within, bool):
                self.fail(raw.line_of("within_block"), "'within_block' takes true or false")
            if kind is not Kind.PROCEDURE or not found:
                self.fail(raw.line_of("within_block"), "'within_block' goes with a procedure condition and one "
                                                       f"of {', '.join(c.SEQUENCE_RELATIONS)}")
        if not found:
            return None
        key = found[0]
        return c.Relation(key, self.selector(raw[key], raw.line_of(key), kind), within)

    def selector(self, value, line: int, kind: Kind) -> c.Selector:
        """A relation's target: a pattern, or ``{diagnosis: P, usage: dagger}`` of the same classification."""
        if not isinstance(value, LineMap):
            return c.Selector(self.pattern(value, line, kind))
        m = self.mapping(value, line, "a relation's target", {kind.value, "usage"}, required=(kind.value,))
        return c.Selector(self.pattern(m[kind.value], m.line_of(kind.value), kind), self.usage(m, kind))

    def episode_test(self, value, line: int, kind: Kind) -> c.Condition:
        """``coded_with`` / ``not_coded_with`` / ``unless``: a pattern of the same classification or a condition."""
        if isinstance(value, LineMap):
            return self.condition(value, line)
        return c.HasCode(self.pattern(value, line, kind))

    def not_coded_together(self, value, line: int) -> c.NotCodedTogether:
        m = self.mapping(value, line, "'not_coded_together'", {"diagnosis", "procedure"})
        if len(m) != 1:
            self.fail(m.line, "'not_coded_together' takes one of diagnosis or procedure, with a list of groups "
                              "such as [E10, E11, E14]")
        (key,) = m
        groups = m[key]
        if isinstance(groups, LineMap):  # {table: pairs.csv}: the groups are a table's rows (audit.rules.tables)
            from audit.rules.tables import NotCodedTogetherTable, load_table

            spec = self.mapping(groups, m.line_of(key), "a table of codes", {"table"}, required=("table",))
            name = self.text(spec, "table", "a table of codes")
            return NotCodedTogetherTable(load_table(name, self.path, spec.line_of("table"), Kind(key), self.codesets))
        if not isinstance(groups, LineList) or len(groups) < 2:
            self.fail(m.line_of(key), "'not_coded_together' needs a list of at least two groups, "
                                      "such as [E10, E11, E14]")
        return c.NotCodedTogether(tuple(self.pattern(g, groups.line_of(i), Kind(key))
                                        for i, g in enumerate(groups)))


def _kind_of(value) -> str:
    if value is None:
        return "nothing"
    return {LineMap: "a mapping", LineList: "a list", str: f"the text {value!r}"}.get(type(value), repr(value))


def _placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a (valid) message template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
