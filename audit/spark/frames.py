"""The driver's side: a Spark DataFrame of episodes audited partition by partition (``audit.spark.partition``),
its findings, rows set aside and uncoded episodes as DataFrames, the reconciliation counted in Spark.

Order of work: the layout is planned from the DataFrame's columns, as for a file; each row gets
``monotonically_increasing_id`` and its line is worked out from it once the rows per partition are counted (a
job reading no column of a Parquet file); duplicate episode ids are a group-by on the stripped id (the rows after
an id's first get the first's ``_mid``, broadcast back: no shuffle of the episodes); a long layout is
repartitioned by episode id, each episode's rows in their order. Then ``mapInArrow`` (``mapInPandas`` where
there is none) runs the reader's loops and the engine's chunk evaluation on each partition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from audit.codes import Kind
from audit.episodes import ID, LINE
from audit.extract import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS
from audit.extract.columns import CONDITION_ROLES, Header, check_role
from audit.extract.layouts import concatenated_frame, plan_layout
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet
from audit.spark.partition import (
    COUNTS,
    DEFECT,
    EPISODES,
    FIRST_END,
    FIRST_MID,
    GROUP,
    LABEL,
    LAST_END,
    MID,
    PART,
    ROW_BITS,
    PartitionJob,
    audit_partition,
    output_schema,
)

BROADCAST_DUPLICATES = 1_000_000  # up to this many duplicate rows, their first rows are broadcast to the scan
# Id text as ``audit.extract.dates.text_values`` strips it (Python's str.strip: Unicode white space and the
# separators \x1c-\x1f).
_STRIP = r"(?U)^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"


@dataclasses.dataclass
class SparkAudit:
    """An audited DataFrame: ``output`` holds every partition's findings, rows set aside, uncoded episodes and
    counts (persisted once computed); ``findings``, ``rejected``, ``uncoded`` are its parts as DataFrames,
    ``counts`` the reconciliation (computed in Spark), ``summary`` the run's summary as the single process
    gives it. ``run_result`` brings it all to the driver as the ``RunResult`` every report takes."""

    output: object  # pyspark DataFrame
    job: PartitionJob
    rules: RuleSet
    kinds: frozenset
    not_applicable: list
    notes: list[str]
    selection_notes: list[str]
    name: str
    located_by: str
    path: str = ""
    no_column: tuple = ([], None)  # rules left out for an attribute the file has no column for, and the note
    _counts: dict | None = None

    @property
    def findings(self):
        """The findings (columns as the single process's), in no particular order."""
        from audit.engine import finding_columns

        return self._of("finding", finding_columns(self.job.attributes, self.job.titles))

    @property
    def rejected(self):
        """The rows set aside: line, episode_id, reason."""
        return self._of("reject", REJECT_COLUMNS)

    @property
    def uncoded(self):
        """Episodes with no diagnosis and no procedure: never audited, listed apart."""
        return self._of("uncoded", self.job.uncoded_columns)

    def _of(self, part: str, columns: list[str]):
        from pyspark.sql import functions as F

        return self.output.where(F.col(PART) == part).select(*[F.col(_quoted(c)) for c in columns])

    def counts(self) -> dict[str, int]:
        """Episodes read, audited, uncoded, rejected (and rows without an id, without an end date, blank),
        summed in Spark; read == audited + uncoded + rejected is checked (never silent)."""
        if self._counts is None:
            from pyspark.sql import functions as F

            with translated_errors(self.name):
                row = self.output.agg(
                    *[F.sum(c).alias(c) for c in COUNTS],
                    F.sum((F.col(PART) == "reject").cast("long")).alias("rejected_rows"),
                    F.sum((F.col(PART) == "uncoded").cast("long")).alias("uncoded"),
                ).collect()[0]
            counts = {k: int(row[k] or 0) for k in (*COUNTS, "rejected_rows", "uncoded")}
            rejected = counts["rejected_rows"] - counts["n_stray"]
            if counts["n_read"] != counts["n_audited"] + counts["uncoded"] + rejected:  # internal: never silent
                raise RuntimeError(f"reconciliation failed: {counts}")
            self._counts = counts
        return self._counts

    def profile(self):
        """Episodes audited per provider, specialty and coder, and the first and last end date
        (``audit.profile.EpisodeProfile``), summed in Spark over the partitions' tallies."""
        import pandas as pd
        from pyspark.sql import functions as F

        from audit.profile import EpisodeProfile

        with translated_errors(self.name):
            tally = self.output.where(F.col(PART) == "profile").groupBy(GROUP, LABEL).agg(
                F.sum(EPISODES).alias(EPISODES)).toPandas()
            ends = self.output.where(F.col(PART) == "count").agg(
                F.min(FIRST_END).alias(FIRST_END), F.max(LAST_END).alias(LAST_END)).collect()[0]
        profile = EpisodeProfile()
        for column, rows in tally.groupby(GROUP, sort=True):
            counts = pd.Series(rows[EPISODES].astype("int64").to_numpy(), index=rows[LABEL].to_numpy(), name="count")
            profile.episodes[column] = counts.sort_values(ascending=False, kind="stable")
        first, last = ends[FIRST_END], ends[LAST_END]
        profile.first_end = None if first is None else pd.Timestamp(first)
        profile.last_end = None if last is None else pd.Timestamp(last)
        return profile

    def summary(self) -> dict:
        """The run's summary (``RunResult.summary``), its finding counts tallied in Spark."""
        from pyspark.sql import functions as F

        with translated_errors(self.name):
            tally = self.findings.groupBy("rule_id", "severity").agg(
                F.count("*").alias("findings"), F.countDistinct(LINE).alias("episodes")).toPandas()
            episodes = self.findings.select(LINE).distinct().count()
        result = self._result(_Tallied(tally, episodes), self._collect(self.rejected), self._collect(self.uncoded))
        return result.summary()

    def run_result(self, folder: str | Path | None = None):
        """The ``RunResult`` of the single process. Spark writes the whole output once as Parquet to a
        temporary folder (the driver must be able to read it: local mode, or a shared file system), which the
        counts, rows set aside and uncoded episodes are then read from by Spark, and the findings by the
        driver a file and a batch at a time (held, or spilled to a temporary file past a million: never all in
        memory at once). ``folder``: the findings also written there by Spark as Parquet."""
        import shutil
        import tempfile

        from audit.engine import empty_findings, finding_columns
        from audit.findings import Findings

        findings = Findings(empty_findings(self.job.attributes, titles=self.job.titles))
        scratch = Path(tempfile.mkdtemp(prefix="audit-spark-"))
        output = self.output
        try:
            with translated_errors(self.name):
                self.output.write.parquet(str(scratch / "output"))
                self.output = self.output.sparkSession.read.parquet(str(scratch / "output"))
                if folder is not None:
                    self.write_findings(folder)
                columns = finding_columns(self.job.attributes, self.job.titles)
                if self.job.plan.layout == "long":  # repartitioned by episode: sorted back into extract order
                    self.write_findings(scratch / "findings")
                    batches = _parquet_batches(scratch / "findings", self.job.chunk_rows, columns)
                else:  # each partition's findings in order, the partitions in order: no sort
                    batches = _parquet_batches(scratch / "output", self.job.chunk_rows, columns, "finding")
                for batch in _episode_batches(batches):
                    findings.add(_pandas(batch))
                rejected, uncoded = self._collect(self.rejected), self._collect(self.uncoded)
                self.counts()  # summed in Spark, from the files
        finally:
            self.output = output  # the files go: any later question is asked of the audit itself
            shutil.rmtree(scratch, ignore_errors=True)
        return self._result(findings, rejected, uncoded)

    def write_findings(self, folder: str | Path, fmt: str = "parquet") -> None:
        """The findings written by Spark to ``folder`` (``fmt``: parquet, or delta where Delta Lake is
        installed), one file a partition, in extract order (file names in partition order)."""
        frame = self.findings
        if self.job.plan.layout == "long":  # repartitioned by episode: back in extract order
            frame = frame.orderBy(LINE, "rule_id")
        with translated_errors(self.name):
            frame.write.format(fmt).mode("errorifexists").save(str(folder))

    def _collect(self, frame):
        with translated_errors(self.name):
            return _pandas(_to_arrow(frame.orderBy(LINE)))

    def _result(self, findings, rejected, uncoded):
        from audit.pipeline import RunResult, conclude

        counts = self.counts()
        uncoded = uncoded if len(uncoded) else uncoded[[ID]]
        result = RunResult(self.name, self.rules, findings, rejected.astype({LINE: "int64"}), counts["n_read"],
                           counts["n_audited"], counts["n_no_end_date"], uncoded=uncoded, stray_rows=counts["n_stray"],
                           located_by=self.located_by, path=self.path, profile=self.profile())
        notes = list(self.notes)
        if counts["n_blank"]:
            n = counts["n_blank"]
            notes.append(f"{n} blank row{'s' if n != 1 else ''} skipped (nothing in the id, code or attribute "
                         "columns)")
        if counts["n_read"] == 0:
            from audit.errors import InputFileError

            raise InputFileError(Path(self.name), "no episodes: no data rows" if not counts["n_blank"] else
                                 f"no episodes: only {counts['n_blank']} blank rows")
        columns = {ID, *self.job.plan.attributes}
        conclude(result, self.kinds, self.not_applicable, list(dict.fromkeys(notes)), self.selection_notes, columns)
        out, note = self.no_column
        if out:
            result.rules_not_applicable += tuple(r.id for r in out)
            result.notes.append(note)
        return result

    def unpersist(self) -> None:
        self.output.unpersist()


class _Tallied:
    """Findings counted in Spark, for a summary without the findings on the driver."""

    def __init__(self, tally, episodes: int):
        self._tally, self._episodes = tally.astype({"findings": "int64", "episodes": "int64"}), episodes

    def tally(self):
        return self._tally

    def episodes(self) -> int:
        return self._episodes


def audit_dataframe(df, rules: RuleSet, *, columns: Mapping[str, str] | None = None, layout: str | None = None,
                    separator: str | None = None, reference: ReferenceTables | None = None,
                    options: dict | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS, name: str = "dataframe",
                    first_line: int = 1, located_by: str = "row", persist: bool = True,
                    path: str | None = None) -> SparkAudit:
    """Audit a Spark DataFrame of episodes (any layout the engine reads, ``columns`` mapping roles to its
    column names as ``--column`` does) with ``rules``: the same findings as ``audit.pipeline.run_audit`` on the
    same rows. Rows are numbered from ``first_line`` in the DataFrame's order (a CSV read with its header: 2).
    ``path``: the extract's path, for messages (default ``name``). ``persist``: keep the output once computed (every part and count reads it). Lazy: nothing runs until a
    part, the counts or the summary is asked for, except counting the rows per partition and the group-by
    of duplicate ids."""
    from pyspark.sql import functions as F

    from audit.pipeline import rules_for_kinds
    from audit.rules.options import select_rules

    rules, selection_notes = select_rules(rules, options, reference)
    mapping = {check_role(role, "columns"): col for role, col in dict(columns or {}).items()}
    header = Header([str(c) for c in df.columns if c != DEFECT])
    plan = plan_layout(Path(path or name), header, mapping, layout, separator)
    kinds = frozenset(Kind) if plan.layout == "long" else frozenset(k for k in Kind if plan.codes[k])
    rules, not_applicable = rules_for_kinds(rules, kinds)
    no_column: tuple = ([], None)
    try:  # rules reading an attribute (sex, age, specialty) the file has no column for, as run_audit leaves out
        from audit.rules.attributes import rules_for_columns
    except ImportError:  # a tree without them
        pass
    else:
        rules, *no_column = rules_for_columns(rules, {ID, LINE, *plan.attributes})
    with translated_errors(name):
        if plan.layout == "concatenated" and plan.separator is None:
            _detect_separator(df, plan, chunk_rows)
        keep = [F.col(_quoted(c)) for c in plan.read_columns] + ([F.col(DEFECT)] if DEFECT in df.columns else [])
        rows = df.select(*keep).withColumn(MID, F.monotonically_increasing_id())
        offsets = _partition_offsets(rows, first_line)
        ident = F.regexp_replace(F.coalesce(F.col(_quoted(plan.id_column)).cast("string"), F.lit("")), _STRIP, "")
        if plan.layout == "long":  # an episode's rows together, in their order; rows without an id together
            rows = rows.repartition(ident).sortWithinPartitions(ident, MID)
        else:
            rows = _with_first_rows(rows, ident)
    from audit.pipeline import UNCODED_COLUMNS

    attributes = [LINE, *(a for a in plan.attributes if a not in CONDITION_ROLES)]  # engine.attribute_columns
    job = PartitionJob(rules, reference, plan, name, chunk_rows, offsets, reference is not None, attributes,
                       [c for c in UNCODED_COLUMNS if c in (ID, LINE, *plan.attributes)])
    output = _map_partitions(rows, job)
    if persist:
        from pyspark import StorageLevel

        output = output.persist(StorageLevel.MEMORY_AND_DISK)
    return SparkAudit(output, job, rules, kinds, not_applicable, list(plan.notes), selection_notes, name,
                      located_by, no_column=tuple(no_column))


def _map_partitions(rows, job: PartitionJob):
    """``audit_partition`` on every partition: ``mapInArrow`` (Spark 3.3+), else ``mapInPandas``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    spark = rows.sparkSession
    broadcast = spark.sparkContext.broadcast(job) if _has_context(spark) else None
    schema = from_arrow_schema(output_schema(job))

    # Each function closes over the broadcast or (Spark Connect: no SparkContext) the job itself, not both.
    if broadcast is not None:
        def run(batches):
            return audit_partition(batches, broadcast.value)
    else:
        def run(batches):
            return audit_partition(batches, job)

    if hasattr(rows, "mapInArrow"):
        return rows.mapInArrow(run, schema)

    def in_pandas(frames):  # Spark < 3.3
        import pyarrow as pa

        for batch in run(pa.RecordBatch.from_pandas(f, preserve_index=False) for f in frames):
            yield batch.to_pandas()

    return rows.mapInPandas(in_pandas, schema)


def _has_context(spark) -> bool:
    try:
        return spark.sparkContext is not None
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        return False


def _partition_offsets(rows, first_line: int) -> dict[int, int]:
    """The line of each partition's first row: rows counted per partition (in partition order, the
    DataFrame's order)."""
    from pyspark.sql import functions as F

    counts = rows.groupBy(F.shiftright(F.col(MID), ROW_BITS).alias("p")).count().collect()
    offsets, line = {}, first_line
    for row in sorted(counts, key=lambda r: r["p"]):
        offsets[int(row["p"])] = line
        line += int(row["count"])
    return offsets


def _with_first_rows(rows, ident):
    """Duplicate episode ids by a group-by: each row after an id's first gets the first's ``_mid``."""
    from pyspark.sql import functions as F

    ids = rows.select(ident.alias("_id"), F.col(MID)).where(F.col("_id") != "")
    repeated = ids.groupBy("_id").agg(F.min(MID).alias(FIRST_MID), F.count("*").alias("_n")).where("_n > 1")
    n = repeated.agg(F.sum("_n")).collect()[0][0] or 0
    if not n:
        return rows
    repeated = repeated.select("_id", FIRST_MID)
    later = ids.join(F.broadcast(repeated), "_id").where(F.col(MID) != F.col(FIRST_MID)).select(MID, FIRST_MID)
    later = F.broadcast(later) if n <= BROADCAST_DUPLICATES else later
    return rows.join(later, MID, "left")


def _detect_separator(df, plan, chunk_rows: int) -> None:
    """A concatenated layout's separator, detected as the single process does from its first chunk."""
    from pyspark.sql import functions as F

    fields = [c for k in Kind for c in plan.codes[k]]
    first = _pandas(_to_arrow(df.select(*[F.col(_quoted(c)).cast("string") for c in fields]).limit(chunk_rows)))
    probe = dataclasses.replace(plan, attributes={}, notes=[])
    concatenated_frame(first.fillna(""), first[fields[0]].fillna(""), probe)
    plan.separator = probe.separator
    plan.notes.extend(probe.notes)


def _to_arrow(frame):
    """A DataFrame's rows as one Arrow table, in partition order (``toArrow``: Spark 4; before, the same
    collect by another name)."""
    return frame.toArrow() if hasattr(frame, "toArrow") else frame._collect_as_arrow_table()


def _pandas(table):
    """Arrow to pandas as the reader gives columns: text as pandas' str (missing: NaN), dates datetime64[us]."""
    import pandas as pd
    import pyarrow as pa

    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=float("nan")),
                                          pa.large_string(): pd.StringDtype("pyarrow", na_value=float("nan"))}.get)
    return frame


