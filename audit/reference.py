"""The classification tables users bring (NHS TRUD files; licensed, never shipped), and lookups in them.

Two files are read, found by their content in the folder given with
``--reference DIR`` (or ``reference = "DIR"`` in ``[tool.audit]``):

- OPCS-4 ``CodesAndTitles`` (e.g. ``OPCS410 CodesAndTitles Nov 2022 V1.0.txt``):
  tab-separated, no header, two columns: dotted code (three-character
  categories included) and title.
- ICD-10 5th Edition ``ICD10_Edition5_CodesAndTitlesAndMetadata_GB_20160401.txt``:
  tab-separated with a header ``CODE, ALT_CODE, USAGE, USAGE_UK, DESCRIPTION,
  MODIFIER_4, MODIFIER_5, QUALIFIERS, GENDER_MASK, MIN_AGE, MAX_AGE,
  TREE_DESCRIPTION``.

How the metadata is read (our reading; the files carry no documentation of
their own). Public loaders of this file declare GENDER_MASK as a one-digit
number and MIN_AGE / MAX_AGE as numbers of up to three digits, blank when a
code has no restriction. GENDER_MASK is read as a bit mask of the sexes a code
may be used for, in the NHS sex coding (1 male, 2 female): 1 = male only,
2 = female only, 3 or 0 or blank = either (``M`` / ``F`` are accepted for 1 /
2). MIN_AGE / MAX_AGE are whole years, inclusive. A code is "in the
classification" when its dotted form is a CODE (or, for a fourth or fifth
character the file does not list, when the code above it has a MODIFIER_4 /
MODIFIER_5 entry, i.e. the character is a modifier); a category given where
the file lists codes below it needs a fourth character and is not valid on
its own. USAGE ``DAGGER`` / ``ASTERISK`` mark dagger and asterisk codes.

Everything is looked up once per distinct code of a chunk (``CodeFacts``) and
mapped onto the episodes with integer takes by the engine.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit.codes import ASTERISK, DAGGER, InvalidCode, Kind, parse_icd10, parse_opcs4
from audit.errors import InputFileError
from audit.extract.dates import per_value, text_values

ICD10_HEADER = ("CODE", "ALT_CODE", "USAGE", "USAGE_UK", "DESCRIPTION", "MODIFIER_4", "MODIFIER_5",
                "QUALIFIERS", "GENDER_MASK", "MIN_AGE", "MAX_AGE", "TREE_DESCRIPTION")
_ICD10_REQUIRED = ("CODE", "DESCRIPTION", "USAGE", "GENDER_MASK", "MIN_AGE", "MAX_AGE")
_SUFFIXES = (".txt", ".tsv", ".tab")
_SEX_MASK = {"": 0, "0": 0, "1": 1, "2": 2, "3": 3, "M": 1, "F": 2}
_OLDEST = 150  # an age above this is a code for "not known", not an age
NAMES = {Kind.DIAGNOSIS: "ICD-10", Kind.PROCEDURE: "OPCS-4"}


@dataclass(frozen=True)
class CodeFacts:
    """What the classification says about each of an array of canonical codes (aligned with it)."""

    known: np.ndarray  # bool: the code is in the classification
    needs_more: np.ndarray  # bool: a category (or code) the classification divides further
    title: np.ndarray  # object: the title, "" when unknown
    usage: np.ndarray  # object: "dagger", "asterisk" or ""
    male_ok: np.ndarray  # bool: may be used for a male patient
    female_ok: np.ndarray  # bool: may be used for a female patient
    min_age: np.ndarray  # float years, NaN: no lower limit
    max_age: np.ndarray  # float years, NaN: no upper limit

    @property
    def invalid(self) -> np.ndarray:
        return ~self.known | self.needs_more


@dataclass(frozen=True)
class CodeTable:
    """One classification's table, indexed by the canonical dotted code."""

    kind: Kind
    path: Path
    frame: pd.DataFrame  # title, usage, sex_mask, min_age, max_age, modifier_4, modifier_5, has_children

    def __len__(self) -> int:
        return len(self.frame)

    def facts(self, codes: np.ndarray) -> CodeFacts:
        """Look up canonical codes ("" for none); codes not listed may still be valid via a modifier."""
        codes = pd.Series(np.asarray(codes, dtype=object), dtype=object).fillna("").astype(str)
        row = self.frame.index.get_indexer(codes)
        known = row >= 0
        needs_more = np.zeros(len(codes), dtype=bool)
        needs_more[known] = self.frame["has_children"].to_numpy()[row[known]]
        if self.kind is Kind.DIAGNOSIS and len(self.frame):
            # A fourth or fifth character the file does not list is valid when it is a modifier (MODIFIER_4 /
            # MODIFIER_5) of the code above it or of its category; the code then has that code's facts.
            length = codes.str.replace(".", "", regex=False).str.len().to_numpy()
            parent = self.frame.index.get_indexer(codes.str.slice(0, -1).str.rstrip("."))
            category = self.frame.index.get_indexer(codes.str.slice(0, 3))
            for level, column in ((4, "modifier_4"), (5, "modifier_5")):
                flag = self.frame[column].to_numpy()
                by_parent = (parent >= 0) & flag[np.maximum(parent, 0)]
                by_category = (category >= 0) & flag[np.maximum(category, 0)]
                ok = ~known & (length == level) & (by_parent | by_category)
                row[ok] = np.where(parent[ok] >= 0, parent[ok], category[ok])
                known |= ok
        take = np.where(known, row, 0)
        col = lambda name, fill: np.where(known, self.frame[name].to_numpy()[take], fill) \
            if len(self.frame) else np.full(len(codes), fill)
        mask = col("sex_mask", 0).astype(np.int64)
        return CodeFacts(
            known=known, needs_more=needs_more,
            title=col("title", "").astype(object), usage=col("usage", "").astype(object),
            male_ok=(mask == 0) | (mask & 1 == 1), female_ok=(mask == 0) | (mask & 2 == 2),
            min_age=col("min_age", np.nan).astype(float), max_age=col("max_age", np.nan).astype(float),
        )


