"""Extracts read straight from a database: a SQLAlchemy URL and a table (``--table``) or a query (``--query``).

The rows are streamed, never held whole: through a server-side cursor (SQLAlchemy's ``stream_results``
with ``yield_per``) for any database SQLAlchemy reaches, or, for PostgreSQL through psycopg, as the
server's own ``COPY ... TO STDOUT`` parsed by pyarrow a block at a time. Each row's "line" is its
1-based row number in the result. From there on a database is one more ``Source``: the same layouts,
column mapping, row checks, reconciliation and reports as a file.

Credentials come from the URL, an environment variable (``AUDIT_DATABASE_PASSWORD`` for any database, or
the driver's own: ``PGPASSWORD``) or the driver's own files (``.pgpass``); every URL shown is masked (``render_as_string(hide_password=True)``) and the password
is scrubbed from any message a driver writes. Table names are quoted as identifiers by SQLAlchemy,
never pasted into SQL. Wrong password, unreachable host (``connect_timeout``), missing table or a SQL
error: one line, exit 2.

SQLAlchemy and the drivers are optional (``pip install ".[postgresql]"``); they are imported only when a
database is used. This module holds what the command line needs (the URL, the ``--table`` and
``--query`` options, messages) and stays light; the rows are read by ``audit.extract.sqlsource``.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

import click

from audit.errors import InputFileError, UserError

URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
CONNECT_TIMEOUT = 10  # seconds: an unreachable host is an error after this, not a hang
PASSWORD_ENV = "AUDIT_DATABASE_PASSWORD"  # the password of a URL written without one (any database)
INSTALL_HINT = {
    "postgresql": 'pip install "coding-audit[postgresql]"',
    "mssql": 'pip install "coding-audit[mssql]" (and Microsoft\'s ODBC Driver 18 for SQL Server)',
    "oracle": 'pip install "coding-audit[oracle]"',
    "mysql": 'pip install "coding-audit[mysql]"',
}


def is_database_url(text: object) -> bool:
    """True for ``postgresql://...``, ``mssql+pyodbc://...``, ``sqlite:///...``: a URL, not a file name."""
    return isinstance(text, str) and bool(URL_SCHEME.match(text))


@dataclass(frozen=True)
class DatabaseExtract:
    """Where an extract lives in a database: its URL and a table (``schema.table``) or a query."""

    url: str
    table: str | None = None
    query: str | None = None

    def __post_init__(self):
        if (self.table is None) == (self.query is None):
            raise UserError(f"{masked(self.url)}: give the rows to audit with --table NAME or --query SQL "
                            "(one of them)")
        if self.table is not None and not self.table.strip():
            raise UserError("--table: the table name is empty")
        if self.query is not None and not self.query.strip().rstrip(";").strip():
            raise UserError("--query: the query is empty")

    @property
    def name(self) -> str:
        """What the run's summary calls the extract: the table's name, or ``query``."""
        return self.table if self.table is not None else "query"

    def __repr__(self) -> str:  # never the password, even in a traceback
        return f"DatabaseExtract({masked(self.url)!r}, table={self.table!r}, query={self.query!r})"

    def __str__(self) -> str:
        """The masked URL and the table, for messages."""
        return f"{masked(self.url)} {'table ' + self.table if self.table is not None else 'query'}"

    def open(self):
        """The rows as a ``Source`` (``audit.extract.sqlsource``)."""
        from audit.extract.sqlsource import DatabaseSource

        return DatabaseSource.open(self)


def as_database(extract: object, table: str | None = None, query: str | None = None) -> DatabaseExtract | None:
    """The ``DatabaseExtract`` an extract argument names (a URL, with ``table`` or ``query``); None for a file."""
    if isinstance(extract, DatabaseExtract):
        return extract
    if is_database_url(extract):
        return DatabaseExtract(str(extract), table, query)
    if table is not None or query is not None:
        raise UserError(f"--table and --query read from a database: {extract} is not a database URL "
                        "(postgresql://..., mssql+pyodbc://..., sqlite:///...)")
    return None


