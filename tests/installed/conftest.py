"""The package as users get it: the wheel built from this tree, installed into a virtual environment, its
``audit`` command run from a folder outside the checkout.

CI (``.ci/run``) runs the suite inside such an environment, so its own ``audit`` is used. Elsewhere (an
editable install, a source tree on ``sys.path``) a wheel is built and installed into a fresh environment
once per session; it shares this interpreter's site-packages for the dependencies, so nothing is downloaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass(frozen=True)
class Installed:
    """An environment with the wheel installed: its ``audit`` command and the wheel it came from."""

    bin: Path
    wheel: Path | None

    def run(self, *args, cwd: Path, env: dict | None = None, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
        """``audit ARGS`` in ``cwd``, with no trace of the checkout in the environment."""
        environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUDIT_REDACT_KEY")}
        environment.update(env or {})
        return subprocess.run([str(self.bin / "audit"), *map(str, args)], cwd=cwd, env=environment,
                              capture_output=True, text=True, input=stdin, timeout=300, check=False)

    def python(self, code: str, cwd: Path) -> str:
        out = subprocess.run([str(self.bin / "python"), "-c", code], cwd=cwd, capture_output=True, text=True,
                             check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        return out.stdout.strip()


def _outside_checkout(bin_dir: Path, cwd: Path) -> bool:
    """The environment's ``audit`` package is an installed copy, not this checkout's source."""
    if not (bin_dir / "audit").exists():
        return False
    out = subprocess.run([str(bin_dir / "python"), "-c", "import audit; print(audit.__file__)"], cwd=cwd,
                         capture_output=True, text=True, check=False,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return out.returncode == 0 and REPO not in Path(out.stdout.strip()).resolve().parents


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory) -> Path:
    """The wheel of this tree (``pip wheel --no-deps``), as ``pip install .`` builds it."""
    dist = REPO / "dist"
    found = sorted(dist.glob("coding_audit-*.whl")) if os.environ.get("CI") else []
    if found:  # .ci/run built it a moment ago from this same clean checkout
        return found[-1]
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
                    str(REPO)], check=True, capture_output=True, cwd=out)
    return next(out.glob("coding_audit-*.whl"))


@pytest.fixture(scope="session")
def installed(tmp_path_factory, built_wheel) -> Installed:
    here = Path(sys.executable).parent
    outside = tmp_path_factory.mktemp("outside")
    if _outside_checkout(here, outside):
        return Installed(here, built_wheel)
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps",
                    str(built_wheel)], check=True, capture_output=True)
    assert _outside_checkout(venv / "bin", outside), "the installed package still imports the checkout"
    return Installed(venv / "bin", built_wheel)


@pytest.fixture
def user_folder(tmp_path) -> Path:
    """A folder of the user's own, outside the checkout, with the sample extract copied into it."""
    folder = tmp_path / "user"
    folder.mkdir()
    (folder / "hes_sample.csv").write_bytes((REPO / "sample_episodes" / "hes_sample.csv").read_bytes())
    return folder


def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())
