"""Write a ``Draft`` as a rule file of our language: text we lay out ourselves (deterministic, with comments).

One rule per requirement: the codes a group's block must hold, the other procedure codes it needs, the
procurement/delivery codes, the ICD-10 codes (all of an "and", any of an "or"), and each optional code as an
info rule. Every rule quotes the sentences it comes from and carries pass/fail examples built from the codes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from audit.draft.phrasing import Draft, Group, Slot


@dataclass
class DraftRule:
    title: str
    severity: str
    description: str
    text: str
    when: str
    require: str
    expected: str
    message: str
    passes: list[dict] = field(default_factory=list)
    fails: list[dict] = field(default_factory=list)
    enabled_by: str = ""
    comments: list[str] = field(default_factory=list)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(" ".join(str(text).split()), ensure_ascii=False)


def _pattern(slot: Slot) -> str:
    return _q(", ".join(slot.codes))


def _patterns(slots: list[Slot]) -> str:
    """One slot: its pattern; several: a YAML list (all of them)."""
    return _pattern(slots[0]) if len(slots) == 1 else "[" + ", ".join(_pattern(s) for s in slots) + "]"


def _say(slot: Slot) -> str:
    return " or ".join(slot.codes)


def _say_all(slots: list[Slot]) -> str:
    return " + ".join(_say(s) if len(s.codes) == 1 else f"({_say(s)})" for s in slots)


@dataclass
class _Shape:
    """A group read as OPCS-4 blocks: what identifies the procedure and what it must hold."""
    group: Group
    main: Slot | None
    identity: list[Slot]       # block codes that are part of the procedure (Y12.3 in J12.8 + Y12.3)
    block_required: list[Slot]  # block codes that may be missed (Y53.-, a category)
    episode_required: list[Slot]
    optional: list[Slot]
    others: list["_Shape"] = field(default_factory=list)  # groups with the same main code and codes of their own

    def when(self) -> str:
        base = self.identify()
        if not self.others:
            return base
        return "{all: [" + ", ".join([base] + ["{not: " + o.identify() + "}" for o in self.others]) + "]}"

    def identify(self) -> str:
        if self.main is None:
            return "{procedure: " + _pattern(self.identity[0]) + "}"
        if self.identity:
            return "{block: {main: " + _pattern(self.main) + ", contains: " + _patterns(self.identity) + "}}"
        return "{procedure: " + _pattern(self.main) + "}"

    def every_block(self, must: list[Slot]) -> str:
        head = f"main: {_pattern(self.main)}" if self.main else ""
        if self.identity and (self.main is not None or len(self.identity) > 1):
            ident = self.identity if self.main is not None else self.identity
            head += (", " if head else "") + f"contains: {_patterns(ident)}"
        elif self.main is None:
            head = f"contains: {_pattern(self.identity[0])}"
        return "{every_block: {" + head + ", must_contain: " + _patterns(must) + "}}"

    def codes(self) -> list[str]:
        """The example codes of the procedure itself, in block order."""
        return ([self.main.examples[0]] if self.main else []) + [s.examples[0] for s in self.identity]

    def say(self) -> str:
        return _say_all(([self.main] if self.main else []) + self.identity)


def _shape(group: Group) -> _Shape:
    main = next((s for s in group.slots if not s.block_code and not s.optional), None)
    identity, block_required, episode_required, optional = [], [], [], []
    for slot in group.slots:
        if slot is main:
            continue
        if slot.optional:
            optional.append(slot)
        elif slot.block_code:
            # a method or site code (Y12.3, Z32.2) says which procedure it is; Y53 and a category can be missed
            named = len(slot.codes) == 1 and not slot.codes[0].endswith(".-") and len(slot.codes[0]) > 3
            (identity if named and not slot.codes[0].startswith("Y53") else block_required).append(slot)
        else:
            episode_required.append(slot)
    if main is None and not identity and block_required:
        identity, block_required = [block_required[0]], block_required[1:]
    return _Shape(group, main, identity, block_required, episode_required, optional)


class _Builder:
    def __init__(self, draft: Draft):
        self.draft = draft
        self.shapes = [_shape(g) for g in draft.groups if any(not s.optional for s in g.slots)]
        for shape in self.shapes:  # transluminal K26.2 + Y79.- and transapical K26.2 + Y49.4: not each other's
            shape.others = [o for o in self.shapes if o is not shape and o.main and shape.main
                            and o.main.codes == shape.main.codes and o.identity and not shape.identity]
        self.rules: list[DraftRule] = []
        self.subject = draft.title or "The procedure"

    def diagnosis_codes(self) -> list[str]:
        """Example diagnoses that satisfy every required ICD-10 sentence."""
        return [s.examples[0] for d in self.draft.diagnoses if not d.optional for s in d.all_of]

    def default_of(self, slots: list[Slot]) -> str:
        found = [self.draft.defaults[c[:3]][0] for s in slots for c in s.codes if c[:3] in self.draft.defaults
                 and (c.endswith(".-") or len(c) == 3)]
        return f" ({found[0]} if unspecified)" if found else ""

    def default_text(self, slots: list[Slot]) -> str:
        found = [self.draft.defaults[c[:3]][1] for s in slots for c in s.codes if c[:3] in self.draft.defaults]
        return f" {found[0]}" if found else ""

    def example_codes(self, slot: Slot) -> str:
        default = self.draft.defaults.get(slot.codes[0][:3])
        return default[0] if default and (slot.codes[0].endswith(".-") or len(slot.codes[0]) == 3) \
            else slot.examples[0]

    def full(self, shape: _Shape, extra_block: list[Slot] = ()) -> list[str]:
        """A procedure coded as the guidance says (``extra_block``: optional codes in its block too)."""
        return self.procurement_codes() + shape.codes() \
            + [self.example_codes(s) for s in [*shape.block_required, *self.required_block(), *extra_block]] \
            + [s.examples[0] for s in shape.episode_required]

    def without(self, codes: list[str], slot: Slot) -> list[str]:
        """``codes`` less those ``slot`` would match (for an example that must fail for want of it)."""
        def matches(code: str, pattern: str) -> bool:
            if "-" in pattern[1:] and not pattern.endswith(".-"):
                first, last = pattern.split("-")
                return first[:3] <= code[:3] <= last[:3]
            return code.startswith(pattern.removesuffix(".-"))
        return [c for c in codes if not any(matches(c, p) for p in slot.codes)]

    def required_block(self) -> list[Slot]:
        return [s for s in self.draft.block_codes if not s.optional]

    def procurement_codes(self) -> list[str]:
        return ["X72.9"] if self.draft.procurement and not self.draft.procurement.optional else []

    def when_any(self) -> str:
        whens = list(dict.fromkeys(s.identify() for s in self.shapes))
        return whens[0] if len(whens) == 1 else "{any: [" + ", ".join(whens) + "]}"

    def texts(self, shape: _Shape | None, *extra: str) -> str:
        lines = [] if shape is None else ([shape.group.label + ":"] if shape.group.label else []) + \
            list(dict.fromkeys(s.text for s in shape.group.slots if not s.optional))
        return " ".join(dict.fromkeys(x for x in [*lines, *extra] if x))

    def build(self) -> list[DraftRule]:
        for shape in self.shapes:
            self.block_rule(shape, shape.block_required + self.required_block())
            for slot in shape.episode_required:
                self.episode_rule(shape, slot)
        if self.draft.procurement and self.shapes:
            self.procurement_rules()
        for diagnoses in self.draft.diagnoses:
            self.diagnosis_rule(diagnoses)
        self.optional_rules()
        return self.rules

    def block_rule(self, shape: _Shape, must: list[Slot], optional: bool = False) -> None:
        if not must:
            return
        what = f"{_say_all(must)}{self.default_of(must)}"
        strength = "may also hold" if optional else "must also hold"
        rule = DraftRule(
            title=f"{shape.say()} without {what} in its block" + (" (may be assigned)" if optional else ""),
            severity="info" if optional else "error",
            description=f"{self.subject}{f' ({shape.group.label.lower()})' if shape.group.label else ''} is coded "
                        f"{_say_all(([shape.main] if shape.main else []) + shape.group.slots[1:] if shape.main else shape.group.slots)}. "
                        f"Every block of {shape.say()} {strength} {what}, after its main code and before the next "
                        f"one." + (" This is optional, so a block without it is only reported for review." if optional
                                   else ""),
            text=self.texts(shape, *[s.text for s in must], self.default_text(must).strip()),
            when=shape.when(), require=shape.every_block(must),
            expected=f"{what} in the {shape.say()} block" + (" where the guidance's condition holds" if optional else ""),
            message=f"{shape.say()} without {_say_all(must)} in its block (found {{found}}); "
                    f"{'review: ' if optional else ''}expected {{expected}}")
        full = self.full(shape, must if optional else [])
        rule.passes.append(self.example(full))
        if shape.block_required or optional or self.required_block():
            bare = self.procurement_codes() + shape.codes() + [s.examples[0] for s in shape.episode_required]
            rule.fails.append(self.example(bare, severity="info" if optional else ""))
            if len(must) > 1:
                for i, slot in enumerate(must):
                    rest = [self.example_codes(s) for j, s in enumerate(must) if j != i]
                    rule.fails.append(self.example(shape.codes() + rest, note=f"no {_say(slot)}"))
            if shape.main is not None:
                rule.fails.append(self.example(
                    shape.codes() + ["A01.1"] + [self.example_codes(s) for s in must],
                    note=f"the {_say(must[0])} belongs to another procedure's block"))
        self.rules.append(rule)

    def episode_rule(self, shape: _Shape, slot: Slot) -> None:
        self.rules.append(DraftRule(
            title=f"{shape.say()} without {_say(slot)}",
            severity="error",
            description=f"{self.subject} is coded {_say_all(shape.group.slots)}: an episode with {shape.say()} "
                        f"must also record {_say(slot)}.",
            text=self.texts(shape), when=shape.when(), require="{procedure: " + _pattern(slot) + "}",
            expected=_say(slot), message=f"{shape.say()} (found {{found}}) without {_say(slot)}; expected {{expected}}",
            passes=[self.example(self.full(shape))],
            fails=[self.example([c for c in self.full(shape) if c != slot.examples[0]])]))

    def procurement_rules(self) -> None:
        slot = self.draft.procurement
        severity = "info" if slot.optional else "error"
        base = self.full(self.shapes[0])
        without = [c for c in base if not c.startswith("X72")]
        self.rules.append(DraftRule(
            title=f"{self.shapes[0].say()} without an X72 delivery of chemotherapy code",
            severity=severity,
            description="The episode records the relevant procurement/delivery codes from X70-X72. The delivery code "
                        "(X72) is relevant in every trust; the procurement codes (X70/X71) only where the trust "
                        "collects them (the next rule, on with the option procurement_codes_collected).",
            text=slot.text, when=self.when_any(), require='{procedure: "X72"}',
            expected="an X72 delivery of chemotherapy code",
            message=f"{self.shapes[0].say()} (found {{found}}) without an X72 delivery of chemotherapy code; "
                    f"expected {{expected}}",
            passes=[self.example(base)], fails=[self.example(without, severity=severity)]))
        self.rules.append(DraftRule(
            title=f"{self.shapes[0].say()} without an X70/X71 procurement code (where collected)",
            severity=severity, enabled_by="procurement_codes_collected",
            description="Where the trust collects procurement codes (option procurement_codes_collected = true), "
                        "the relevant codes from X70-X72 include the procurement of the drug: X70 or X71 as well as "
                        "the X72 delivery code. Off by default.",
            text=slot.text, when=self.when_any(), require='{procedure: "X70-X71"}',
            expected="an X70/X71 procurement of chemotherapy code",
            message=f"{self.shapes[0].say()} (found {{found}}) without a procurement code; expected {{expected}}",
            passes=[self.example(["X70.9"] + base)], fails=[self.example(base, severity=severity)]))

    def diagnosis_rule(self, diagnoses) -> None:
        if not self.shapes:
            return
        slots = diagnoses.all_of
        both = len(slots) > 1
        what = (("both " if len(slots) == 2 else "all of ") + " and ".join(_say(s) for s in slots)) if both \
            else _say(slots[0])
        require = ("{all: [" + ", ".join("{diagnosis: " + _pattern(s) + "}" for s in slots) + "]}") if both \
            else "{diagnosis: " + _pattern(slots[0]) + "}"
        severity = "info" if diagnoses.optional else "error"
        procedures = " or ".join(s.say() for s in self.shapes)
        titled = re.search(rf"{re.escape(slots[0].codes[0].removesuffix('.-'))}\S*\s+(.+?)\s+(?:is|are|would be) "
                           rf"(?:also )?(?:assigned|recorded)", diagnoses.text) if len(slots) == 1 else None
        rule = DraftRule(
            title=f"{self.subject} without {what}",
            severity=severity,
            description=f"An episode with {procedures} {'may record' if diagnoses.optional else 'must record'} "
                        f"{what}" + (" (any one of them)" if not both and len(slots[0].codes) > 1
                                     else "") + ".",
            text=" ".join(dict.fromkeys([self.texts(self.shapes[0]) if len(self.shapes) == 1 else
                                         " ".join(self.texts(s) for s in self.shapes), diagnoses.text])),
            when=self.when_any(), require=require,
            expected=f"{slots[0].codes[0]} {titled.group(1)}" if titled and len(slots[0].codes) == 1 else what,
            message=f"{self.subject} records {{found}}; {'review: ' if diagnoses.optional else ''}expected "
                    f"{{expected}}")
        full = self.full(self.shapes[0])
        rule.passes.append(self.example(full, [s.examples[0] for s in slots]))
        if len(slots[0].codes) > 1:
            rule.passes.append(self.example(full, [slots[0].examples[-1]] + [s.examples[0] for s in slots[1:]]))
        rule.fails.append(self.example(full, [], severity=severity))
        if both:
            rule.fails.append(self.example(full, [slots[0].examples[0]], note=f"no {_say(slots[-1])}"))
        for shape in self.shapes[1:]:
            rule.fails.append(self.example(self.full(shape), []))
        self.rules.append(rule)

    def optional_rules(self) -> None:
        optional = [s for s in self.draft.block_codes if s.optional]
        for slot in optional:
            if len(self.shapes) == 1:
                self.block_rule(self.shapes[0], [slot], optional=True)
                self.rules[-1].text = " ".join(dict.fromkeys([slot.text, self.default_text([slot]).strip()]))
                continue
            what = f"{_say(slot)}{self.default_of([slot])}"
            rule = DraftRule(
                title=f"{self.subject} without {_say(slot)} (may be assigned)", severity="info",
                description=f"{what} may also be assigned to these procedures; this is optional, so a block without "
                            f"it is only reported for review, never as an error.",
                text=" ".join(dict.fromkeys([slot.text, self.default_text([slot]).strip()])),
                when=self.when_any(),
                require="\n      all:\n" + "".join(f"        - {s.every_block([slot])}\n" for s in self.shapes),
                expected=f"{what} in the block where the guidance's condition holds",
                message=f"{self.subject} ({{found}}) has no {_say(slot)}; review: expected {{expected}}")
            for shape in self.shapes:
                rule.passes.append(self.example(self.full(shape, [slot])))
            for shape in self.shapes:
                rule.fails.append(self.example(self.without(self.full(shape), slot), severity="info"))
            self.rules.append(rule)
        for shape in self.shapes:
            for slot in shape.optional:
                self.block_rule(shape, [slot], optional=True) if slot.block_code else None
                if not slot.block_code:
                    self.rules.append(DraftRule(
                        title=f"{shape.say()} without {_say(slot)} (optional)", severity="info",
                        description=f"{_say(slot)} is optional with {shape.say()}: reported for review only.",
                        text=slot.text, when=shape.when(), require="{procedure: " + _pattern(slot) + "}",
                        expected=_say(slot), message=f"{shape.say()} ({{found}}) without {_say(slot)}; review: "
                                                     f"expected {{expected}}",
                        passes=[self.example(self.full(shape) + [slot.examples[0]])],
                        fails=[self.example(self.without(self.full(shape), slot), severity="info")]))

    def example(self, procedures: list[str], diagnoses: list[str] | None = None, *, severity: str = "",
                note: str = "") -> dict:
        out = {"procedures": list(dict.fromkeys(procedures))}
        diagnoses = self.diagnosis_codes() if diagnoses is None else diagnoses
        if diagnoses:
            out["diagnoses"] = diagnoses
        if severity:
            out["severity"] = severity
        if note:
            out["note"] = note
        return out


def _example_text(example: dict) -> str:
    parts = [f"{key}: [{', '.join(example[key])}]" for key in ("procedures", "diagnoses") if key in example]
    parts += [f"{key}: {_q(example[key]) if key == 'note' else example[key]}" for key in ("severity", "note")
              if key in example]
    return "{" + ", ".join(parts) + "}"


def draft_yaml(draft: Draft, source_name: str) -> str:
    """The rule file text of ``draft`` (``source_name``: the text file it was read from, for the header)."""
    rules = _Builder(draft).build()
    ruleset = draft.guidance or "DRAFT"
    out = [f"# Drafted by `audit rules draft` from {source_name}. Review before shipping:",
           "# every rule's strength (error / info), its `when` (which episodes), and each CHECK below.",
           f"ruleset: {ruleset}", f"title: {_q(draft.title or 'NICE guidance (title not found)')}", "source:",
           f"  guidance: {ruleset}", f"  title: {_q(draft.title or ruleset)}"]
    if draft.url:
        out.append(f"  url: {draft.url}")
    if draft.date:
        out.append(f'  date: "{draft.date}"')
    if draft.replaces:
        out.append(f"  replaces: {_q(draft.replaces)}")
    comments = list(draft.comments)
    if len(draft.diagnoses) and rules:
        comments.append("CHECK: the rules apply to every episode with these procedure codes. If another guidance "
                        "uses the same codes for another condition, narrow `when` by the diagnoses (and let one "
                        "rule give way to the other: `unless_rule` / `supersedes`).")
    elif rules:
        comments.append("CHECK: the rules apply to every episode with these procedure codes (the text names no "
                        "diagnosis): if the codes are also used for other conditions, narrow `when` by diagnosis.")
    for comment in comments:
        out += _comment(comment)
    out.append("rules:")
    for i, rule in enumerate(rules, start=1):
        out += ["", f"  - id: {ruleset}-{i:02d}", f"    title: {_q(rule.title)}", f"    severity: {rule.severity}"]
        if rule.enabled_by:
            out.append(f"    enabled_by: {rule.enabled_by}")
        out += [f"    description: {_q(rule.description)}", "    source:", f"      text: {_q(rule.text)}",
                f"    when: {rule.when}",
                f"    require:{rule.require.rstrip()}" if rule.require.startswith("\n") else
                f"    require: {rule.require}",
                f"    expected: {_q(rule.expected)}", f"    message: {_q(rule.message)}", "    examples:",
                "      pass:"]
        out += [f"        - {_example_text(e)}" for e in rule.passes]
        out.append("      fail:")
        out += [f"        - {_example_text(e)}" for e in rule.fails]
    return "\n".join(out) + "\n"


def _comment(text: str) -> list[str]:
    import textwrap
    return ["# " + line for line in textwrap.wrap(" ".join(text.split()), width=110)]
