"""Read a NICE guidance page's coding recommendations into requirements (codes, strength, source lines).

Both of NICE's layouts are read: the older "OPCS4.6 Code(s)" section and the newer "Coding recommendations".
The words decide the strength: "is assigned" / "would be recorded" are requirements; "may", "if used", "where
necessary", "if applicable", "when ..." are optional (info rules); conditions the data cannot show (a paired
organ, the care setting) and codes the page does not name become comments for the coding manager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audit.errors import UserError

# A code as NICE writes it: C78.7, Y53.-, C61.X, J02, a stray space before the dot, a title run on ("J66.1Perc").
_CODE = r"(?<![A-Za-z0-9])([A-Z])\s?(\d\d)(?:\s?\.\s?(\d{1,2}|-|X)(?![0-9]))?"
_TOKEN = re.compile(rf"{_CODE}(?:\s*[-\u2013\u2014]\s*{_CODE})?")
_SNOMED = re.compile(r"(?<![\w.])\d{6,18}(?![\w.])")
_START = re.compile(r"^(?:OPCS[- ]?4(?:\.\d+)?\s+codes?(?:\(s\))?|coding recommendations?)\b", re.I)
_END = re.compile(r"^(?:the nhs classifications service|your responsibility|get involved|the opcs-4 classification"
                  r" is designed|national institute for health and care excellence \(nice\)$)", re.I)
_OPTIONAL = re.compile(r"\b(?:may|if used|where necessary|if applicable|if carried out|if required|optional(?:ly)?"
                       r"|when\b|(?<!depending )if\b)", re.I)
_REQUIRED = re.compile(r"\b(?:is|are) (?:also )?(?:assigned|recorded|selected|coded)\b|\bwould be (?:recorded|"
                       r"assigned)\b|\bmust\b|\bshould be (?:recorded|assigned|coded)\b", re.I)
_UNKNOWABLE = re.compile(r"paired organ|inpatient|outpatient|day case|care setting|depending (?:if|on)", re.I)
_DEFAULT = re.compile(r"\b(?:if|when|where)\b[^,;:]*\b(?:is |are )?(?:unspecified|not specified|not known)\b", re.I)
_POSITION = re.compile(r"\b(?:first|second|third|last) (?:place|position)\b|\bin (?:the )?(?:first|second) "
                       r"position\b|\bdirectly (?:after|before)\b", re.I)
_LIST_INTRO = re.compile(r"one of the following|from the following|following (?:codes|category)", re.I)
_URL = re.compile(r"(?:https?://)?(?:www\.)?(?:guidance\.)?nice\.org\.uk/guidance/([a-z]{2,4}\d+)", re.I)
_ID = re.compile(r"^(?:IPG|HTG|MTG|DG|TA|NG|CG)\d{1,4}$")
# NICE pages name their id in brackets after the title: "Interventional procedures guidance [IPG424]".
_BRACKETED_ID = re.compile(r"[\[(]\s*((?:IPG|HTG|MTG|DG|TA|NG|CG)\d{1,4})\s*[\])]")
_MONTHS = "january february march april may june july august september october november december".split()


@dataclass
class Slot:
    """One place in a code group: any one of ``codes`` (patterns), from the quoted ``text``."""
    codes: tuple[str, ...]
    text: str
    optional: bool = False
    examples: tuple[str, ...] = ()  # a concrete code for each pattern, for the examples

    @property
    def block_code(self) -> bool:
        """A supplementary (Y/Z) code, coded in the block of its main code."""
        return all(c[0] in "YZ" for c in self.codes)


@dataclass
class Group:
    """The codes of one approach or technique ("Open procedure:"), which together are the procedure."""
    label: str
    slots: list[Slot] = field(default_factory=list)


@dataclass
class Diagnoses:
    """An ICD-10 sentence: all of ``all_of``, each any one of its codes."""
    all_of: list[Slot]
    text: str
    optional: bool = False


@dataclass
class Draft:
    guidance: str = ""
    title: str = ""
    url: str = ""
    date: str = ""
    replaces: str = ""
    groups: list[Group] = field(default_factory=list)
    diagnoses: list[Diagnoses] = field(default_factory=list)
    block_codes: list[Slot] = field(default_factory=list)  # a sentence's codes for "these procedures": every group
    procurement: Slot | None = None                       # X70-X72 procurement / delivery of a drug
    defaults: dict[str, tuple[str, str]] = field(default_factory=dict)  # category -> (default code, sentence)
    comments: list[str] = field(default_factory=list)     # what the coding manager must check

    @property
    def has_codes(self) -> bool:
        return bool(any(g.slots for g in self.groups) or self.diagnoses or self.procurement)


def read_guidance(text: str, guidance_id: str | None = None, name: str = "the text") -> Draft:
    """The requirements of a guidance page's text (``guidance_id`` overrides the id found in it)."""
    draft = Draft()
    _read_identity(text, draft, guidance_id, name)
    section = _coding_section(text)
    _Reader(draft).read(section)
    for snomed in sorted(set(_SNOMED.findall("\n".join(section)))):
        draft.comments.append(f"CHECK: SNOMED CT concept {snomed} is named in the text; it is not an ICD-10 or "
                              f"OPCS-4 code and no rule checks it.")
    if not draft.has_codes:
        raise UserError(f"{name}: no OPCS-4 or ICD-10 code in the coding recommendations (NICE may say no single "
                        f"code exists); nothing written")
    return draft


