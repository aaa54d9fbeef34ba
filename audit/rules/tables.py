"""Table-driven rules: the pairs (or lists) of codes a rule checks live in a table beside its file.

::

    require: {not_coded_together: {diagnosis: {table: excludes1-pairs.csv}}}

A table is CSV with a header (or YAML: a list of mappings with the same keys, in a file named
``*.table.yaml`` so that it is not read as a rule file). Two shapes:

``first, second[, unless], note``
    a pair: codes matching ``first`` and codes matching ``second`` are not coded together (unless
    the episode has a code matching ``unless``);
``codes, note``
    a list: at most one of the codes (each comma-separated item is one group: ``"N18.1, N18.2,
    N18.3"``) in an episode, e.g. more than one stage of the same condition.

Cells are patterns as in rule files (``@name`` code sets of the rule file included). Each finding
names the row: its number (the first row under the header is row 1), what it says and its note, in
the finding's ``expected`` text; its ``found`` codes are those of the rows that fired.

Evaluation is column-wise: every cell is a pattern bit matched once against each distinct code of
the run (``audit.engine``); a row is two (or a few) bit tests over the chunk, a loop over table rows,
never over episodes.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from audit.codes import Kind
from audit.errors import RuleFileError
from audit.patterns import Pattern, PatternError
from audit.rules.conditions import _any

if TYPE_CHECKING:  # numpy is imported where it is used: `audit --version` starts without it
    import numpy as np

PAIR_COLUMNS = ("first", "second", "unless", "note")
LIST_COLUMNS = ("codes", "note")


@dataclass(frozen=True)
class TableRow:
    """One row of a table: its number (1 = the first under the header), its line, its groups of codes."""

    number: int
    line: int
    groups: tuple[Pattern, ...]
    unless: Pattern | None = None
    note: str = ""
    pair: bool = True

    def describe(self) -> str:
        text = (" with ".join(_any(g) for g in self.groups) if self.pair else
                "more than one of " + ", ".join(str(g) for g in self.groups))
        return text + (f" unless {self.unless}" if self.unless is not None else "")

    def patterns(self) -> tuple[Pattern, ...]:
        return (*self.groups, *((self.unless,) if self.unless is not None else ()))


@dataclass(frozen=True)
class Table:
    """A table of code pairs or lists, as read from ``path`` (``name``: as the rule file names it)."""

    name: str
    path: str
    kind: Kind
    rows: tuple[TableRow, ...]

    @property
    def pairs(self) -> bool:
        return all(r.pair for r in self.rows)


@dataclass(frozen=True)
class NotCodedTogetherTable:
    """For every row of ``table``: codes of at most one of its groups (none of the row's codes when the
    episode has its ``unless``)."""

    table: Table
    explains_findings = True  # its findings name their rows and show the rows' codes (``explain``)

    @property
    def kind(self) -> Kind:
        return self.table.kind

    def describe(self) -> str:
        t = self.table
        rows = f"{len(t.rows)} row{'s' * (len(t.rows) != 1)}"
        if t.pairs:
            return f"no row of the table {t.name} ({rows}) has codes of both its columns in the episode"
        return f"at most one code of each row of the table {t.name} ({rows}) in the episode"

    def patterns(self):
        for row in self.table.rows:
            yield from row.patterns()

    def fired(self, chunk) -> list[tuple[int, np.ndarray]]:
        """(row index, the chunk's episodes where the row fires) for each row that fires somewhere."""
        import numpy as np
        key = ("table", id(self))
        if key not in chunk.memo:
            out = []
            for i, row in enumerate(self.table.rows):  # a loop over table rows, not episodes
                if sum(bool(chunk.pattern_values(g).any()) for g in row.groups) < 2:
                    continue  # fewer than two of its groups in the run's codes at all: cannot fire
                present = sum(chunk.has(g).astype(np.int8) for g in row.groups)
                hit = present >= 2
                if row.unless is not None:
                    hit &= ~chunk.has(row.unless)
                if hit.any():
                    out.append((i, np.flatnonzero(hit)))
            chunk.memo[key] = out
        return chunk.memo[key]

    def holds_on(self, chunk) -> np.ndarray:
        """bool (n,): no row fires on the episode."""
        import numpy as np
        out = np.ones(chunk.n, dtype=bool)
        for _, episodes in self.fired(chunk):
            out[episodes] = False
        return out


def describe_tables(rule, where=str, limit: int = 200) -> list[str]:
    """Lines for ``audit rules show``: each table the rule reads, where it is, and its rows."""
    lines = []
    for cond in table_conditions(rule):
        t = cond.table
        lines.append(f"Table {t.name} ({len(t.rows)} rows, {where(t.path)}):")
        for row in t.rows[:limit]:
            lines.append(f"  row {row.number}: {row.describe()}" + (f" ({row.note})" if row.note else ""))
        if len(t.rows) > limit:
            lines.append(f"  ... {len(t.rows) - limit} more rows")
    return lines


def table_conditions(rule) -> list[NotCodedTogetherTable]:
    """The table conditions of a rule's conditions."""
    from audit.rules import conditions as c

    return [x for cond in rule.conditions for x in c.walk(cond) if isinstance(x, NotCodedTogetherTable)]


def explain(chunk, rule, rows: np.ndarray, cells: dict, involved: dict):
    """For a table rule's flagged episodes (``rows`` of the chunk, ascending): the cells of the rows that
    fired added to ``involved``, and per episode the text naming those rows (Arrow text) to follow
    ``expected``; (``involved``, None) for other rules."""
    import numpy as np
    tables = table_conditions(rule)
    if not tables:
        return involved, None
    import pyarrow as pa
    import pyarrow.compute as pc

    compiled = chunk.compiled
    at_parts, text_parts = [], []
    masks = {kind: np.zeros((rows.size, compiled.words(kind)), dtype=np.uint64) for kind in Kind}
    for cond in tables:
        table = cond.table
        for i, episodes in cond.fired(chunk):
            at = np.searchsorted(rows, episodes)
            ok = at < rows.size
            ok[ok] = rows[at[ok]] == episodes[ok]
            at = at[ok]
            if not at.size:
                continue
            row = table.rows[i]
            for p in row.groups:
                bit = compiled.bit(p)
                masks[p.kind][at, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
            note = f": {row.note}" if row.note else ""
            at_parts.append(at)
            text_parts.append(np.full(at.size, f"{table.name} row {row.number}, {row.describe()}{note}", object))
    involved = dict(involved)
    for kind in Kind:
        if masks[kind].any():
            involved[kind] = involved[kind] | (chunk.cell_bits(cells[kind]) & masks[kind][:, None, :]).any(axis=2)
    if not at_parts:
        return involved, pa.array([""] * rows.size, pa.string())
    at, text = np.concatenate(at_parts), np.concatenate(text_parts)
    order = np.argsort(at, kind="stable")  # by episode, each episode's rows in table order
    counts = np.bincount(at, minlength=rows.size)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), pa.array(text[order], pa.string())), "; ")
    return involved, pc.if_else(pc.equal(joined, ""), "", pc.binary_join_element_wise(" (", joined, ")", ""))


