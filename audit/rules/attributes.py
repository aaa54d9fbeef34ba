"""Conditions on an episode's attributes: its sex, age, main specialty, admission method and patient
classification.

::

    {sex: male}                      # HES SEX 1 (or M); female: 2 (or F)
    {age: {max: 0}}                  # age in years (STARTAGE 7001-7007: under one year, 0)
    {age: {min: 16, max: 64}}        # inclusive; either bound may be left out
    {specialty: [501, 560]}          # main specialty (MAINSPEF / TRETSPEF) is one of these
    {admission_method: [82, 83]}     # HES ADMIMETH is one of these
    {patient_class: [2]}             # HES CLASSPAT is one of these (2: day case)

They read the column roles the extract readers know (``audit.extract.columns``: ``sex``, ``age``,
``specialty``, ``admission_method``, ``patient_class``). An episode whose value is not known (sex 9 or
0, a blank age or admission method) matches none of them, so ``not: {sex: male}`` holds for it. A rule
that names an attribute the extract has no column for is not applicable: the run leaves it out and says
so (``rules_for_columns``), as it does for a rule about a classification the extract does not hold.
Values are worked out once per distinct value of the column (``audit.reference.episode_sex`` /
``episode_age``, ``_text_in``); no loop over episodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.extract.columns import DEFAULT_NAMES

if TYPE_CHECKING:  # numpy is imported where it is used: `audit --version` starts without it
    import numpy as np

ATTRIBUTES = ("sex", "age", "specialty", "admission_method", "patient_class")
# How ``rules show`` names each in an example ("patient classification 2").
LABELS = {"sex": "sex", "age": "age", "specialty": "specialty", "admission_method": "admission method",
          "patient_class": "patient classification"}
SEXES = {"male": 1, "female": 2}
# HES CLASSPAT (NHS Data Dictionary patient classification); 8 not applicable and 9 not known match no rule.
PATIENT_CLASSES = {"1": "ordinary admission", "2": "day case", "3": "regular day attender",
                   "4": "regular night attender", "5": "mother and baby using delivery facilities only"}
# What each text-valued attribute is called in a description, and what a rule file may give it.
_TEXT = {
    "specialty": ("the main specialty", "a main specialty code or a list of them, e.g. [501, 560]"),
    "admission_method": ("the admission method", "HES ADMIMETH codes, e.g. [21, 22, 2A] (two characters)"),
    "patient_class": ("the patient classification", ("HES CLASSPAT values 1 to 5, e.g. [2] (1 ordinary "
                      "admission, 2 day case, 3 regular day attender, 4 regular night attender, 5 mother and "
                      "baby using delivery facilities only)")),
}


@dataclass(frozen=True)
class Attribute:
    """The episode's ``name`` is ``sex`` / within ``low``-``high`` years / one of ``values``."""

    name: str
    sex: int = 0
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.name == "sex":
            return f"the patient is {'male' if self.sex == 1 else 'female'}"
        if self.name == "age":
            low, high = self.low, self.high
            if high == 0 and not low:
                return "the patient is under one year old"
            if low is not None and high is not None:
                return f"the patient is {_years(low)} to {_years(high)} years old"
            if high is not None:
                return f"the patient is at most {_years(high)} year{'s' * (high != 1)} old"
            return f"the patient is at least {_years(low)} year{'s' * (low != 1)} old"
        shown = self.values if self.name != "patient_class" else \
            tuple(f"{PATIENT_CLASSES[v]} ({v})" for v in self.values)
        return f"{_TEXT[self.name][0]} is {' or '.join(shown)}"

    def holds_on(self, chunk) -> np.ndarray:
        """bool (n,) for a chunk of episodes (``audit.engine._Chunk``); False where the value is not known."""
        import numpy as np
        if self.name not in chunk.episodes:
            return np.zeros(chunk.n, dtype=bool)
        if self.name in ("sex", "age"):
            value = chunk.attribute(self.name)  # decoded once per distinct value
            if self.name == "sex":
                return value == self.sex
            with np.errstate(invalid="ignore"):
                ok = ~np.isnan(value)
                if self.low is not None:
                    ok &= value >= self.low
                if self.high is not None:
                    ok &= value <= self.high
            return ok
        key = (self.name, self.values)  # specialty, admission method, patient classification
        if key not in chunk.memo:
            chunk.memo[key] = _text_in(chunk.episodes[self.name], self.values)
        return chunk.memo[key]


