"""The fixed rules of the core issue, on awkwardly formatted input."""

import numpy as np
import pandas as pd
import pytest

from audit.engine import compile_rules, evaluate
from audit.rules import load_rules
from tests.conftest import episodes_frame


def findings_for(audit_rows, rows, rule_prefix=""):
    f = audit_rows(rows)
    f = f[f["rule_id"].str.startswith(rule_prefix)]
    return sorted(zip(f["episode_id"], f["rule_id"], f["severity"]))


@pytest.mark.parametrize("procedures, flagged", [
    (["J124", "Y539"], False),
    ([" j12.4 ", "y53.4"], False),
    (["J12.4", "Z29.1", "Y53.9"], False),  # Y after Z is out of order, but still in the J12.4 block
    (["J124"], True),
    (["J124", "J038", "Y539"], True),  # the Y53 qualifies J03.8, not J12.4
    (["H229", "Y539", "J124"], True),
    (["J124", "Y539", "J124", "Z942"], True),  # every J12.4 block needs its own Y53
    (["J124", "Y539", "-", "J124", "Y534"], False),
])
def test_ipg327_01_block_semantics(audit_rows, procedures, flagged):
    got = findings_for(audit_rows, [{"id": "e", "procedures": procedures, "diagnoses": ["C787", "C187"]}],
                       "IPG327-01")
    assert got == ([("e", "IPG327-01", "error")] if flagged else [])


@pytest.mark.parametrize("diagnoses, flagged", [
    (["C787", "C187"], False),
    (["c18.7 ", "C78.7"], False),
    (["C787-", "C180"], False),
    (["C787"], True),
    (["C189"], True),
    (["C20X", "C787"], True),  # rectum is not colon: C18.- is still missing
    (["C220"], False),  # neither C78.7 nor C18: not this rule
])
def test_ipg327_02(audit_rows, diagnoses, flagged):
    got = findings_for(audit_rows, [{"id": "e", "procedures": ["J124", "Y539"], "diagnoses": diagnoses}],
                       "IPG327-02")
    assert got == ([("e", "IPG327-02", "error")] if flagged else [])


@pytest.mark.parametrize("procedures, flagged", [
    (["J128", "Y123", "Y534"], False),
    (["J12.8", "Y12.3", "Z29.1", "Y53.9"], False),
    (["J128", "Y123"], True),
    (["J128", "Y123", "J124", "Y539"], True),
    (["J128", "Y534"], False),  # not IRE without Y12.3
    (["J128", "Y534", "J128", "Y123"], True),  # the IRE block is the second one
])
def test_htg532_01(audit_rows, procedures, flagged):
    got = findings_for(audit_rows, [{"id": "e", "procedures": procedures, "diagnoses": ["C229"]}], "HTG532-01")
    assert got == ([("e", "HTG532-01", "error")] if flagged else [])


@pytest.mark.parametrize("diagnoses, expected", [
    (["C229"], None),
    (["C22.9", "K746"], None),
    (["C220", "C229"], None),
    (["C787"], None),  # liver metastases: a different guidance
    (["K746"], "error"),
    ([], "error"),
    (["C220"], "warning"),
    (["c22.1"], "warning"),
])
def test_htg532_02_severity(audit_rows, diagnoses, expected):
    got = findings_for(audit_rows, [{"id": "e", "procedures": ["J128", "Y123", "Y534"], "diagnoses": diagnoses}],
                       "HTG532-02")
    assert got == ([("e", "HTG532-02", expected)] if expected else [])


def test_htg532_02_warning_names_c22_9(audit_rows):
    f = audit_rows([{"id": "e", "procedures": ["J128", "Y123", "Y534"], "diagnoses": ["C220"]}])
    message = f.loc[f["rule_id"] == "HTG532-02", "message"].iloc[0]
    assert "C22.9" in message and "C22.0" in message


def test_findings_name_expected_found_and_guidance(audit_rows):
    f = audit_rows([{"id": "e", "procedures": ["J124"], "diagnoses": ["C787", "C187"]}])
    row = f[f["rule_id"] == "IPG327-01"].iloc[0]
    assert row["guidance"] == "IPG327"
    assert "Y53" in row["expected"] and row["found"] == "J12.4"
    assert "J12.4" in row["message"] and "Y53" in row["message"]


def test_malformed_values_are_findings_with_the_raw_value(audit_rows):
    f = audit_rows([{"id": "e", "procedures": ["I124", "-"], "diagnoses": ["C7.87", "I10X"]}])
    assert set(f["rule_id"]) == {"DATA-01", "DATA-02"}
    assert '"C7.87"' in f.loc[f["rule_id"] == "DATA-01", "message"].iloc[0]


