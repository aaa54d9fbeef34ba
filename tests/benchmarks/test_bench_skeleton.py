"""Tests for benchmarks/skeleton.py: it reads every row and does the engine's per-episode work it claims to."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from audit.codes import Kind
from audit.engine import _Chunk, compile_rules
from audit.extract import read_extract
from audit.rules import load_rules
from benchmarks import hes
from benchmarks.skeleton import skeleton


def _engine_episodes_with_bits(path) -> int:
    """Episodes with some pattern bit of the shipped rules (a malformed value included), as the engine sees them."""
    compiled = compile_rules(load_rules())
    total = 0
    for batch in read_extract(path):
        if not len(batch.episodes):
            continue
        chunk = _Chunk(batch.episodes, compiled)
        hit = np.zeros(len(batch.episodes), dtype=bool)
        for kind in Kind:
            for word in chunk.episode_bits(kind, "any"):
                hit |= word != 0
        total += int(hit.sum())
    return total


def _procedure_cells(path) -> int:
    """Sum over episodes of the position of the last procedure code (blanks and placeholders are not codes)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    present = ~frame[hes.OPERTN_COLUMNS].apply(lambda s: s.str.strip().isin(["", "-", "&"]))
    return int((present.to_numpy() * np.arange(1, len(hes.OPERTN_COLUMNS) + 1)).max(axis=1).sum())


def test_the_skeleton_reads_every_row_and_finds_the_engines_pattern_bits(small_extract):
    result = skeleton(str(small_extract["parquet"]))
    assert result["rows"] == 5_000
    assert result["repeated_ids"] == 0
    assert result["procedures"] == _procedure_cells(small_extract["csv"])
    assert result["episodes_with_bits"] == _engine_episodes_with_bits(small_extract["csv"])


def test_the_skeleton_counts_repeated_ids(small_extract, tmp_path):
    table = pq.read_table(small_extract["parquet"]).slice(0, 10)
    path = tmp_path / "repeated.parquet"
    pq.write_table(pa.concat_tables([table, table.slice(3, 2)]), path)
    assert skeleton(str(path))["repeated_ids"] == 2


def test_the_skeleton_reads_parquet_only(small_extract):
    with pytest.raises(ValueError, match="Parquet only"):
        skeleton(str(small_extract["csv"]))