def _years(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _text_in(column, values: tuple[str, ...]) -> np.ndarray:
    """bool per episode: the column's text (stripped, in capitals; a number read as 501.0 is 501) is one of
    ``values``; a dictionary-encoded column's distinct values are tested once."""
    import pandas as pd  # not at import: the command line starts without pandas

    from audit.extract.dates import per_value, text_values

    def test(text) -> np.ndarray:
        text = pd.Series(text, dtype="str").str.strip().str.upper().str.replace(r"\.0$", "", regex=True)
        return text.isin(list(values)).to_numpy(dtype=bool)

    cells = per_value(column, test, False)
    return cells if cells is not None else test(text_values(column))


def parse(key: str, value, line: int, fail) -> Attribute:
    """``{sex: ...}``, ``{age: {...}}``, or ``{specialty: [...]}`` and the other text-valued attributes,
    from a rule file (``fail(line, problem)``)."""
    from audit.rules.yamlsource import LineList, LineMap

    if key == "sex":
        if value not in SEXES:
            fail(line, "'sex' takes male or female (HES SEX 1 or 2; other values match neither)")
        return Attribute("sex", sex=SEXES[value])
    if key == "age":
        if not isinstance(value, LineMap) or not value or set(value) - {"min", "max"}:
            fail(line, "'age' takes {min: YEARS, max: YEARS} (either may be left out; under one year is 0)")
        bounds = {}
        for bound in ("min", "max"):
            if bound in value:
                v = value[bound]
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 150:
                    fail(value.line_of(bound), f"age '{bound}' takes a number of years from 0 to 150, not {v!r}")
                bounds[bound] = float(v)
        if bounds.get("min", 0) > bounds.get("max", 150):
            fail(line, "age 'min' is above 'max'")
        return Attribute("age", low=bounds.get("min"), high=bounds.get("max"))
    items = list(value) if isinstance(value, LineList) else [value]
    texts = tuple(str(v).strip().upper() for v in items)
    if not texts or any(isinstance(v, bool) or not isinstance(v, (str, int)) or not t or not _valid(key, t)
                        for v, t in zip(items, texts)):
        fail(line, f"'{key}' takes {_TEXT[key][1]}")
    return Attribute(key, values=tuple(dict.fromkeys(texts)))


def _valid(key: str, text: str) -> bool:
    if key == "patient_class":
        return text in PATIENT_CLASSES
    if key == "admission_method":  # two characters: 11, 21, 2A, 82 (a one-digit value is a typo)
        return len(text) == 2 and text[0].isdigit() and text[1].isalnum() and text.isascii()
    return True


def attributes_of(rule) -> set[str]:
    """The episode attributes a rule's conditions read."""
    from audit.rules import conditions as c

    return {x.name for cond in rule.conditions for x in c.walk(cond) if isinstance(x, Attribute)}


def rules_for_columns(rules, columns: set[str]):
    """The rules an extract with these canonical columns can check, the rules left out because they read an
    attribute it has no column for, and a note saying so (None when none is left out)."""
    from audit.rules.model import RuleSet

    keep, out, missing = [], [], set()
    for rule in rules:
        lacking = attributes_of(rule) - set(columns)
        (out if lacking else keep).append(rule)
        missing |= lacking
    if not out:
        return rules, [], None
    names = [f"{DEFAULT_NAMES[a][0]} ({a})" for a in ATTRIBUTES if a in missing]
    names = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 2 else names)
    ids = ", ".join(r.id for r in out)
    needs = f"{len(out)} rules that need" if len(out) != 1 else "1 rule that needs"
    note = (f"the extract has no {names} column: {needs} {'it' if len(missing) == 1 else 'them'} could not "
            f"apply ({ids})")
    return RuleSet(keep), out, note
