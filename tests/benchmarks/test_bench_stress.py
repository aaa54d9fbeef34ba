"""The stress ruleset of the "many findings" benchmark: a finding for every episode with a diagnosis."""

import pyarrow.parquet as pq
import pytest
from conftest import REPO_ROOT

from audit import findings
from audit.pipeline import run_audit
from audit.rules import load_rules

STRESS = REPO_ROOT / "benchmarks" / "rules" / "every-episode.yaml"


@pytest.mark.parametrize("spill_rows", [None, 1_000])
def test_every_episode_with_a_diagnosis_is_flagged(small_extract, monkeypatch, spill_rows):
    if spill_rows is not None:
        monkeypatch.setattr(findings, "SPILL_ROWS", spill_rows)  # spilled to disk, as 10M findings are
    table = pq.read_table(small_extract["parquet"], columns=["DIAG_01"])
    with_diagnosis = sum(1 for v in table.column(0).to_pylist() if v and v.strip())
    result = run_audit(small_extract["parquet"], load_rules([STRESS]), chunk_rows=700)
    assert result.count("error") >= result.by_rule().set_index("rule_id").loc["STRESS-01", "findings"] \
        == with_diagnosis
    assert result.all_findings.spilled == (spill_rows is not None)