def _read_identity(text: str, draft: Draft, guidance_id: str | None, name: str) -> None:
    if guidance_id:
        gid = guidance_id.strip().upper()
        if not _ID.match(gid):
            raise UserError(f"--id {guidance_id!r}: expected a NICE guidance id such as IPG445 or HTG532")
    else:
        found = _URL.search(text) or _BRACKETED_ID.search(text)
        gid = found.group(1).upper() if found else ""
    draft.guidance = gid
    draft.url = f"https://www.nice.org.uk/guidance/{gid.lower()}" if gid else ""
    if not gid:
        draft.comments.append(f"CHECK: no guidance id in {name}: run again with --id IPGNNN, or set the ruleset, "
                              f"rule ids, guidance and url by hand.")
    on = re.search(r"has issued (?:full )?guidance to the NHS[^\n]*? on (.+)", text)
    if on:
        draft.title = on.group(1).strip().rstrip(".").strip()
    else:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        draft.title = next((ln for ln in lines[:5] if not _TOKEN.search(ln) and len(ln) < 150), "")
    published = re.search(r"Published:\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})", text)
    if published and published.group(2).lower() in _MONTHS:
        day, month, year = published.groups()
        draft.date = f"{year}-{_MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}"
    replaces = re.search(r"replaces\s+(?:the\s+)?(?:previous\s+)?guidance on ([^\n]+?)\.?[ \t]*$", text, re.I | re.M) \
        or re.search(r"This guidance replaces ([^\n]+?)\.?[ \t]*$", text, re.M)
    if replaces:
        draft.replaces = " ".join(replaces.group(1).split()).rstrip(".")


def _coding_section(text: str) -> list[str]:
    """The lines of the coding recommendations (the whole text when it has no heading), boilerplate left out."""
    lines = [ln.strip().lstrip("\u2022*\u00b7 ").strip() for ln in text.splitlines()]
    start = next((i + 1 for i, ln in enumerate(lines) if _START.match(ln)), None)
    if start is None:
        start = 0
    out = []
    for ln in lines[start:]:
        if _END.match(ln):
            break
        out.append(ln)
    return out


def tokens(line: str) -> list[tuple[str, str, int, int]]:
    """The codes of a line as (pattern, example code, start, end): "C61.X" is C61, "Y53.-" is Y53.-."""
    out = []
    for m in _TOKEN.finditer(line):
        first = _code(m.group(1), m.group(2), m.group(3))
        if m.group(4):
            last = _code(m.group(4), m.group(5), m.group(6))
            out.append((f"{first[0]}-{last[0]}", _example(first), m.start(), m.end()))
        else:
            out.append((first[0], _example(first), m.start(), m.end()))
    return out


