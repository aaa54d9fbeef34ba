"""Reading extracts: the same episodes give the same findings from CSV, gzip CSV and Parquet."""

import gzip
import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit.pipeline import run_audit
from audit.rules import load_rules
from tests.conftest import REPO

SAMPLE = REPO / "sample_episodes" / "hes_sample.csv"


def _key(result):
    return result.findings[["episode_id", "rule_id", "severity", "message"]].astype(str).reset_index(drop=True)


def test_csv_gzip_and_parquet_agree(tmp_path):
    rules = load_rules()
    csv_result = run_audit(SAMPLE, rules)
    gz = tmp_path / "sample.csv.gz"
    with open(SAMPLE, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    parquet = tmp_path / "sample.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=10)
    for other in (run_audit(gz, rules), run_audit(parquet, rules, chunk_rows=7)):
        pd.testing.assert_frame_equal(_key(csv_result), _key(other))
        assert other.episodes_read == csv_result.episodes_read
        assert other.episodes_rejected == csv_result.episodes_rejected


def test_small_chunks_give_identical_findings_and_rejects():
    rules = load_rules()
    whole, parts = run_audit(SAMPLE, rules), run_audit(SAMPLE, rules, chunk_rows=3)
    pd.testing.assert_frame_equal(whole.findings, parts.findings)
    pd.testing.assert_frame_equal(whole.rejected.reset_index(drop=True), parts.rejected.reset_index(drop=True))
    assert list(whole.rejected["reason"].str.split(" '").str[0]) == ["missing episode id", "unparseable end date"]