# -- reading ------------------------------------------------------------------------------------------------
def load_table(name: str, rule_file: Path, line: int, kind: Kind, codesets) -> Table:
    """The table ``name`` (a path relative to the rule file), its cells parsed as ``kind`` patterns; a missing
    file names the rule file and line, a bad cell the table file and its row."""
    path = (Path(rule_file).parent / name)
    if not path.is_file():
        raise RuleFileError(rule_file, line, f"table {name!r} not found (looked for {path})")
    if path.suffix == ".csv":
        records = _csv_records(path)
    elif path.name.endswith((".table.yaml", ".table.yml")):
        records = _yaml_records(path)
    else:
        raise RuleFileError(rule_file, line, f"table {name!r}: a table is a .csv file or a .table.yaml file")
    rows = []
    for number, (at, record) in enumerate(records, start=1):
        rows.append(_row(path, number, at, record, kind, codesets))
    if not rows:
        raise RuleFileError(path, None, "the table has no rows")
    return Table(name, str(path), kind, tuple(rows))


def _columns(path: Path, line: int | None, names) -> tuple[str, ...]:
    names = tuple(str(n).strip() for n in names)
    if {"first", "second"} <= set(names) and set(names) <= set(PAIR_COLUMNS):
        return names
    if "codes" in names and set(names) <= set(LIST_COLUMNS):
        return names
    raise RuleFileError(path, line, f"the columns must be {', '.join(PAIR_COLUMNS)} (unless and note optional) "
                                    f"or {', '.join(LIST_COLUMNS)} (note optional), not {', '.join(names)}")


def _csv_records(path: Path) -> list[tuple[int, dict]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise RuleFileError(path, None, "the table is empty (it needs a header row)")
            names = _columns(path, 1, header)
            out = []
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) > len(names):
                    raise RuleFileError(path, reader.line_num, f"row {len(out) + 1}: {len(cells)} cells for "
                                                               f"{len(names)} columns (quote a cell with commas)")
                out.append((reader.line_num, dict(zip(names, (c.strip() for c in cells)))))
            return out
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, None, f"cannot read table: {exc}") from None
    except csv.Error as exc:
        raise RuleFileError(path, None, f"not a CSV table: {exc}") from None


def _yaml_records(path: Path) -> list[tuple[int, dict]]:
    from audit.rules.yamlsource import LineList, LineMap, load_yaml

    doc = load_yaml(path)
    if not isinstance(doc, LineList):
        raise RuleFileError(path, None, "a YAML table is a list of rows, e.g. - {first: I21, second: I23}")
    out = []
    for i, item in enumerate(doc):
        if not isinstance(item, LineMap):
            raise RuleFileError(path, doc.line_of(i), f"row {i + 1}: a row is a mapping such as "
                                                      "{first: I21, second: I23, note: ...}")
        _columns(path, item.line, item.keys())
        record = {k: ", ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v)
                  for k, v in item.items()}
        out.append((item.line, record))
    return out


def _row(path: Path, number: int, line: int, record: dict, kind: Kind, codesets) -> TableRow:
    def cell(text: str, column: str) -> Pattern:
        return _cell(path, number, line, text.strip(), column, kind, codesets)

    note = record.get("note", "").strip()
    if "codes" in record:  # a list: each comma-separated item is one group
        groups = tuple(cell(item, "codes") for item in record["codes"].split(","))
        if len(groups) < 2:
            raise RuleFileError(path, line, f"row {number}: 'codes' needs at least two codes, e.g. \"N18.1, N18.2\"")
        return TableRow(number, line, groups, None, note, pair=False)
    unless = cell(record["unless"], "unless") if record.get("unless", "").strip() else None
    return TableRow(number, line, (cell(record.get("first", ""), "first"), cell(record.get("second", ""), "second")),
                    unless, note)


def _cell(path: Path, number: int, line: int, text: str, column: str, kind: Kind, codesets) -> Pattern:
    """One cell as a pattern; a bad one names the table file, line and row."""
    from audit.rules.codesets import CodeSetError

    if not text:
        raise RuleFileError(path, line, f"row {number}: '{column}' is empty")
    try:
        return codesets.pattern(text, kind)
    except (PatternError, CodeSetError) as exc:
        raise RuleFileError(path, line, f"row {number}: {exc}") from None
