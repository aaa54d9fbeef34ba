"""The database tests' PostgreSQL server (``server.temporary_server``), one for the session."""

from __future__ import annotations

import pytest

from tests.database.server import bin_dir, temporary_server, url


@pytest.fixture(scope="session")
def postgres_server():
    """(host, port, user, password, database) of a running server; stopped at the end of the session."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    bindir = bin_dir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
    with temporary_server(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    return url(postgres_server)
