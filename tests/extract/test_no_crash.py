"""No input makes the reader crash: damaged corpus files give a clear error or a reconciled audit."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import UserError
from audit.pipeline import run_audit

CORPUS = Path(__file__).parent / "bad_inputs"
SEEDS = [
    "ragged-rows.csv",
    "long-defects.csv",
    "title-rows.xlsx",
    "no-rows.parquet",
    "cell-over-1mb.csv.gz",
    "concatenated-mixed-separators.csv",
    "windows-1252.csv",
]
JUNK = [b",", b"\n", b"\r", b'"', b"\x00", b";", b"|", b"\t", b"\xff", b"\xe9", b"PK\x03\x04", b"PAR1"]


@st.composite
def damaged(draw):
    """A corpus file with bytes flipped, cut, inserted or removed."""
    name = draw(st.sampled_from(SEEDS))
    data = bytearray((CORPUS / name).read_bytes())
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "insert", "remove"]))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            data = data[:at]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(JUNK))
        else:
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
    return name, bytes(data)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=damaged())
def test_damaged_files_never_crash(case, shipped_rules, tmp_path):
    name, data = case
    path = tmp_path / ("x" + "".join(Path(name).suffixes))
    path.write_bytes(data)
    for chunk in (2, 1000):
        try:
            result = run_audit(path, shipped_rules, chunk_rows=chunk)
        except UserError as exc:
            assert str(exc).startswith(str(path))
            continue
        assert result.episodes_read == result.episodes_audited + result.episodes_rejected
