"""The worker's side: one Spark partition of an extract read and audited as the single process reads and audits
a file, chunk by chunk (``audit.extract.reader``'s layouts and row checks, ``audit.engine.evaluate``).

Each partition's Arrow batches become a ``Source``; the reader's own loops make the canonical episodes and set
rows aside, and the engine's chunk evaluation gives the findings. Duplicate episode ids were found by a group-by
before (``_first_mid``: the first row of the id, on the rows after it), so a partition needs no other's ids.
The rules are compiled once per Python worker and job (a module-level cache), the job itself a broadcast.

Everything comes back as one stream of Arrow batches of one schema (``output_schema``), a ``_part`` column
saying what each row is: a finding, a row set aside, an uncoded episode, the partition's episodes per provider,
specialty and coder (``audit.profile``), or its counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.episodes import END_DATE, ID, LINE
from audit.errors import UserError
from audit.extract.columns import DATE_ROLES
from audit.extract.layouts import Plan
from audit.extract.parquetfile import _parquet_text
from audit.extract.source import Source
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet

MID = "_mid"  # monotonically_increasing_id(): partition << 33 | row in the partition
FIRST_MID = "_first_mid"  # duplicate ids: the _mid of the id's first row (null on every other row)
DEFECT = "_defect"  # why the reader could not read a row (a CSV row with the wrong number of fields)
PART = "_part"
ROW_BITS = 33
COUNTS = ("n_read", "n_audited", "n_stray", "n_no_end_date", "n_blank")
# The profile (audit.profile): "profile" rows name a group column, a value and its episodes; the counts row
# carries the partition's first and last end date.
GROUP, LABEL, EPISODES = "_group", "_label", "_episodes"
FIRST_END, LAST_END = "_first_end", "_last_end"
USER_ERROR = "audit-user-error: "  # a UserError raised in a worker, said on the driver as one line


@dataclass
class PartitionJob:
    """What every partition needs, broadcast once: the rules, the reference tables, the layout plan, where each
    partition's rows start (``offsets``: the line of its first row, by partition number)."""

    rules: RuleSet
    reference: ReferenceTables | None
    plan: Plan
    name: str  # the extract's name, for messages
    chunk_rows: int
    offsets: dict[int, int]
    titles: bool
    attributes: list[str]  # the findings' attribute columns (line, provider, ...)
    uncoded_columns: list[str]
    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # the compiled rules' cache key


_COMPILED: dict[str, object] = {}  # job token -> CompiledRules, per Python worker


def output_schema(job: PartitionJob) -> pa.Schema:
    """Findings, rows set aside, uncoded episodes and counts in one schema (``_part`` says which)."""
    from audit.engine import finding_columns

    types = {LINE: pa.int64(), "reason": pa.string(), **{c: pa.int64() for c in (*COUNTS, EPISODES)}}
    types.update({role: pa.timestamp("us") for role in (*DATE_ROLES, FIRST_END, LAST_END)})
    names = [PART, *finding_columns(job.attributes, job.titles)]
    extra = ["reason", *job.uncoded_columns, *COUNTS, GROUP, LABEL, EPISODES, FIRST_END, LAST_END]
    names += [c for c in extra if c not in names]
    return pa.schema([pa.field(n, types.get(n, pa.string())) for n in names])


def audit_partition(batches: Iterator[pa.RecordBatch], job: PartitionJob) -> Iterator[pa.RecordBatch]:
    """A partition's findings, rows set aside, uncoded episodes, then its counts (the ``mapInArrow`` function)."""
    try:
        yield from _audit_partition(batches, job)
    except UserError as exc:  # said on the driver as the single process says it (audit.spark.errors)
        raise RuntimeError(USER_ERROR + str(exc)) from None


def _audit_partition(batches: Iterator[pa.RecordBatch], job: PartitionJob) -> Iterator[pa.RecordBatch]:
    from audit.engine import compile_rules, evaluate
    from audit.episodes import coded_mask
    from audit.extract.reader import _read_long, _read_rows
    from audit.extract.validate import RowChecker
    from audit.profile import EpisodeProfile

    compiled = _COMPILED.get(job.token)
    if compiled is None:
        _COMPILED.clear()  # one job at a time per worker: the last job's vocabulary is not kept
        compiled = _COMPILED[job.token] = compile_rules(job.rules, job.reference)
    schema = output_schema(job)
    plan = job.plan
    source = PartitionSource(Path(job.name), list(plan.read_columns), batches=batches, job=job)
    checker = RowChecker(plan.id_column, plan.read_columns, plan.date_columns, plan.free_text, plan.kind_column,
                         plan.position_column)
    if plan.layout == "long":
        source.sorted_by_id = True  # streamed: Spark sorted the rows by episode id (see PartitionSource)
        read = _read_long(source, plan, checker, job.chunk_rows)
    else:
        read = _read_rows(source, plan, checker, job.chunk_rows, seen=source.duplicates)
    counts = dict.fromkeys(COUNTS, 0)
    profile = EpisodeProfile()
    for batch in read:
        episodes = batch.episodes
        counts["n_read"] += batch.read
        counts["n_stray"] += batch.stray_rows
        if len(batch.rejected):
            yield _part(batch.rejected, "reject", schema)
        if len(episodes):
            coded = coded_mask(episodes)
            if not coded.all():  # no diagnosis and no procedure: listed apart, never audited
                yield _part(episodes.loc[~coded, [c for c in job.uncoded_columns if c in episodes]], "uncoded",
                            schema)
                episodes = episodes[coded].reset_index(drop=True)
        counts["n_audited"] += len(episodes)
        profile.add(episodes)
        counts["n_no_end_date"] += int(episodes[END_DATE].isna().sum()) if END_DATE in episodes else len(episodes)
        if len(episodes):
            findings = evaluate(episodes, compiled)
            if len(findings):
                yield _part(findings, "finding", schema)
    counts["n_blank"] = source.blank_rows
    groups = [pd.DataFrame({GROUP: column, LABEL: tally.index.astype(str), EPISODES: tally.to_numpy("int64")})
              for column, tally in profile.episodes.items() if len(tally)]
    if groups:
        yield _part(pd.concat(groups, ignore_index=True), "profile", schema)
    counts[FIRST_END], counts[LAST_END] = profile.first_end, profile.last_end
    yield _part(None, "count", schema, counts)


