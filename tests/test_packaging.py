"""The installed command finds its shipped rulesets outside the checkout (CI installs with pip install .)."""

import shutil
import subprocess

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(shutil.which("audit") is None, reason="the audit command is not installed")
def test_installed_command_ships_its_rulesets(tmp_path):
    listing = subprocess.run(["audit", "rules", "list"], cwd=tmp_path, check=False, capture_output=True,
                             text=True)
    assert listing.returncode == 0, listing.stderr
    assert "IPG327-01" in listing.stdout and "DATA-01" in listing.stdout
    run = subprocess.run(["audit", "run", str(REPO / "sample_episodes" / "hes_sample.csv")], cwd=tmp_path,
                         check=False, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
