"""Fixtures for the benchmark-tooling tests (small synthetic extracts written once per session)."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
for path in (REPO_ROOT, HERE):  # `benchmarks` package and the test helpers, whatever the import mode
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from benchmarks import generate

SMALL_EPISODES = 5_000
SEED = 20_250_401


@pytest.fixture(scope="session")
def small_extract(tmp_path_factory):
    """5,000 episodes with a raised guidance rate (20%) and no national coding errors (the four fixed rules'
    findings only: what the DuckDB peer and its stand-in engine report), as CSV and Parquet, plus the expected
    JSON."""
    out = tmp_path_factory.mktemp("hes_small")
    doc = generate.write_extract(SMALL_EPISODES, SEED, out, "both", guidance_rate=0.2, error_rate=0.0)
    return {"csv": Path(doc["files"]["csv"]), "parquet": Path(doc["files"]["parquet"]), "expected": doc}


@pytest.fixture(scope="session")
def default_extract(tmp_path_factory):
    """5,000 episodes at the default rates (guidance cases 0.5%, national coding errors 10%), as CSV only."""
    out = tmp_path_factory.mktemp("hes_default")
    doc = generate.write_extract(SMALL_EPISODES, SEED + 1, out, "csv")
    return {"csv": Path(doc["files"]["csv"]), "expected": doc}