def _part(frame, part: str, schema: pa.Schema, counts: dict | None = None) -> pa.RecordBatch:
    """Rows of one kind in the output schema; the columns it does not have are null."""
    n = 1 if frame is None else len(frame)
    table = None if frame is None else pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
    arrays = []
    for f in schema:
        if f.name == PART:
            arrays.append(pa.array([part] * n, pa.string()))
        elif counts is not None and f.name in counts:
            value = counts[f.name]
            arrays.append(pa.array([None if value is None else value], f.type))
        elif table is not None and f.name in table.column_names:
            column = table.column(f.name).combine_chunks()
            if pa.types.is_dictionary(column.type):
                column = column.dictionary_decode()
            arrays.append(column.cast(f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class _Duplicates:
    """``SeenIds`` for a partition: the first line of each row's id when an earlier row had it (0 otherwise),
    from the group-by's ``_first_mid``."""

    def __init__(self):
        self.lines = np.empty(0, dtype=np.int64)  # rows with an earlier duplicate, sorted by line
        self.firsts = np.empty(0, dtype=np.int64)

    def add(self, lines: np.ndarray, firsts: np.ndarray) -> None:
        self.lines, self.firsts = np.concatenate([self.lines, lines]), np.concatenate([self.firsts, firsts])
        order = np.argsort(self.lines, kind="stable")
        self.lines, self.firsts = self.lines[order], self.firsts[order]

    def first_lines(self, ids, lines: np.ndarray) -> np.ndarray:
        lines = np.asarray(lines, dtype=np.int64)
        out = np.zeros(len(lines), dtype=np.int64)
        if self.lines.size:
            at = np.minimum(np.searchsorted(self.lines, lines), self.lines.size - 1)
            hit = self.lines[at] == lines
            out[hit] = self.firsts[at[hit]]
        return out


@dataclass
class PartitionSource(Source):
    """A partition's Arrow batches as an extract ``Source``: columns made text (dates kept) as a Parquet file's
    are, each row's line worked out from its ``_mid``."""

    located_by = "row"
    batches: object = None  # the partition's record batches: an iterator, or a list when read twice
    job: PartitionJob | None = None
    duplicates: _Duplicates = field(default_factory=_Duplicates)
    sorted_by_id: bool = False  # long layout: rows sorted by episode id in Spark

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        if self.sorted_by_id and list(columns) == [id_column]:
            # The long reader's first pass reads the ids alone to check that every episode's rows are together;
            # sorted by id they are, so it is given no rows and the partition is read once, streamed.
            return
        for batch in self.batches:
            if not batch.num_rows:
                continue
            lines = self.lines(batch.column(MID))
            if FIRST_MID in batch.schema.names:
                first = batch.column(FIRST_MID)
                if first.null_count < len(first):
                    valid = first.is_valid().to_numpy(zero_copy_only=False)
                    self.duplicates.add(lines[valid], self.lines(first.filter(first.is_valid())))
            table = pa.table({c: _parquet_text(batch.column(c), c, c in dictionary, self.path) for c in columns})
            defects = None
            if DEFECT in batch.schema.names and batch.column(DEFECT).null_count < batch.num_rows:
                defects = np.asarray(batch.column(DEFECT).fill_null("").to_pylist(), dtype=object)
            yield table, lines, defects

    def lines(self, mids: pa.Array) -> np.ndarray:
        """Each row's line (or row number): its partition's first line plus its place in the partition."""
        mid = mids.to_numpy(zero_copy_only=False).astype(np.int64)
        partition, row = mid >> ROW_BITS, mid & ((1 << ROW_BITS) - 1)
        starts = self.job.offsets
        first = np.array([starts[int(p)] for p in np.unique(partition)], dtype=np.int64)
        return first[np.searchsorted(np.unique(partition), partition)] + row