@dataclass(frozen=True)
class ReferenceTables:
    """The classification tables of one run; either may be missing."""

    tables: dict[Kind, CodeTable]

    @property
    def kinds(self) -> set[Kind]:
        return set(self.tables)

    def get(self, kind: Kind) -> CodeTable | None:
        return self.tables.get(kind)

    def describe(self) -> str:
        return "; ".join(f"{NAMES[k]} {t.path.name} ({len(t)} codes)" for k, t in sorted(
            self.tables.items(), key=lambda kv: kv[0].value))


# -- reading ----------------------------------------------------------------------------------------------
def load_reference(path: Path) -> ReferenceTables:
    """Find and read the TRUD tables in a folder (searched recursively) or a single file."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such reference folder or file")
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
    found: dict[Kind, list[Path]] = {Kind.DIAGNOSIS: [], Kind.PROCEDURE: []}
    for f in files:
        kind = _sniff(f)
        if kind is not None:
            found[kind].append(f)
    tables = {}
    for kind, candidates in found.items():
        if len(candidates) > 1:  # a TRUD pack may hold several files; prefer the one named as expected
            named = [f for f in candidates if ("CODESANDTITLES" in f.name.upper().replace(" ", "")
                                               and (kind is Kind.PROCEDURE or "METADATA" in f.name.upper()))]
            candidates = named or candidates
        if len(candidates) > 1:
            raise InputFileError(path, f"more than one {NAMES[kind]} table: "
                                       f"{', '.join(str(f) for f in candidates)}; keep one or name the file")
        if candidates:
            tables[kind] = read_icd10(candidates[0]) if kind is Kind.DIAGNOSIS else read_opcs4(candidates[0])
    if not tables:
        raise InputFileError(path, "no reference tables found: expected the OPCS-4 CodesAndTitles file and/or "
                                   "the ICD-10 5th Edition CodesAndTitlesAndMetadata file (NHS TRUD, tab-separated)")
    return ReferenceTables(tables)


def _first_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.readline(65536)
    except OSError as exc:
        raise InputFileError(path, f"cannot read reference file ({exc})") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return head.decode(encoding).rstrip("\r\n")
        except UnicodeDecodeError:
            continue
    return ""


def _sniff(path: Path) -> Kind | None:
    """Which table a file is, from its first line: the ICD-10 header, or an OPCS-4 code and a title."""
    fields = _first_line(path).split("\t")
    if fields[0].strip().upper() == "CODE" and "ALT_CODE" in (f.strip().upper() for f in fields):
        return Kind.DIAGNOSIS
    if len(fields) == 2 and "ICD" not in path.name.upper():
        try:
            if parse_opcs4(fields[0]) is not None:
                return Kind.PROCEDURE
        except InvalidCode:
            return None
    return None


def _read_tsv(path: Path, header: bool) -> pd.DataFrame:
    """All fields as text, keeping blank lines so row numbers stay file line numbers."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, sep="\t", header=0 if header else None, dtype=str, encoding=encoding,
                               keep_default_na=False, na_filter=False, quoting=csv.QUOTE_NONE,
                               skip_blank_lines=False, engine="c")
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            raise InputFileError(path, "the reference file is empty", line=1) from None
        except pd.errors.ParserError as exc:
            m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if m:
                raise InputFileError(path, f"expected {m.group(1)} tab-separated fields, found {m.group(3)}",
                                     line=int(m.group(2))) from None
            raise InputFileError(path, f"not a tab-separated table ({str(exc).splitlines()[0]})") from None
        except OSError as exc:
            raise InputFileError(path, f"cannot read reference file ({exc})") from None
    raise InputFileError(path, "the reference file is neither UTF-8 nor Windows-1252 text")


