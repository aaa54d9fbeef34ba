"""A temporary PostgreSQL server: initdb in a temporary folder, a free port, pg_ctl start and stop.

Used by the database tests (conftest) and benchmarks/database.py. The binaries are found under
/usr/lib/postgresql/*/bin (Debian's ``postgresql``, which `.ci/run` installs when missing) or with
``pg_config``. PostgreSQL refuses to run as root: as root (CI), the server runs as the ``postgres`` user
that Debian's package makes, through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER, PASSWORD = "audit_test", "s3cret-Pa55word"
DATABASE = "hes"


def bin_dir() -> Path | None:
    """Where initdb, pg_ctl and postgres are; None when PostgreSQL is not installed."""
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


def _run(cmd: list[str]) -> None:
    done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


def url(server: dict, password: bool = True) -> str:
    """The server's SQLAlchemy URL (psycopg chosen by the engine when installed)."""
    secret = f":{server['password']}" if password else ""
    return f"postgresql://{server['user']}{secret}@{server['host']}:{server['port']}/{server['database']}"


@contextmanager
def temporary_server(bindir: Path, settings: str = "") -> Iterator[dict]:
    """A running server (host, port, user, password, database), stopped and removed on leaving;
    ``settings`` are more ``-c name=value`` options for the server."""
    folder = Path(tempfile.mkdtemp(prefix="audit-pg-"))
    data, pwfile = folder / "data", folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        import pwd

        server = pwd.getpwnam("postgres")
        for p in (folder, pwfile):
            os.chown(p, server.pw_uid, server.pw_gid)
    port = _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
          "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C"])
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off {settings}"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"])
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