def _code(letter, digits, tail) -> tuple[str, str]:
    """(pattern, tail): C78.7 -> C78.7; Y53.- -> Y53.-; C61.X (NICE's filler for a three-character code) -> C61."""
    category = f"{letter}{digits}"
    if tail is None or tail == "X":
        return category, tail or ""
    return (f"{category}.-" if tail == "-" else f"{category}.{tail}"), tail


def _example(code: tuple[str, str]) -> str:
    pattern, tail = code
    if tail == "X":
        return f"{pattern}X"
    if tail in ("", "-"):
        return f"{pattern[:3]}.9"  # any code of the category: its unspecified one
    return pattern


def _connector(between: str) -> str:
    """'and' or 'or': the last joining word between two codes ('+', 'plus', 'and' / 'or', ',', '/')."""
    words = re.findall(r"\+|\bplus\b|\band\b|\bor\b|,|/", between, re.I)
    if not words:
        return "and" if between.strip() else "or"
    return "or" if words[-1].lower() in ("or", ",", "/") else "and"


def _slots(line: str, optional: bool) -> list[Slot]:
    """The slots of a line of codes: "L31.4 or L35.3" is one slot, "K35.5 + Y53.-" two."""
    found = tokens(line)
    slots: list[Slot] = []
    for i, (pattern, example, start, _end) in enumerate(found):
        if i and _connector(line[found[i - 1][3]:start]) == "or":
            last = slots[-1]
            slots[-1] = Slot(last.codes + (pattern,), last.text, optional, last.examples + (example,))
        else:
            slots.append(Slot((pattern,), line, optional, (example,)))
    return slots


def _sentences(line: str) -> list[str]:
    line = re.sub(r"^Note:\s*", "", line)
    return [s.strip() for s in re.split(r"(?<=[a-z)\]]\.)\s+(?=[A-Z])", line) if s.strip()]