def _codes(path: Path, raw: pd.Series, lines: np.ndarray, kind: Kind, column: str) -> pd.Series:
    """Canonical dotted codes of a table's code column; a value that is not a code is an error."""
    parse = (lambda v: parse_icd10(v).code) if kind is Kind.DIAGNOSIS else (lambda v: str(parse_opcs4(v) or ""))
    out = []
    for value, line in zip(raw.to_numpy(), lines):  # one pass over the table's rows at load time
        try:
            code = parse(value) if value.strip() else ""
        except InvalidCode:
            code = ""
        if not code:
            raise InputFileError(path, f"{value.strip()!r} is not an {NAMES[kind]} code", line=int(line),
                                 column=column)
        out.append(code)
    codes = pd.Series(out, dtype=object)
    dup = codes.duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(lines[int(np.flatnonzero((codes == codes[i]).to_numpy())[0])])
        raise InputFileError(path, f"code {codes[i]} is listed twice (also line {first})", line=int(lines[i]),
                             column=column)
    return codes


def _table(path: Path, kind: Kind, codes: pd.Series, data: dict) -> CodeTable:
    frame = pd.DataFrame(data, index=pd.Index(codes, dtype=object))
    # A category the table divides (it lists four-character codes below it) is not a code on its own. A
    # fourth-character code with fifth characters below it is left to the rules on fifth characters.
    fourth = codes[codes.str.replace(".", "", regex=False).str.len() == 4]
    frame["has_children"] = frame.index.isin(fourth.str.slice(0, 3))
    return CodeTable(kind, path, frame)


