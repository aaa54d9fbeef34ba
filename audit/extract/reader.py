"""Read an extract into canonical episode frames, a chunk at a time; rows that cannot be audited set aside.

Every row read is either audited or rejected with its line and reason: the
reconciliation ``read == audited + rejected`` holds for every batch. (For the
long layout the unit is the episode, plus any row without an episode id.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audit.codes import Kind
from audit.episodes import ID, LINE
from audit.errors import InputFileError, UserError
from audit.extract import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS, dates
from audit.extract.columns import EPISODE_ID, Header, check_role, resolve
from audit.extract.database import as_database
from audit.extract.formats import open_source
from audit.extract.layouts import (
    LAYOUTS,
    Plan,
    concatenated_frame,
    long_frame,
    long_rows,
    plan_layout,
    wide_frame,
)
from audit.extract.source import RawChunk, Source, defect_rows, joined_defects
from audit.extract.validate import RowChecker, SeenIds, join

MAX_ID_SHOWN = 64  # a rejected row's id is shown cut to this length (it may be the junk that got it rejected)


@dataclass
class Batch:
    """One chunk read from an extract: the episodes to audit and the rows set aside."""

    episodes: pd.DataFrame  # canonical episode frame
    rejected: pd.DataFrame  # line, episode_id, reason
    read: int  # episodes read from the file in this chunk (wide, concatenated: rows)
    notes: list[str] = field(default_factory=list)  # for the run's summary (the last batch carries them)
    # Long layout: rows set aside that belong to no episode (no episode id); in ``rejected``, not in ``read``.
    stray_rows: int = 0
    kinds: frozenset = frozenset(Kind)  # the classifications the file has code columns for
    located_by: str = "line"  # what the episodes' ``line`` is: a text file's line, or a "row" (Parquet, sheet, table)


READ_SETTINGS = ("layout", "encoding", "delimiter", "sheet", "separator")  # [tool.audit.extract]


def settings_read_options(settings: Mapping) -> dict[str, str]:
    """The ``[tool.audit.extract]`` table of the settings, checked: defaults for ``read_extract``'s
    layout, encoding, delimiter, sheet and separator (--layout, --encoding... on the command line)."""
    from audit.config import where

    table = settings.get("extract", {})
    if not isinstance(table, Mapping):
        raise UserError(f"{where(settings, 'extract')} must be a table")
    unknown = sorted(set(table) - set(READ_SETTINGS))
    if unknown:
        raise UserError(f"{where(settings, 'extract')}: unknown setting {unknown[0]!r} "
                        f"(settings: {', '.join(READ_SETTINGS)})")
    if "layout" in table and table["layout"] not in LAYOUTS:
        raise UserError(f"{where(settings, 'extract')} layout: {table['layout']!r} is not one of "
                        f"{', '.join(LAYOUTS)}")
    return {k: str(v) for k, v in table.items()}


def read_extract(
    path: Path,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    *,
    layout: str | None = None,
    columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    separator: str | None = None,
    delimiter: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> Iterator[Batch]:
    """Stream an extract (CSV, gzip CSV, Parquet, .xlsx; wide, long or concatenated) as canonical batches.

    ``columns`` maps roles (``audit.extract.columns.ROLES``) to the file's column names;
    ``layout`` forces a layout; ``encoding`` and ``delimiter`` apply to CSV, ``sheet`` to
    .xlsx, ``separator`` to concatenated code fields. Unusable files raise ``InputFileError``.
    ``path`` may also be a database (``audit.extract.database``): a ``DatabaseExtract``, or a URL with
    ``table`` or ``query``.
    """
    database = as_database(path, table, query)  # None: a file
    path = database if database is not None else Path(path)
    mapping = {check_role(role, "columns"): name for role, name in dict(columns or {}).items()}

    def looks_like_header(names: list[str]) -> bool:
        return resolve(Header(names), EPISODE_ID, mapping).column is not None

    source = database.open() if database is not None else open_source(
        path, encoding=encoding, delimiter=delimiter, sheet=sheet, header_hint=looks_like_header
    )
    plan = plan_layout(path, Header(source.header), mapping, layout, separator, note=source.header_note)
    checker = RowChecker(
        plan.id_column,
        plan.read_columns,
        plan.date_columns,
        plan.free_text,
        plan.kind_column,
        plan.position_column,
    )
    batches = (
        _read_long(source, plan, checker, chunk_rows)
        if plan.layout == "long"
        else _read_rows(source, plan, checker, chunk_rows)
    )
    read = 0
    kinds = frozenset(Kind) if plan.layout == "long" else frozenset(k for k in Kind if plan.codes[k])
    for batch in batches:
        read += batch.read + batch.stray_rows
        batch.kinds, batch.located_by = kinds, source.located_by
        yield batch
    if read == 0:
        where = (
            "no data rows under the header"
            if not source.blank_rows
            else f"only {plural(source.blank_rows, 'blank row')} under the header"
        )
        raise InputFileError(path, f"no episodes: {where}")
    notes = [*source.notes, *plan.notes]
    if source.blank_rows:
        notes.append(
            f"{plural(source.blank_rows, 'blank row')} skipped (nothing in the id, code or attribute columns)"
        )
    yield Batch(_empty_episodes(), empty_rejects(), 0, list(dict.fromkeys(notes)), kinds=kinds,
                located_by=source.located_by)


def _chunks(source: Source, plan: Plan, chunk_rows: int) -> Iterator[RawChunk]:
    """The plan's columns of the source, ``chunk_rows`` rows at a time."""
    return source.chunks(plan.read_columns, plan.dictionary_columns, chunk_rows, plan.id_column,
                         plan.single_code_columns)