class _Reader:
    """Reads the coding section line by line into ``draft``."""

    def __init__(self, draft: Draft):
        self.draft = draft
        self.group: Group | None = None
        self.listing: Slot | None = None  # the slot of a "one of the following" list being read
        self.pending_or = False

    def read(self, lines: list[str]) -> None:
        for line in lines:
            self.line(line)
        self.draft.groups = [g for g in self.draft.groups if g.slots]

    def current(self) -> Group:
        if self.group is None:
            self.group = Group("")
            self.draft.groups.append(self.group)
        return self.group

    def line(self, line: str) -> None:
        if not line:
            return
        low = line.lower().rstrip(":").strip()
        if low in ("or", "or:"):
            self.pending_or = True
            return
        if low in ("plus", "and", "+", "with"):
            return
        if re.match(r"(?:includes|excludes)\s*:", line, re.I):
            if tokens(line):
                self.draft.comments.append(f"Not required: {' '.join(line.split())!r} names codes included in or "
                                           f"excluded from the code above; no rule checks them.")
            return
        found = tokens(line)
        if found and _POSITION.search(line):
            self.draft.comments.append(
                f"CHECK: {' '.join(line.split())!r} states a position: the draft checks the code is coded, not "
                f"where; add `position:` or `directly_preceded_by:` to its rule if the position matters.")
        if re.search(r"\bICD[- ]?10\b", line, re.I) or (found and self.is_sentence(line)):
            for sentence in _sentences(line):
                self.sentence(sentence)
            return
        if not found:
            self.prose(line)
            return
        self.codes(line)

    @staticmethod
    def is_sentence(line: str) -> bool:
        return bool(_REQUIRED.search(line) or re.search(r"\bmay\b|\bare used as\b", line, re.I)
                    or line.startswith("Note"))

    def prose(self, line: str) -> None:
        """A line without codes: a group heading, a list's introduction, or a code the text does not name."""
        self.listing = None
        if _LIST_INTRO.search(line):
            self.listing = Slot((), line)
            return
        if line.endswith(":") and len(line) < 120:
            self.group = Group(line.rstrip(":").strip())
            self.draft.groups.append(self.group)
            return
        if re.search(r"\bcodes?\b", line, re.I) and len(line) < 200:
            strength = "optional" if _OPTIONAL.search(line) else "required"
            self.draft.comments.append(
                f"CHECK: the text asks for {' '.join(line.split())!r} ({strength}) but names no code: no rule was "
                f"drafted for it; add one with the codes your trust uses, or leave it out.")

    def codes(self, line: str) -> None:
        optional = bool(_OPTIONAL.search(line))
        slots = _slots(line, optional)
        if all(_procurement(c) for s in slots for c in s.codes):
            self.draft.procurement = Slot(tuple(c for s in slots for c in s.codes), line, optional)
            if _UNKNOWABLE.search(line):
                self.draft.comments.append(
                    f"CHECK: {' '.join(line.split())!r}: which X72 code depends on the care setting; the draft "
                    f"requires an X72 delivery code, and X70/X71 procurement only where the trust collects it "
                    f"(option procurement_codes_collected). Where the extract has CLASSPAT, narrow the X72 rule "
                    f"with {{patient_class: [2]}} (day cases) as IPG488-04 does.")
            return
        if _UNKNOWABLE.search(line):
            self.draft.comments.append(
                f"CHECK: {' '.join(line.split())!r} applies only in some cases (a paired organ, the care "
                f"setting): no rule was drafted; a care setting can be written as {{patient_class: [...]}} "
                f"(CLASSPAT), a paired organ cannot be read from the codes.")
            return
        if self.listing is not None and self.listing.codes and slots[0].codes[0][0] != self.listing.codes[0][0]:
            self.listing = None  # "one of the following" lists codes of one chapter; a Y53 after it is the next slot
        if self.listing is not None:
            merged = Slot(self.listing.codes + tuple(c for s in slots for c in s.codes),
                          f"{self.listing.text} {line}".strip(), optional or self.listing.optional,
                          self.listing.examples + tuple(e for s in slots for e in s.examples))
            group = self.current()
            if self.listing.codes and group.slots and group.slots[-1] is self.listing:
                group.slots[-1] = merged
            else:
                group.slots.append(merged)
            self.listing = merged
            return
        group = self.current()
        if self.pending_or and group.slots:
            last, first = group.slots[-1], slots[0]
            group.slots[-1] = Slot(last.codes + first.codes, f"{last.text} or {first.text}", last.optional,
                                   last.examples + first.examples)
            slots = slots[1:]
        self.pending_or = False
        group.slots.extend(slots)

    def sentence(self, sentence: str) -> None:
        found = tokens(sentence)
        diagnosis = bool(re.search(r"\bICD[- ]?10\b", sentence, re.I))
        if not found:
            if diagnosis and _REQUIRED.search(sentence):
                self.draft.comments.append(f"CHECK: {sentence!r}: an ICD-10 code is required but none is named; "
                                           f"no rule was drafted.")
            return
        if _DEFAULT.search(sentence) and _REQUIRED.search(sentence):
            pattern, example = found[-1][:2]
            self.draft.defaults[pattern[:3]] = (example, sentence)
            return
        optional = bool(_OPTIONAL.search(sentence))
        if not optional and not _REQUIRED.search(sentence):
            return  # "Codes in category Y53.- are used as secondary codes": says how, not whether
        if diagnosis:
            self.draft.diagnoses.append(Diagnoses(_slots(sentence, optional), sentence, optional))
            return
        for slot in _slots(sentence, optional):
            slot.text = sentence
            if slot.block_code:  # "Y53.- may also be assigned to these procedures": every group's blocks
                self.draft.block_codes.append(slot)
            else:  # "A code from category J02.- is assigned": the procedure itself
                self.current().slots.append(slot)


def _procurement(pattern: str) -> bool:
    return pattern[:1] == "X" and pattern[1:3].isdigit() and 70 <= int(pattern[1:3]) <= 72