def read_opcs4(path: Path) -> CodeTable:
    """The OPCS-4 CodesAndTitles file: code and title, tab-separated, no header."""
    raw = _read_tsv(path, header=False)
    lines = np.arange(1, len(raw) + 1)
    blank = (raw.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    raw, lines = raw[~blank].reset_index(drop=True), lines[~blank]
    if raw.shape[1] != 2:
        raise InputFileError(path, f"expected 2 tab-separated fields (code, title), found {raw.shape[1]}",
                             line=int(lines[0]) if len(lines) else 1)
    titles = raw[1].str.strip()
    if (titles == "").any():
        raise InputFileError(path, "a code without a title", line=int(lines[(titles == "").to_numpy()][0]),
                             column="2")
    codes = _codes(path, raw[0], lines, Kind.PROCEDURE, "1")
    n = len(codes)
    return _table(path, Kind.PROCEDURE, codes, {
        "title": titles.to_numpy(dtype=object), "usage": np.full(n, "", dtype=object),
        "sex_mask": np.zeros(n, dtype=np.int64), "min_age": np.full(n, np.nan), "max_age": np.full(n, np.nan),
        "modifier_4": np.zeros(n, dtype=bool), "modifier_5": np.zeros(n, dtype=bool)})


def read_icd10(path: Path) -> CodeTable:
    """The ICD-10 5th Edition CodesAndTitlesAndMetadata file (header row; see the module docstring)."""
    raw = _read_tsv(path, header=True)
    raw.columns = [str(c).strip().upper() for c in raw.columns]
    missing = [c for c in _ICD10_REQUIRED if c not in raw.columns]
    if missing:
        raise InputFileError(path, f"not the ICD-10 metadata layout: no column {', '.join(missing)} "
                                   f"(expected {', '.join(ICD10_HEADER)})", line=1)
    lines = np.arange(2, len(raw) + 2)
    blank = (raw.apply(lambda col: col.astype(str).str.strip()) == "").all(axis=1).to_numpy()
    raw, lines = raw[~blank].reset_index(drop=True), lines[~blank]
    text = {c: raw[c].astype(str).str.strip() for c in raw.columns}
    titles = text["DESCRIPTION"]
    if (titles == "").any():
        raise InputFileError(path, "a code without a DESCRIPTION", line=int(lines[(titles == "").to_numpy()][0]),
                             column="DESCRIPTION")
    codes = _codes(path, raw["CODE"], lines, Kind.DIAGNOSIS, "CODE")
    sex = text["GENDER_MASK"].str.upper()
    bad = ~sex.isin(list(_SEX_MASK))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputFileError(path, f"GENDER_MASK {sex[i]!r} is not blank, 0, 1 (male), 2 (female) or 3",
                             line=int(lines[i]), column="GENDER_MASK")
    ages = {}
    for column in ("MIN_AGE", "MAX_AGE"):
        values = pd.to_numeric(text[column].replace("", np.nan), errors="coerce")
        bad = ((text[column] != "") & (values.isna() | (values < 0) | (values > _OLDEST) | (values % 1 != 0)))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(path, f"{column} {text[column][i]!r} is not blank or a whole number of years",
                                 line=int(lines[i]), column=column)
        ages[column] = values.to_numpy(dtype=float)
    upside_down = ages["MIN_AGE"] > ages["MAX_AGE"]
    if upside_down.any():
        i = int(np.flatnonzero(upside_down)[0])
        raise InputFileError(path, "MIN_AGE is above MAX_AGE", line=int(lines[i]), column="MIN_AGE")
    usage = text["USAGE"].str.upper().map({"DAGGER": DAGGER, "ASTERISK": ASTERISK}).fillna("")
    modifier = {c: (text[c] != "").to_numpy() if c in text else np.zeros(len(raw), dtype=bool)
                for c in ("MODIFIER_4", "MODIFIER_5")}
    return _table(path, Kind.DIAGNOSIS, codes, {
        "title": titles.to_numpy(dtype=object), "usage": usage.to_numpy(dtype=object),
        "sex_mask": sex.map(_SEX_MASK).to_numpy(dtype=np.int64),
        "min_age": ages["MIN_AGE"], "max_age": ages["MAX_AGE"],
        "modifier_4": modifier["MODIFIER_4"], "modifier_5": modifier["MODIFIER_5"]})


# -- the episode attributes the checks compare against ---------------------------------------------------
MALE, FEMALE = 1, 2


def episode_sex(values: pd.Series) -> np.ndarray:
    """int8 per episode: 1 male, 2 female, 0 anything else (9 not specified, 0 not known, blank)."""
    cells = per_value(values, _sex, np.int8(0))  # a dictionary-encoded column: each distinct value once
    return cells if cells is not None else _sex(values)


def _sex(values: pd.Series) -> np.ndarray:
    text = text_values(values).str.upper()  # stripped, blank for missing
    text = text.str.replace(r"\.0$", "", regex=True)  # a number read as a float: "1.0"
    out = np.zeros(len(text), dtype=np.int8)
    out[text.isin(["1", "M"]).to_numpy()] = MALE
    out[text.isin(["2", "F"]).to_numpy()] = FEMALE
    return out


def episode_age(values: pd.Series) -> np.ndarray:
    """float years per episode, NaN when not known.

    HES STARTAGE is whole years, except 7001-7007, which code ages under one year (7001 under a day up
    to 7007, 273-365 days): those are 0 years. Other values above 150 (e.g. 999) mean not known.
    """
    cells = per_value(values, _age, np.nan)  # a dictionary-encoded column: each distinct value once
    return cells if cells is not None else _age(values)


def _age(values: pd.Series) -> np.ndarray:
    age = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce").to_numpy(dtype=float)
    infant = (age >= 7001) & (age <= 7007)
    age = np.where(infant, 0.0, age)
    return np.where((age < 0) | (age > _OLDEST), np.nan, np.floor(age))
