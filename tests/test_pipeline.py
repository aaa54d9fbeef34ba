"""One run's reconciliation: uncoded episodes apart, rules left out for a classification the file lacks."""

from __future__ import annotations

import numpy as np

from audit.codes import Kind
from audit.episodes import coded_mask
from audit.pipeline import rules_for_kinds, run_audit
from tests.conftest import episodes_frame


def test_coded_means_some_diagnosis_or_procedure_that_is_a_code():
    frame = episodes_frame([
        {"diagnoses": ["C78.7"]}, {"procedures": ["J12.4"]}, {}, {"procedures": ["-"]}, {"procedures": ["&", " "]},
        {"diagnoses": ["C7.87"]},  # malformed, but coded: DATA-01 reports it
    ])
    assert coded_mask(frame).tolist() == [True, True, False, False, False, True]
    assert coded_mask(frame.astype({c: "str" for c in frame.columns if c.startswith(("diag", "proc"))})).tolist() \
        == [True, True, False, False, False, True]


def test_rules_needing_a_missing_classification_are_left_out(shipped_rules):
    kept, out = rules_for_kinds(shipped_rules, frozenset({Kind.PROCEDURE}))
    left = {r.id for r in out}
    assert {"IPG327-02", "DATA-01", "NAT-ICD-01"} <= left  # they name diagnoses
    assert {"IPG327-01", "DATA-02", "DATA-03"} <= {r.id for r in kept}
    assert rules_for_kinds(shipped_rules, frozenset(Kind)) == (shipped_rules, [])


def test_uncoded_episodes_are_never_audited(tmp_path, shipped_rules):
    path = tmp_path / "e.csv"
    path.write_text("EPIKEY,DIAG_01,OPERTN_01\n1,C787,J124\n2,,\n3,,-\n,C787,\n", encoding="utf-8")
    result = run_audit(path, shipped_rules)
    assert (result.episodes_read, result.episodes_audited, result.episodes_uncoded, result.episodes_rejected) \
        == (4, 1, 2, 1)
    assert result.uncoded["episode_id"].tolist() == ["2", "3"]
    assert set(result.findings["episode_id"]) == {"1"}
    assert result.reconciliation() == "4 episodes read = 1 audited + 2 uncoded + 1 rejected"
    assert any("2 episodes uncoded" in n for n in result.notes)
    assert np.all(result.findings["episode_id"] != "2")