def test_findings_sorted_by_input_order_then_rule(audit_rows):
    rows = [{"id": "z", "procedures": ["Y539", "J124"], "diagnoses": ["C787"]},
            {"id": "a", "procedures": ["J124"], "diagnoses": ["C787", "C187"]}]
    f = audit_rows(rows)
    ids = list(f["episode_id"])
    assert ids == sorted(ids, key=["z", "a"].index)  # input order, not id order
    for _, group in f.groupby("episode_id"):
        assert list(group["rule_id"]) == sorted(group["rule_id"])


def test_chunked_evaluation_equals_one_pass(compiled_shipped):
    rng = np.random.default_rng(7)
    pool_p = ["J124", "Y539", "J128", "Y123", "Y534", "Z942", "H229", "-", "J127", "X721", "bad"]
    pool_d = ["C787", "C187", "C229", "C220", "C792", "I10X", "C7.87", ""]
    rows = [{"id": str(i), "procedures": list(rng.choice(pool_p, 4)), "diagnoses": list(rng.choice(pool_d, 3))}
            for i in range(400)]
    frame = episodes_frame(rows)
    whole = evaluate(frame, compiled_shipped)
    parts = pd.concat([evaluate(frame.iloc[i:i + 37].reset_index(drop=True), compiled_shipped)
                       for i in range(0, len(frame), 37)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
    assert len(whole) > 50


def test_effective_dates_follow_episode_end_date(tmp_path):
    (tmp_path / "r.yaml").write_text("""
ruleset: T
source: {guidance: T1, text: "J12.4 needs Y53"}
rules:
  - id: T-01
    title: dated
    severity: error
    effective: {from: 2020-04-01, to: 2021-03-31}
    when: {procedure: J12.4}
    require: {procedure: Y53.-}
    expected: Y53
    message: "no Y53"
    examples: {pass: [{procedures: [J12.4, Y53.9]}], fail: [{procedures: [J12.4]}]}
""")
    compiled = compile_rules(load_rules([tmp_path / "r.yaml"], builtin=False))
    frame = episodes_frame([{"id": d or "none", "procedures": ["J124"], "end_date": d}
                            for d in ["2020-03-31", "2020-04-01", "2021-03-31", "2021-04-01", None]])
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    assert list(evaluate(frame, compiled)["episode_id"]) == ["2020-04-01", "2021-03-31", "none"]


def test_a_chunk_without_procedure_columns(compiled_shipped):
    frame = episodes_frame([{"id": "1", "diagnoses": ["C787"]}, {"id": "2", "diagnoses": ["I10X"]}])
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("proc_")])
    found = evaluate(frame, compiled_shipped)
    assert list(found["episode_id"]) == ["1"] and list(found["rule_id"]) == ["NAT-ICD-03"]


@pytest.mark.parametrize("seed", range(4))
def test_compiled_walks_find_what_numpy_finds(compiled_shipped, monkeypatch, seed):
    """Code tests and block tests walked episode by episode in compiled code (large chunks) give the same
    findings as the numpy path position by position (small chunks)."""
    import audit.engine
    import audit.kernels

    rng = np.random.default_rng(seed)
    pool_p = ["J124", "Y539", "J128", "Y123", "Y534", "Z942", "Z941", "Z293", "H229", "-", "", "", "J127",
              "X721", "bad", "K401", "C011", "Y137", "J032", "Z475", "S061", "Y08", "T"]
    pool_d = ["C787", "C187", "C229", "C220", "C792", "I10X", "C7.87", "", "", "U071", "U075", "R651", "A419",
              "B952", "A41", "O432", "O720", "M0099", "G01*"]
    rows = [{"id": str(i), "procedures": list(rng.choice(pool_p, rng.integers(0, 12))),
             "diagnoses": list(rng.choice(pool_d, rng.integers(0, 8)))} for i in range(1500)]
    frame = episodes_frame(rows)
    monkeypatch.setattr(audit.kernels, "COMPILED_FROM", 1 << 40)  # numpy everywhere
    numpy_findings = evaluate(frame, compiled_shipped)
    monkeypatch.setattr(audit.kernels, "COMPILED_FROM", 0)  # compiled wherever there is a compiled loop
    audit.kernels.load()
    walks = []
    for name in ("code_test_walk", "block_walk"):
        walk = getattr(audit.engine, name)
        monkeypatch.setattr(audit.engine, name,
                            lambda *a, _walk=walk, _name=name: walks.append(_name) or _walk(*a))
    compiled_findings = evaluate(frame, compiled_shipped)
    assert {"code_test_walk", "block_walk"} <= set(walks)
    pd.testing.assert_frame_equal(compiled_findings, numpy_findings)
    assert numpy_findings["rule_id"].str.startswith("NAT-OPCS").sum() > 100
