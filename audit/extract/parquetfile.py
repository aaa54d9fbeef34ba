"""Parquet files read a row group batch at a time by pyarrow, code columns kept dictionary-encoded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from audit.errors import InputFileError
from audit.extract.source import CODES, TEXT, Source, first_line
from audit.kernels import compiling_pays, load_in_background


@dataclass
class ParquetSource(Source):
    """A Parquet file, read a row group batch at a time; line numbers are 1-based row numbers."""

    located_by = "row"

    schema: pa.Schema | None = None

    @classmethod
    def open(cls, path: Path) -> ParquetSource:
        try:
            file = pq.ParquetFile(path)
            schema = file.schema_arrow
            names = schema.names
        except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: damaged names (UTF-8)
            raise InputFileError(path, f"not a readable Parquet file ({first_line(exc)})") from None
        rows = file.metadata.num_rows
        if compiling_pays(rows * len(names)):
            load_in_background()  # a large file: numba loads while the first row groups are decoded
        return cls(path, [str(n) for n in names], rows=rows, schema=schema)

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        first = 1
        try:
            schema = self.schema
            strings = [
                c
                for c in dictionary
                if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)
            ]
            # Codes stay dictionary-encoded. Without pre-buffering: pyarrow would keep every row group's
            # bytes it pre-read until the file is closed (apache/arrow#39808), the file's size in memory
            # (480 MB more at 20M episodes), for no speed gain on a local file (benchmarks/RESULTS.md).
            pf = pq.ParquetFile(self.path, read_dictionary=strings, pre_buffer=False)
            for batch in pf.iter_batches(batch_size=_batch_rows(pf.metadata, chunk_rows), columns=columns):
                n = batch.num_rows
                table = pa.table(
                    {c: _parquet_text(batch.column(c), c, c in dictionary, self.path) for c in columns}
                )
                yield table, np.arange(first, first + n, dtype=np.int64), None
                first += n
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputFileError(
                self.path, f"cannot read Parquet data after row {first - 1} ({first_line(exc)})"
            ) from None


def _batch_rows(metadata: pq.FileMetaData, chunk_rows: int) -> int:
    """Rows a Parquet batch: at most the largest row group's, so that a batch seldom holds the end of one
    group and the start of the next (pyarrow would then decode the group's dictionaries twice: 15% more
    CPU at 10M)."""
    largest = max((metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)), default=0)
    return max(1, min(chunk_rows, largest or chunk_rows))


def _parquet_text(col: pa.Array, name: str, codes: bool, path: Path) -> pa.Array:
    """A Parquet column as text (dates kept as timestamps): ids and codes may be stored as numbers."""
    t = col.type
    if pa.types.is_dictionary(t):
        if pa.types.is_string(t.value_type) and codes:
            return col if t == CODES else col.cast(CODES)
        col, t = col.dictionary_decode(), t.value_type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        if pa.types.is_timestamp(t) and t.tz is not None:
            col = pc.local_timestamp(col)
        return col.cast(pa.timestamp("us"))
    if codes and pa.types.is_integer(t):  # few distinct numbers (sex, age): each made text once
        numbers = col.dictionary_encode()
        return pa.DictionaryArray.from_arrays(numbers.indices, numbers.dictionary.cast(TEXT))
    if (
        pa.types.is_null(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
    ):
        try:
            text = col.cast(TEXT)
        except pa.ArrowInvalid as exc:
            raise InputFileError(
                path, f"cannot read its values as text ({first_line(exc)})", column=name
            ) from None
        return text.dictionary_encode().cast(CODES) if codes else text
    raise InputFileError(path, f"has type {t}: expected text, numbers or dates", column=name)