def _parquet_batches(folder: Path, rows: int, columns: list[str], part: str | None = None):
    """The record batches of a folder Spark wrote, its part files in name (partition) order; with ``part``,
    only the output's rows of that part."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for file in sorted(folder.glob("part-*.parquet")):
        for batch in pq.ParquetFile(file).iter_batches(batch_size=rows, columns=columns + ([PART] if part else [])):
            if part is not None:
                batch = batch.filter(pc.equal(batch.column(PART), part)).select(columns)
            if batch.num_rows:
                yield batch


def _episode_batches(batches):
    """Tables of consecutive batches, cut where the line changes: each episode's findings in one table."""
    import numpy as np
    import pyarrow as pa

    carry = None
    for batch in batches:
        table = pa.Table.from_batches([batch]) if carry is None else pa.concat_tables(
            [carry, pa.Table.from_batches([batch])])
        lines = table.column(LINE).to_numpy()
        change = np.flatnonzero(lines[1:] != lines[:-1])
        cut = int(change[-1]) + 1 if change.size else 0  # where the last episode's findings start
        if cut:
            yield table.slice(0, cut)
        carry = table.slice(cut)
    if carry is not None and carry.num_rows:
        yield carry


def _quoted(name: str) -> str:
    """A column name for ``F.col``: in backticks, so dots and spaces are part of the name."""
    return "`" + name.replace("`", "``") + "`"


from audit.spark.errors import translated_errors  # noqa: E402 - after the names it uses
