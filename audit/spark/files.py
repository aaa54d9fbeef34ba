"""``audit run EXTRACT --engine spark``: an extract file, a folder of them, or a catalogue table (``table:NAME``)
read by Spark and audited by ``audit.spark.frames``; the same ``RunResult`` as the single process, so the same
reports; the findings also written by Spark as Parquet (``--findings-parquet DIR``)."""

from __future__ import annotations

import csv
from pathlib import Path

from audit.errors import InputFileError, UserError
from audit.extract import DEFAULT_CHUNK_ROWS
from audit.spark.frames import audit_dataframe
from audit.spark.partition import DEFECT

TABLE_PREFIX = "table:"  # EXTRACT naming a catalogue table rather than a file
_HIDDEN = ("_", ".")  # Spark's and Hadoop's own files in a folder (_SUCCESS, .crc)


def spark_session(master: str | None = None):
    """The active Spark session (a notebook's, a job's), else one started with ``master`` (default
    ``local[*]``)."""
    import warnings

    # pyspark 4 warns on import that it does not yet fully support pandas 3: the audit does not use pyspark.pandas.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UserError("--engine spark needs pyspark: pip install \"coding-audit[spark]\" (and Java 17)") from None
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.master(master or "local[*]").appName("coding-audit")
    builder = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
    # Batches of 64K rows to the Python workers (Spark's default is 10K): a quarter of a chunk per call.
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", "65536")
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - no Java, a master that does not answer
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise UserError(f"cannot start Spark (master {master or 'local[*]'}): {first}") from None
    spark.sparkContext.setLogLevel("ERROR")  # the run's messages are ours; Spark's warnings are for its logs
    return spark


def run_spark_audit(path, rules, chunk_rows: int = DEFAULT_CHUNK_ROWS, *, reference=None, options=None,
                    columns=None, layout=None, encoding=None, delimiter=None, separator=None, sheet=None,
                    spark_master: str | None = None, findings_parquet: Path | None = None, progress=None,
                    workers: int = 0, spark=None):
    """Audit an extract with Spark: the ``RunResult`` of ``audit.pipeline.run_audit`` on the same file.
    ``progress`` and ``workers`` are the single process's (Spark shows and sizes its own work)."""
    if not isinstance(path, (str, Path)):  # a database URL (audit.extract.database)
        raise UserError("--engine spark reads files, folders and catalogue tables (table:NAME); a database URL is "
                        "read by the single process (leave out --engine spark)")
    if sheet is not None:
        raise UserError("--sheet: Excel workbooks are read by the single process (leave out --engine spark)")
    spark = spark or spark_session(spark_master)
    df, name, first_line, located_by = read_with_spark(spark, path, encoding=encoding, delimiter=delimiter)
    audit = audit_dataframe(df, rules, columns=columns, layout=layout, separator=separator, reference=reference,
                            options=options, chunk_rows=chunk_rows, name=name, first_line=first_line,
                            located_by=located_by, path=str(path), persist=False)
    audit.path = str(path)
    try:
        return audit.run_result(findings_parquet)  # Spark writes the findings there (or to a temporary folder)
    finally:
        audit.unpersist()


def read_with_spark(spark, path, *, encoding: str | None = None, delimiter: str | None = None):
    """The extract as a DataFrame of its own columns (CSV: all text), its name, its first row's line and what
    a line is ("line": a CSV's, "row": Parquet's, a table's)."""
    from audit.spark.errors import translated_errors

    text = str(path)
    if text.startswith(TABLE_PREFIX):
        table = text[len(TABLE_PREFIX):]
        with translated_errors(text):
            return spark.table(table), table, 1, "row"
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file or folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(_HIDDEN)) \
        if path.is_dir() else [path]
    if not files:
        raise InputFileError(path, "a folder with no extract files")
    kinds = {_format(f) for f in files}
    if len(kinds) > 1:
        raise InputFileError(path, "a folder of both Parquet and CSV files: give one kind")
    kind = kinds.pop()
    with translated_errors(path.name):
        if kind == "parquet":
            frames = [spark.read.parquet(str(f)) for f in files]
            first_line, located_by = 1, "row"
        else:
            frames = [_read_csv(spark, f, encoding, delimiter) for f in files]
            first_line, located_by = 2, "line"
        df = frames[0]
        for other in frames[1:]:  # union keeps each file's partitions in order: rows numbered in name order
            df = df.unionByName(other, allowMissingColumns=True)
    return df, path.name, first_line, located_by


def _format(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise InputFileError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not magic:
        raise InputFileError(path, "the file is empty")
    if magic.startswith(b"PAR1"):
        return "parquet"
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(path, "an Excel workbook: Spark reads CSV and Parquet (leave out --engine spark)")
    if magic.startswith(b"\x1f\x8b") and path.suffix.lower() != ".gz":
        raise InputFileError(path, "gzip-compressed: Spark decompresses files named .gz only (rename it)")
    return "csv"


def _read_csv(spark, path: Path, encoding: str | None, delimiter: str | None):
    """A CSV file with Spark's reader, every column text, its delimiter and encoding found as the single
    process finds them; a row with the wrong number of fields kept with its reason (``_defect``)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from audit.extract.csvfile import _sniff_delimiter, parse_delimiter

    head = _head(path)
    encoding = encoding or _encoding(head)
    try:
        first = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0]
    except IndexError:
        raise InputFileError(path, "the file is empty") from None
    delimiter = parse_delimiter(delimiter) if delimiter else _sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter))
    corrupt = "_corrupt_record"
    schema = StructType([StructField(n, StringType()) for n in header] + [StructField(corrupt, StringType())])
    df = spark.read.csv(str(path), schema=schema, header=True, sep=delimiter, encoding=encoding,
                        quote='"', escape='"', mode="PERMISSIVE", columnNameOfCorruptRecord=corrupt, enforceSchema=True,
                        ignoreLeadingWhiteSpace=False, ignoreTrailingWhiteSpace=False, nullValue=None)
    expected = len(header)
    fields = F.size(F.split(F.col(corrupt), _regex_quote(delimiter), -1))
    reason = F.when(F.col(corrupt).isNotNull() & (fields != expected),
                    F.concat(F.lit("ragged row: "), fields.cast("string"),
                             F.when(fields == 1, F.lit(" field")).otherwise(F.lit(" fields")),
                             F.lit(f", expected {expected}")))
    return df.withColumn(DEFECT, reason).drop(corrupt)


def _regex_quote(text: str) -> str:
    import re

    return re.escape(text)


def _head(path: Path, size: int = 1 << 16) -> bytes:
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as f:
        return f.read(size)


def _encoding(head: bytes) -> str:
    """UTF-8 when the file's start is UTF-8 (a character cut at the end allowed), else Windows-1252."""
    try:
        head.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as exc:
        return "UTF-8" if exc.start >= len(head) - 3 else "windows-1252"