def _read_rows(source: Source, plan: Plan, checker: RowChecker, chunk_rows: int,
               seen: SeenIds | None = None) -> Iterator[Batch]:
    """Wide and concatenated layouts: one row per episode; duplicate ids are found across chunks (by ``seen``:
    by default the ids of this read; audit.spark gives those a group-by found)."""
    to_frame = wide_frame if plan.layout == "wide" else concatenated_frame
    for raw in _chunks(source, plan, chunk_rows):
        if seen is None:  # made at the first chunk: a CSV's rows are counted by then (CsvSource.open)
            seen = SeenIds(expected=source.rows or 0)
        ids = dates.text_values(raw.frame[plan.id_column])
        reasons = _defects_first(raw.defects, checker.problems(raw.frame))  # None: no row has one
        first = seen.first_lines(ids, raw.lines)
        dup = first > 0
        if dup.any():
            said = "duplicate episode id (first at line " + pd.Series(first[dup]).astype(str) + ")"
            if reasons is None:
                reasons = np.full(len(raw.lines), "", dtype=object)
            reasons[dup] = join(said.to_numpy(dtype=object), reasons[dup])
        keep = None if reasons is None else reasons == ""
        if keep is None or keep.all():  # the usual chunk: nothing set aside, nothing to copy
            episodes, rejected = to_frame(raw.frame, ids, plan), empty_rejects()
            episodes.insert(1, LINE, raw.lines)
        else:
            kept = raw.frame[keep].reset_index(drop=True)
            episodes = to_frame(kept, ids[keep].reset_index(drop=True), plan)
            episodes.insert(1, LINE, raw.lines[keep])
            rejected = _rejects(raw.lines[~keep], ids[~keep].to_numpy(dtype=object), reasons[~keep])
        yield Batch(episodes, rejected, len(raw.lines))


def _read_long(source: Source, plan: Plan, checker: RowChecker, chunk_rows: int) -> Iterator[Batch]:
    """Long layout: one row per code, grouped into episodes.

    An episode's rows may straddle two chunks: the last episode of each chunk is
    carried into the next. A file whose episodes' rows are not together is read
    whole (a note says so); sort it by episode id to stream it.
    """
    chunks = _chunks(source, plan, chunk_rows)
    if not _grouped(source, plan, chunk_rows):
        plan.notes.append(
            f"the rows of some episodes in {source.path.name} are not together: the file was read "
            "whole; sort it by episode id to stream it in chunks"
        )
        whole = _concat(list(chunks))
        if len(whole.lines):
            yield _long_batch(whole, dates.text_values(whole.frame[plan.id_column]), plan, checker)
        return
    carry: RawChunk | None = None
    carry_ids: pd.Series | None = None
    for raw in chunks:
        raw = _concat([carry, raw]) if carry is not None else raw
        ids = dates.text_values(raw.frame[plan.id_column])  # stripped once: for the split and the batch
        start = _trailing_episode(ids.to_numpy(dtype=object))
        carry, carry_ids = _slice(raw, start, None), ids.iloc[start:].reset_index(drop=True)
        if start:
            yield _long_batch(_slice(raw, 0, start), ids.iloc[:start].reset_index(drop=True), plan, checker)
    if carry is not None and len(carry.lines):
        yield _long_batch(carry, carry_ids, plan, checker)


