"""Where an extract keeps its codes, and how each layout becomes the canonical episode frame.

- wide: one row per episode, numbered code columns (HES ``DIAG_01``.., ``OPERTN_01``..,
  or the derived ``DIAG_4_01``..), any number of each;
- concatenated: one row per episode, one field holding all its diagnoses and one all
  its procedures (``DIAG_ALL`` / ``OPERTN_ALL``), split on a separator that is detected
  or given;
- long: one row per code (episode id, kind diagnosis/procedure, position, code).

The layout is detected from the columns (wide, then concatenated, then long) or
chosen; column names come from ``audit.extract.columns``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.codes import Kind
from audit.episodes import CODE_PREFIX, ID, LINE, code_column
from audit.errors import InputFileError, UserError
from audit.extract import dates
from audit.extract.columns import (
    CODE_ROLES,
    CONCATENATED_FIELDS,
    DATE_ROLES,
    EPISODE_ID,
    EPISODE_ROLES,
    LAYOUTS,
    LONG_ROLES,
    WIDE_PREFIXES,
    AmbiguousColumn,
    Header,
    looked_for,
    resolve,
)
from audit.extract.validate import kind_of, positions

# Separators suppliers put between codes in a concatenated field ("||" between groups splits as "|").
SEPARATORS = ("|", ",", ";", "~", "^", ":", "+", "/")
WHITESPACE = " "


@dataclass
class Plan:
    """One file's layout: which of its columns hold the id, the codes and the attributes."""

    layout: str
    id_column: str
    attributes: dict[str, str]  # canonical role -> file column, in canonical order
    codes: dict[Kind, list[str]]  # wide: columns in position order; concatenated: [field]
    kind_column: str | None = None  # long
    position_column: str | None = None  # long (optional: file order otherwise)
    code_column: str | None = None  # long
    separator: str | None = None  # concatenated: given, or detected from the first values
    notes: list[str] = field(default_factory=list)

    @property
    def read_columns(self) -> list[str]:
        cols = [
            self.id_column,
            *self.attributes.values(),
            *self.codes[Kind.DIAGNOSIS],
            *self.codes[Kind.PROCEDURE],
            self.kind_column,
            self.position_column,
            self.code_column,
        ]
        return list(dict.fromkeys(c for c in cols if c))

    @property
    def dictionary_columns(self) -> list[str]:
        """Columns worth dictionary-encoding: codes and attributes repeat, concatenated fields seldom do."""
        attributes = list(self.attributes.values())
        if self.layout == "wide":
            return self.codes[Kind.DIAGNOSIS] + self.codes[Kind.PROCEDURE] + attributes
        if self.layout == "long":
            return [c for c in (self.kind_column, self.code_column) if c] + attributes
        return attributes

    @property
    def single_code_columns(self) -> list[str]:
        """The dictionary columns holding one code a cell (short text: a source may intern it)."""
        if self.layout == "wide":
            return self.codes[Kind.DIAGNOSIS] + self.codes[Kind.PROCEDURE]
        return [self.code_column] if self.layout == "long" and self.code_column else []

    @property
    def date_columns(self) -> dict[str, str]:
        return {col: role for role, col in self.attributes.items() if role in DATE_ROLES}

    @property
    def free_text(self) -> tuple[str, ...]:
        """Columns where a line break is not a defect (codes on separate lines of one cell)."""
        return (
            tuple(self.codes[Kind.DIAGNOSIS] + self.codes[Kind.PROCEDURE])
            if self.layout == "concatenated"
            else ()
        )


