from __future__ import annotations

import pytest

from tests.samples import run_sample


@pytest.fixture(scope="module")
def sample_result(tmp_path_factory):
    """The shipped rules run on the synthetic sample extract (findings, rejected rows, hostile ids)."""
    return run_sample(tmp_path_factory.mktemp("sample"))