def _long_batch(raw: RawChunk, ids: pd.Series, plan: Plan, checker: RowChecker) -> Batch:
    """A long chunk's episodes and rejects; ``ids`` is its id column as ``dates.text_values`` gives it."""
    id_values = ids.to_numpy(dtype=object)
    rows = long_rows(raw.frame, ids, raw.lines, plan)
    checked = _defects_first(raw.defects, checker.problems(raw.frame))
    reasons = rows.reasons if checked is None else join(checked, rows.reasons)
    lone = id_values == ""  # a row without an episode id is set aside on its own
    defective = (reasons != "") & ~lone
    # An episode with any defective row is set aside whole: auditing it without that code could mislead.
    bad = pd.DataFrame(
        {"line": raw.lines[defective], "episode_id": id_values[defective], "reason": reasons[defective]}
    )
    grouped = bad.groupby("episode_id", sort=False)
    per_episode = grouped.first().reset_index()
    more = grouped.size().to_numpy() - 1
    per_episode["reason"] = per_episode["reason"].to_numpy(dtype=object) + np.where(
        more > 0, " (and " + pd.Series(more).astype(str).to_numpy(dtype=object) + " more of its rows)", ""
    )
    keep = ~lone & ~np.isin(id_values, per_episode["episode_id"].to_numpy(dtype=object))
    rejected = pd.concat(
        [
            _rejects(raw.lines[lone], id_values[lone], reasons[lone]),
            _rejects(
                per_episode["line"].to_numpy(),
                per_episode["episode_id"].to_numpy(dtype=object),
                per_episode["reason"].to_numpy(dtype=object),
            ),
        ],
        ignore_index=True,
    )
    rejected = rejected.sort_values("line", kind="stable").reset_index(drop=True)
    episodes = long_frame(raw.frame, ids, rows, keep, plan, raw.lines)
    read = int(pd.unique(id_values[~lone]).size)
    return Batch(episodes, rejected, read, stray_rows=int(lone.sum()))


def _defects_first(defects: np.ndarray | None, reasons: np.ndarray | None) -> np.ndarray | None:
    """Each row's reasons (None: no row has one), a format defect (a row the file's format could not read)
    taking precedence."""
    if defects is None or not (defective := defects != "").any():
        return reasons
    return np.where(defective, defects, "" if reasons is None else reasons)


def _grouped(source: Source, plan: Plan, chunk_rows: int) -> bool:
    """A first pass over the ids alone: is every episode's run of rows in one place?"""
    seen = SeenIds()
    previous, counter = None, 0
    for raw in source.chunks([plan.id_column], [], chunk_rows, plan.id_column):
        ids = dates.text_values(raw.frame[plan.id_column]).to_numpy(dtype=object)
        ids = ids[ids != ""]
        if not len(ids):
            continue
        start = np.ones(len(ids), dtype=bool)
        start[1:] = ids[1:] != ids[:-1]
        start[0] = ids[0] != previous
        runs = ids[start]
        stamps = np.arange(counter + 1, counter + 1 + len(runs), dtype=np.int64)
        counter += len(runs)
        if (seen.first_lines(runs, stamps) > 0).any():
            return False
        previous = ids[-1]
    return True


def _trailing_episode(ids: np.ndarray) -> int:
    """Where the chunk's last episode (its last run of rows with one id) starts."""
    present = np.flatnonzero(ids != "")
    if not present.size:
        return len(ids)
    other = np.flatnonzero(ids[present] != ids[present[-1]])
    return int(present[other[-1]] + 1) if other.size else 0


def _slice(raw: RawChunk, start: int, stop: int | None) -> RawChunk:
    return RawChunk(
        raw.frame.iloc[start:stop].reset_index(drop=True),
        raw.lines[start:stop],
        defect_rows(raw.defects, slice(start, stop)),
    )


def _concat(parts: list[RawChunk | None]) -> RawChunk:
    parts = [p for p in parts if p is not None and len(p.lines)]
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return RawChunk(pd.DataFrame(), np.empty(0, dtype=np.int64), None)
    columns = {
        col: pd.concat([p.frame[col] for p in parts], ignore_index=True) for col in parts[0].frame.columns
    }
    return RawChunk(
        pd.DataFrame(columns),
        np.concatenate([p.lines for p in parts]),
        joined_defects([p.defects for p in parts], [len(p.lines) for p in parts]),
    )


def _rejects(lines: np.ndarray, ids: np.ndarray, reasons: np.ndarray) -> pd.DataFrame:
    shown = pd.Series(ids, dtype=object).astype(str)
    long = shown.str.len() > MAX_ID_SHOWN
    if long.any():
        shown[long] = shown[long].str.slice(0, MAX_ID_SHOWN) + "..."
    return pd.DataFrame(
        {
            "line": np.asarray(lines, dtype=np.int64),
            "episode_id": shown.to_numpy(dtype=object),
            "reason": np.asarray(reasons, dtype=object),
        },
        columns=REJECT_COLUMNS,
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def empty_rejects() -> pd.DataFrame:
    return _rejects(np.empty(0, dtype=np.int64), np.empty(0, dtype=object), np.empty(0, dtype=object))


def _empty_episodes() -> pd.DataFrame:
    return pd.DataFrame({ID: pd.Series(dtype="str")})