def plan_layout(
    path: Path,
    header: Header,
    mapping: Mapping[str, str],
    layout: str | None = None,
    separator: str | None = None,
    note: str = "",
) -> Plan:
    """Find the layout's columns; an unusable file gets one message naming what is missing."""

    def fail(problem: str) -> InputFileError:
        extra = f"; {note}" if note else ""
        return InputFileError(path, f"{problem} (columns: {header.preview()}){extra}")

    if layout is not None and layout not in LAYOUTS:
        raise UserError(f"unknown layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    try:
        ident = resolve(header, EPISODE_ID, mapping)
        if ident.column is None:
            raise fail(
                f"no episode id column: looked for {looked_for(EPISODE_ID, mapping)}; "
                "name yours with --column episode_id=NAME"
            )
        attributes = {}
        for role in EPISODE_ROLES:
            found = resolve(header, role, mapping)
            if found.column is not None:
                attributes[role] = found.column
            elif found.mapped and mapping[role]:
                raise fail(f"no column {mapping[role]!r} for {role} (mapped)")
        wide = {kind: _wide_columns(header, kind, mapping) for kind in Kind}
        fields = {kind: _concatenated_field(header, kind, mapping) for kind in Kind}
        long = {role: resolve(header, role, mapping) for role in LONG_ROLES}
    except AmbiguousColumn as exc:
        raise fail(f"column {exc.name!r} appears more than once in the header") from None
    except _Problem as exc:
        raise fail(str(exc)) from None

    found = [
        name
        for name, ok in (
            ("wide", any(wide.values())),
            ("concatenated", any(fields.values())),
            ("long", long["kind"].column and long["code"].column),
        )
        if ok
    ]
    chosen = layout or (found[0] if found else None)
    if chosen is None:
        raise fail(
            "no code columns: expected numbered DIAG_nn / OPERTN_nn columns (wide), DIAG_ALL / "
            "OPERTN_ALL fields (concatenated), or kind and code columns (long); name yours with "
            "--column diagnoses=..., procedures=... or kind=..., code=..."
        )
    base = {"layout": chosen, "id_column": ident.column, "attributes": attributes}
    if chosen in ("wide", "concatenated"):
        # A code role mapped to a name that matches nothing would audit every episode without those codes.
        codes = wide if chosen == "wide" else fields
        for kind, role in CODE_ROLES.items():
            if mapping.get(role) and not codes[kind]:
                shape = (f"numbered columns {mapping[role]}01, {mapping[role]}02, ..." if chosen == "wide"
                         else f"a column {mapping[role]!r}")
                raise fail(f"{role} mapped to {mapping[role]!r}, but the file has no {shape}")
    if chosen == "wide":
        if not any(wide.values()):
            raise fail(
                "--layout wide: no numbered code columns (DIAG_01.., OPERTN_01..; map a prefix with "
                "--column diagnoses=PREFIX)"
            )
        return Plan(**base, codes=wide)
    if chosen == "concatenated":
        if not any(fields.values()):
            raise fail(
                "--layout concatenated: no DIAG_ALL / OPERTN_ALL field (map yours with "
                "--column diagnoses=NAME, --column procedures=NAME)"
            )
        return Plan(
            **base, codes={k: [c] if c else [] for k, c in fields.items()}, separator=separator or None
        )
    missing = [role for role in ("kind", "code") if long[role].column is None]
    if missing:
        raise fail(
            "--layout long: no "
            + " or ".join(f"{r} column (looked for {looked_for(r, mapping)})" for r in missing)
        )
    if long["position"].column is None and long["position"].mapped and mapping["position"]:
        raise fail(f"no column {mapping['position']!r} for position (mapped)")
    return Plan(
        **base,
        codes={Kind.DIAGNOSIS: [], Kind.PROCEDURE: []},
        kind_column=long["kind"].column,
        position_column=long["position"].column,
        code_column=long["code"].column,
    )


def _wide_columns(header: Header, kind: Kind, mapping: Mapping[str, str]) -> list[str]:
    role = CODE_ROLES[kind]
    if role in mapping and not mapping[role]:
        return []
    prefixes = (mapping[role],) if role in mapping else WIDE_PREFIXES[kind]
    for prefix in prefixes:  # DIAG_nn if present, else the derived DIAG_4_nn
        found = header.numbered(prefix)
        if found:
            numbers = [n for n, _ in found]
            if len(set(numbers)) != len(numbers):
                dup = next(n for n in numbers if numbers.count(n) > 1)
                raise _Problem(
                    f"two {role} columns numbered {dup}: " + ", ".join(c for n, c in found if n == dup)
                )
            return [col for _, col in found]
    return []


class _Problem(Exception):
    """A problem with the header found while planning; reported with the file's columns."""


def _concatenated_field(header: Header, kind: Kind, mapping: Mapping[str, str]) -> str | None:
    role = CODE_ROLES[kind]
    names = (mapping[role],) if role in mapping else CONCATENATED_FIELDS[kind]
    for name in names:
        if name and (col := header.find(name)) is not None:
            return col
    return None


# -- canonical frames ---------------------------------------------------------------------------


def with_both_kinds(data: dict[str, object], n: int) -> pd.DataFrame:
    """The canonical frame, with an empty first column for a classification the file has no codes of."""
    prefixes = tuple(CODE_PREFIX.values())
    ordered = {k: v for k, v in data.items() if not k.startswith(prefixes)}
    for kind in Kind:
        first = code_column(kind, 1)
        if first not in data:  # the engine takes at least one column of each
            ordered[first] = pd.Categorical([""] * n)
        ordered.update({k: v for k, v in data.items() if k.startswith(CODE_PREFIX[kind])})
    return pd.DataFrame(ordered, copy=False)


def attribute_frame(raw: pd.DataFrame, plan: Plan) -> dict[str, pd.Series]:
    """The episode attributes under canonical names: dates parsed, the rest as stripped text (a reader's
    Arrow dictionary stays one, its distinct values stripped)."""
    out = {}
    for role, col in plan.attributes.items():
        s = raw[col]
        if role in DATE_ROLES:
            out[role] = dates.parse_dates(s)
        elif (arr := dates.arrow_dictionary(s)) is not None and not arr.null_count:
            stripped = pa.DictionaryArray.from_arrays(arr.indices, pc.utf8_trim_whitespace(arr.dictionary))
            out[role] = pd.Series(pd.arrays.ArrowExtensionArray(stripped))
        else:
            out[role] = dates.text_values(s).astype("str")
    return out


def wide_frame(raw: pd.DataFrame, ids: pd.Series, plan: Plan) -> pd.DataFrame:
    """Canonical frame of a wide chunk: the numbered columns become diag_01.., proc_01.. in order."""
    data: dict[str, object] = {ID: ids.astype("str"), **attribute_frame(raw, plan)}
    for kind in Kind:
        for pos, col in enumerate(plan.codes[kind], start=1):
            data[code_column(kind, pos)] = raw[col]
    return with_both_kinds(data, len(ids))


def detect_separator(values: list[pd.Series]) -> str | None:
    """The separator most of the values contain (None while no value holds more than one code)."""
    text = pd.concat([dates.text_values(v) for v in values], ignore_index=True)
    text = text[text != ""]
    counts = {sep: int(text.str.contains(sep, regex=False).sum()) for sep in SEPARATORS}
    counts[WHITESPACE] = int(text.str.contains(r"\s", regex=True).sum())
    best = max(counts, key=lambda sep: counts[sep])  # first of equals: the order above
    return best if counts[best] else None


def split_codes(values: pd.Series, separator: str | None) -> pd.DataFrame:
    """One concatenated field as columns of codes, in order (empty positions kept)."""
    text = dates.text_values(values)
    if separator is None:
        parts = pd.DataFrame({0: text})
    elif separator == WHITESPACE:
        parts = text.str.split(r"\s+", regex=True, expand=True)
    else:
        parts = text.str.split(separator, regex=False, expand=True)
    if parts.shape[1] == 0:
        parts = pd.DataFrame({0: pd.Series("", index=values.index)})
    return parts.apply(dates.text_values)


def concatenated_frame(raw: pd.DataFrame, ids: pd.Series, plan: Plan) -> pd.DataFrame:
    """Canonical frame of a concatenated chunk: each field split into diag_01.., proc_01.."""
    if plan.separator is None:
        plan.separator = detect_separator([raw[c] for k in Kind for c in plan.codes[k]])
        if plan.separator is not None:
            shown = "whitespace" if plan.separator == WHITESPACE else repr(plan.separator)
            plan.notes.append(
                f"codes in {', '.join(c for k in Kind for c in plan.codes[k])} "
                f"split on {shown} (detected; give --separator to change it)"
            )
    data: dict[str, object] = {ID: ids.astype("str"), **attribute_frame(raw, plan)}
    for kind in Kind:
        for col in plan.codes[kind]:
            parts = split_codes(raw[col], plan.separator)
            for j in range(parts.shape[1]):  # a loop over positions, each column at once
                data[code_column(kind, j + 1)] = parts[j].astype("category")
    return with_both_kinds(data, len(ids))


@dataclass
class LongRows:
    """A long chunk's code rows, checked: kind, position and code per row."""

    kind: np.ndarray  # object: Kind.value, or "" for a row holding no code
    position: np.ndarray  # int64, 1-based
    reasons: np.ndarray  # object: "" or why the row's episode cannot be audited


def long_rows(raw: pd.DataFrame, ids: pd.Series, lines: np.ndarray, plan: Plan) -> LongRows:
    """Kinds and positions of each code row; duplicate positions and code rows without a kind are defects."""
    n = len(raw)
    code = dates.text_values(raw[plan.code_column])
    kind, no_kind = _kinds(raw[plan.kind_column])
    reasons = np.full(n, "", dtype=object)
    blank_kind = (kind == "") & (code != "").to_numpy() & no_kind
    reasons[blank_kind] = "a code without a kind (diagnosis or procedure)"
    holds_code = kind != ""
    key = pd.DataFrame({"id": ids.to_numpy(), "kind": kind})
    if plan.position_column is not None:
        text = dates.text_values(raw[plan.position_column])  # stripped once
        pos = positions(text)
        missing = holds_code & pos.isna().to_numpy() & (text == "").to_numpy()
        reasons[missing] = "a code without a position"
        position = pos.fillna(0).to_numpy().astype(np.int64)
    else:
        # No position column: codes are in file order within each episode and kind.
        position = key.groupby(["id", "kind"], sort=False).cumcount().to_numpy().astype(np.int64) + 1
    key["pos"] = position
    valid = holds_code & (position >= 1) & (ids.to_numpy() != "")
    dup = np.zeros(n, dtype=bool)
    dup[valid] = key[valid].duplicated(keep="first").to_numpy()
    if dup.any():
        first = (
            pd.Series(lines[valid])
            .groupby(
                [key["id"][valid].to_numpy(), key["kind"][valid].to_numpy(), position[valid]], sort=False
            )
            .transform("first")
            .to_numpy()
        )
        first_line = np.zeros(n, dtype=np.int64)
        first_line[valid] = first
        reasons[dup] = (
            "two "
            + pd.Series(kind[dup])
            + " codes at position "
            + pd.Series(position[dup]).astype(str)
            + " (first at line "
            + pd.Series(first_line[dup]).astype(str)
            + ")"
        ).to_numpy()
    return LongRows(kind, position, reasons)


def _kinds(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's ``kind_of``, and whether it is blank; worked out once per distinct value of a
    dictionary-encoded column."""
    # Stripped as ``dates.text_values`` strips an encoded column's values; a missing cell: blank, no kind.
    kind = dates.per_value(values, lambda v: kind_of(v.str.strip()).to_numpy(dtype=object), "")
    if kind is not None:
        return kind, dates.per_value(values, lambda v: (v.str.strip() == "").to_numpy(dtype=bool), True)
    text = dates.text_values(values)  # stripped once
    return kind_of(text).to_numpy(dtype=object), (text == "").to_numpy(dtype=bool)


def long_frame(
    raw: pd.DataFrame, ids: pd.Series, rows: LongRows, keep: np.ndarray, plan: Plan, lines: np.ndarray
) -> pd.DataFrame:
    """Canonical frame of a long chunk's episodes (rows ``keep``), in order of first appearance; an
    episode's line is its first row's."""
    ids_kept = ids.to_numpy()[keep]
    episode, order = pd.factorize(ids_kept)  # episode number of each row, in order of first appearance
    # factorize numbers episodes in order of first appearance: each number's first row, in that order.
    first_row = np.flatnonzero(keep)[np.unique(episode, return_index=True)[1]]
    n_episodes = len(order)
    firsts = raw.iloc[first_row].reset_index(drop=True)
    data: dict[str, object] = {
        ID: pd.Series(order, dtype=object).astype("str"),
        LINE: lines[first_row],
        **attribute_frame(firsts, plan),
    }
    dictionary = dates.encoded(raw[plan.code_column])
    if dictionary is None:
        dictionary = dates.encoded(raw[plan.code_column].astype("category"))
    code_index, values = dictionary
    # A reader's dictionary may hold a value twice (pieces' dictionaries end to end); categories may not.
    value_index, categories = pd.factorize(values)
    code_index = np.append(value_index, -1)[code_index[keep]]  # code -1 (missing) stays -1
    kinds = rows.kind[keep]
    position = rows.position[keep]
    for kind in Kind:
        sel = np.flatnonzero(kinds == kind.value)
        width = int(position[sel].max()) if sel.size else 0
        matrix = np.full((n_episodes, width), -1, dtype=np.int64)
        matrix[episode[sel], position[sel] - 1] = code_index[sel]
        for j in range(width):  # a loop over positions; each builds the column for every episode
            data[code_column(kind, j + 1)] = pd.Categorical.from_codes(matrix[:, j], categories)
    return with_both_kinds(data, n_episodes)
