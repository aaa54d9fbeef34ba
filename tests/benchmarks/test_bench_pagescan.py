"""Tests for benchmarks/pagescan.py: decoding the pages itself, it finds exactly what the skeleton finds."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from benchmarks import hes
from benchmarks.pagescan import Unsupported, pagescan
from benchmarks.skeleton import skeleton


@pytest.fixture(scope="module")
def table(small_extract):
    return pq.read_table(small_extract["parquet"])


def test_the_page_scan_finds_what_the_skeleton_finds(small_extract):
    path = str(small_extract["parquet"])
    result = pagescan(path)
    assert result["rows"] == 5_000
    assert result == skeleton(path)  # and the skeleton's bits are the engine's (test_bench_skeleton.py)


WRITERS = {
    "pages v2, snappy": {"data_page_version": "2.0", "compression": "snappy"},
    "uncompressed, small pages and row groups": {"compression": "none", "data_page_size": 512, "row_group_size": 700},
    # the ids' dictionary (80 kB) passes the limit, the codes' (at most 40 kB) do not: a dictionary page, a page
    # of dictionary indices, then pages of plain values
    "gzip, ids past the dictionary limit": {"compression": "gzip", "dictionary_pagesize_limit": 45_000},
    "ids plain throughout": {"use_dictionary": list(hes.CODE_COLUMNS)},
    "pages v1, many small pages": {"data_page_version": "1.0", "data_page_size": 64, "row_group_size": 1_024},
}


@pytest.mark.parametrize("options", WRITERS.values(), ids=WRITERS.keys())
def test_the_page_scan_reads_what_pyarrow_writes(table, tmp_path, options):
    path = str(tmp_path / "written.parquet")
    pq.write_table(table, path, **options)
    assert pagescan(path) == skeleton(path)


def test_missing_and_repeated_ids_are_counted_as_the_skeleton_does(table, tmp_path):
    ids = table.column(hes.ID_COLUMN)
    ids = pc.if_else(pc.equal(pc.utf8_slice_codeunits(ids, 0, 1), "7"), pa.scalar(None, pa.string()), ids)
    holed = table.set_column(table.schema.get_field_index(hes.ID_COLUMN), hes.ID_COLUMN, ids)
    path = str(tmp_path / "holed.parquet")
    pq.write_table(pa.concat_tables([holed, holed.slice(10, 30)]), path, row_group_size=2_048)
    result = pagescan(path)
    assert result == skeleton(path) and result["repeated_ids"] > 30  # the thirty again, and the missing ids


def test_required_columns_have_no_definition_levels(table, tmp_path):
    columns = [hes.ID_COLUMN, *hes.CODE_COLUMNS]
    filled = pa.table({c: pc.fill_null(table.column(c), "") for c in columns})
    schema = pa.schema([pa.field(c, pa.string(), nullable=False) for c in columns])
    path = str(tmp_path / "required.parquet")
    pq.write_table(filled.cast(schema), path)
    assert pq.ParquetFile(path).schema.column(1).max_definition_level == 0
    assert pagescan(path) == skeleton(path)


def test_a_code_column_not_dictionary_encoded_is_refused(table, tmp_path):
    path = str(tmp_path / "plain.parquet")
    pq.write_table(table, path, use_dictionary=[hes.ID_COLUMN])
    with pytest.raises(Unsupported, match="DIAG_01: a page of encoding 0"):
        pagescan(path)


def test_the_page_scan_reads_parquet_only(small_extract):
    with pytest.raises(ValueError, match="Parquet only"):
        pagescan(str(small_extract["csv"]))
