from tests.conftest import episodes_frame


def test_flagged_episodes_carry_all_their_codes_in_order(audit_rows):
    f = audit_rows([
        {"id": "a", "diagnoses": ["C787", "C182"], "procedures": ["J124", "Z291", "J032", "Y539"]},
        {"id": "b", "diagnoses": ["C787", "C187"], "procedures": ["J124", "Y539"]},  # clean
        {"id": "c", "diagnoses": ["C7.87", "I10X"], "procedures": ["-", "J124", "Y539"]},
        {"id": "d", "procedures": ["Y539", "J124"]},
    ])
    codes = dict(zip(f["episode_id"], f["codes"]))
    assert codes == {"a": "C78.7 C18.2 | J12.4 Z29.1 J03.2 Y53.9", "c": '"C7.87" I10 | J12.4 Y53.9',
                     "d": "| Y53.9 J12.4"}
    assert list(f.columns[:8]) == ["episode_id", "rule_id", "severity", "message", "guidance", "expected", "found",
                                   "codes"]


def test_episodes_frame_keeps_every_code(audit_rows):
    frame = episodes_frame([{"diagnoses": ["C787"]}, {"diagnoses": ["C787", "C182", "I10X"]}])
    assert [c for c in frame.columns if c.startswith("diag_")] == ["diag_01", "diag_02", "diag_03"]