def masked(url: str) -> str:
    """The URL with its password shown as ``***`` (a URL SQLAlchemy cannot parse: its scheme only)."""
    try:
        from sqlalchemy.engine import make_url
    except ImportError:
        return _masked_without_sqlalchemy(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is reported by open(); never echo it whole
        return _masked_without_sqlalchemy(url)


def _masked_without_sqlalchemy(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def split_table(name: str) -> tuple[str | None, str]:
    """``schema.table`` or ``table``; each part is quoted as an identifier, never pasted into SQL."""
    schema, _, table = name.strip().rpartition(".")
    return (schema or None), table


def engine_for(url_text: str, where: object):
    """A SQLAlchemy engine for a URL, with a bounded wait to connect; ``where`` names it in messages
    (a ``DatabaseExtract``, or the masked URL)."""
    try:
        import sqlalchemy as sa
    except ImportError:
        raise UserError(f"{where}: a database needs SQLAlchemy and the database's driver: "
                        f"{INSTALL_HINT['postgresql']} (see the README for others)") from None
    try:
        url = sa.engine.make_url(url_text)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UserError(f"{masked(url_text)}: not a database URL SQLAlchemy can read "
                        "(dialect+driver://user@host:port/database)") from None
    if url.password is None and os.environ.get(PASSWORD_ENV):  # any database: the password kept out of the URL
        url = url.set(password=os.environ[PASSWORD_ENV])
    if url.get_backend_name() == "postgresql" and "+" not in url.drivername and _have("psycopg"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 when installed ([postgresql] extra)
    connect_args = {}
    if url.get_backend_name() in ("postgresql", "mysql"):
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    elif url.get_backend_name() == "mssql":
        connect_args["timeout"] = CONNECT_TIMEOUT
    try:
        return sa.create_engine(url, connect_args=connect_args)
    except ImportError as exc:  # the dialect's driver is not installed
        hint = INSTALL_HINT.get(url.get_backend_name(), f"install the driver ({exc.name or exc})")
        raise UserError(f"{where}: the {url.drivername} driver is not installed: {hint}") from None
    except sa.exc.ArgumentError as exc:
        from audit.extract.source import first_line

        raise UserError(f"{where}: {_scrub(first_line(exc), url_text)}") from None
    except sa.exc.NoSuchModuleError:
        raise UserError(f"{where}: SQLAlchemy has no dialect {url.drivername!r}") from None


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


class database_errors:
    """A database error as one line naming the (masked) URL and what failed, the password scrubbed."""

    def __init__(self, where: object, doing: str, rows_read=None, url: str | None = None):
        self.where, self.doing, self.rows_read = where, doing, rows_read
        self.url = url if url is not None else where.url

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, UserError) or not _is_database_error(exc):
            return False
        from audit.extract.source import first_line

        orig = getattr(exc, "orig", None) or exc
        message = _scrub(first_line(orig), self.url)
        after = self.rows_read() if self.rows_read is not None else 0
        where = f" after row {after}" if after else ""
        raise InputFileError(self.where, f"{self.doing}{where} ({message})") from None


def _is_database_error(exc: BaseException) -> bool:
    import pyarrow as pa
    import sqlalchemy as sa

    if isinstance(exc, (sa.exc.SQLAlchemyError, pa.ArrowException)):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.Error)


def _scrub(message: str, url: str) -> str:
    """A driver's message with the URL's password (should it echo it) replaced by ``***``."""
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    message = " ".join(message.split())
    for secret in (password, os.environ.get(PASSWORD_ENV)):
        if secret:
            message = message.replace(str(secret), "***")
    return message


def database_source(argument: str = "extract"):
    """Decorate a click command (place it right under ``@main.command()``) so that its ``argument``
    also takes a database URL, read with ``--table NAME`` or ``--query SQL``: the command receives a
    ``DatabaseExtract`` for it, which ``read_extract`` and ``run_audit`` read like a file."""

    def decorate(f):
        params = getattr(f, "__click_params__", [])
        found = [p for p in params if isinstance(p, click.Argument) and p.name == argument]
        if not found:
            raise TypeError(f"database_source({argument!r}): put it above @click.argument({argument!r}, ...)")
        found[0].type = _ExtractType(found[0].type)
        # Applied last, so shown first in --help: they say what EXTRACT is.
        f = click.option("--query", "db_query", metavar="SQL",
                         help="With a database URL as EXTRACT: audit the rows of this query.")(f)
        f = click.option("--table", "db_table", metavar="NAME",
                         help="With a database URL as EXTRACT (postgresql://user@host/db, "
                              "mssql+pyodbc://..., sqlite:///file.db): audit this table (or schema.table).")(f)

        @functools.wraps(f)
        def command(*args, db_table=None, db_query=None, **kwargs):
            kwargs[argument] = as_database(kwargs[argument], db_table, db_query) or kwargs[argument]
            return f(*args, **kwargs)

        return command

    return decorate


class _ExtractType(click.ParamType):
    """A file path (as the argument's own type makes it) or a database URL (kept as written)."""

    name = "extract"

    def __init__(self, path_type: click.ParamType):
        self.path_type = path_type

    def convert(self, value, param, ctx):
        if is_database_url(value):
            return value
        return self.path_type.convert(value, param, ctx)

    def get_metavar(self, *args, **kwargs):
        return self.path_type.get_metavar(*args, **kwargs)
