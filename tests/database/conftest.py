"""A real PostgreSQL server for the session: initdb in a temporary folder, a free port, pg_ctl start and stop.

`.ci/run` installs Debian's ``postgresql`` when it is missing; the binaries are found with ``pg_config``
or under /usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root: when the tests run as root (CI),
the server runs as the ``postgres`` user (made by Debian's package), through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

USER, PASSWORD = "audit_test", "s3cret-Pa55word"
DATABASE = "hes"


def _bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").is_file():
            return Path(candidate)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and Path(out, "initdb").is_file():
            return Path(out)
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server():
    """(host, port, user, password, database) of a running server; stopped at the end of the session."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    bindir = _bin_dir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="audit-pg-"))
    data, pwfile = folder / "data", folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        import pwd

        server = pwd.getpwnam("postgres")
        for p in (folder, pwfile):
            os.chown(p, server.pw_uid, server.pw_gid)
    port = _free_port()
    run = lambda cmd: subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True)  # noqa: E731
    run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile), "--auth", "scram-sha-256",
         "-E", "UTF8", "--locale", "C"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"])
    try:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user=USER, password=PASSWORD, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield {"host": "127.0.0.1", "port": port, "user": USER, "password": PASSWORD, "database": DATABASE}
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    s = postgres_server
    return f"postgresql://{s['user']}:{s['password']}@{s['host']}:{s['port']}/{s['database']}"
