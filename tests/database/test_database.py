"""Extracts read straight from a database: a real PostgreSQL server (conftest) and SQLite.

The same episodes give the same findings, rows set aside and counts read from a file, a table and a
query, with any chunk size; credentials never show; database errors are one line, exit 2.
"""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.errors import InputFileError, UserError
from audit.extract import database, read_extract, sqlsource
from audit.extract.database import DatabaseExtract, masked
from audit.pipeline import run_audit
from tests.database.server import url
from tests.extract import synthetic as syn

sa = pytest.importorskip("sqlalchemy")


def _same(a, b):
    pd.testing.assert_frame_equal(a.findings, b.findings)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)
    assert {**a.summary(), "source": ""} == {**b.summary(), "source": ""}


@pytest.fixture(scope="module")
def frame():
    """Synthetic episodes with rows to set aside: a duplicate id, a missing id, an impossible date."""
    f = syn.episodes(80, seed=5)
    dup = f.iloc[[3]].copy()
    no_id = f.iloc[[10]].copy()
    no_id["EPIKEY"] = ""
    bad = f.iloc[[12]].copy()
    bad["EPIKEY"], bad["EPIEND"] = "999999", "2024-02-31"
    return pd.concat([f.iloc[:20], dup, f.iloc[20:40], no_id, bad, f.iloc[40:]], ignore_index=True)


@pytest.fixture(scope="module")
def file_result(frame, shipped_rules, tmp_path_factory):
    # Parquet: its line numbers are row numbers, as a database's are (a CSV's count the header line too).
    path = syn.write_parquet(frame, tmp_path_factory.mktemp("db") / "episodes.parquet")
    return run_audit(path, shipped_rules)


def _load(url: str, frame: pd.DataFrame, table: str, schema: str | None = None) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        if schema:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        # Every cell text, blanks NULL, row order kept by a serial column the query orders by.
        out = frame.replace("", None).copy()
        out.insert(0, "row_no", range(1, len(out) + 1))
        out.to_sql(table, conn, schema=schema, index=False, if_exists="replace")
    engine.dispose()


@pytest.fixture(scope="module")
def pg(postgres_url, frame):
    _load(postgres_url, frame, "episodes")
    _load(postgres_url, frame, "Coded Episodes; drop", schema="warehouse")  # a name no SQL may paste
    return postgres_url


@pytest.fixture(scope="module")
def sqlite_url(frame, tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "warehouse.db"
    with sqlite3.connect(path) as con:
        frame.replace("", None).to_sql("episodes", con, index=False)
    return f"sqlite:///{path}"


@pytest.mark.parametrize("chunk", [1, 7, 250_000])
def test_postgres_table_and_query_give_the_file_findings(pg, file_result, shipped_rules, chunk):
    table = run_audit(pg, shipped_rules, chunk_rows=chunk, table="episodes")
    query = run_audit(pg, shipped_rules, chunk_rows=chunk,  # a trailing semicolon, a colon that is no parameter
                      query="SELECT * FROM episodes WHERE row_no::text <> ':x' ORDER BY row_no;")
    _same(table, file_result)
    _same(query, file_result)
    assert table.summary()["source"] == "episodes"
    assert query.summary()["source"] == "query"


def test_rows_set_aside_named_by_episode_id_and_row_number(pg, shipped_rules):
    result = run_audit(pg, shipped_rules, table="episodes")
    rejected = result.rejected
    assert list(rejected["line"]) == [21, 42, 43]  # row numbers in the result (no header line)
    assert list(rejected["episode_id"]) == ["100003", "", "999999"]
    assert rejected["reason"].iloc[0] == "duplicate episode id (first at line 4)"
    audited, uncoded = result.episodes_audited, result.episodes_uncoded
    assert result.episodes_read == audited + uncoded + result.episodes_rejected


def test_server_side_cursor_gives_the_same_as_copy(pg, file_result, shipped_rules, monkeypatch):
    """The generic path (any SQLAlchemy database) on PostgreSQL: a server-side cursor."""
    monkeypatch.setattr(sqlsource, "_copies", lambda engine: False)
    for chunk in (3, 1000):
        _same(run_audit(pg, shipped_rules, chunk_rows=chunk, table="episodes"), file_result)
    _same(run_audit(pg, shipped_rules, chunk_rows=5,
                    query="select * from episodes order by row_no"), file_result)


@pytest.mark.parametrize("chunk", [2, 1000])
def test_sqlite_table_and_query(sqlite_url, file_result, shipped_rules, chunk):
    _same(run_audit(sqlite_url, shipped_rules, chunk_rows=chunk, table="episodes"), file_result)
    _same(run_audit(sqlite_url, shipped_rules, chunk_rows=chunk,
                    query="select * from episodes order by rowid"), file_result)


def test_typed_columns(postgres_url, frame, shipped_rules, tmp_path):
    """Ids and ages as integers, dates as dates (NULL where blank): the findings of the same text file."""
    clean = frame[(frame["EPIKEY"] != "") & (frame["EPIKEY"] != "999999")].drop_duplicates("EPIKEY")
    from_file = run_audit(syn.write_parquet(clean, tmp_path / "clean.parquet"), shipped_rules)
    _load(postgres_url, clean, "typed_src")
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS typed"))
        conn.execute(sa.text(
            'CREATE TABLE typed AS SELECT row_no, "EPIKEY"::bigint AS "EPIKEY", "PROCODE", '
            '"EPISTART"::date AS "EPISTART", "EPIEND"::date AS "EPIEND", "MAINSPEF", "SEX"::int AS "SEX", '
            '"STARTAGE"::smallint AS "STARTAGE", "CODER", '
            + ", ".join(f'"{c}"' for c in syn.DIAG + syn.PROC) + " FROM typed_src"))
    engine.dispose()
    query = "SELECT * FROM typed ORDER BY row_no"
    _same(run_audit(postgres_url, shipped_rules, chunk_rows=9, query=query), from_file)  # COPY: text
    with pytest.MonkeyPatch.context() as patch:  # the server-side cursor: Python ints and dates
        patch.setattr(sqlsource, "_copies", lambda engine: False)
        _same(run_audit(postgres_url, shipped_rules, chunk_rows=9, query=query), from_file)


def test_long_layout_from_a_table(pg, frame, shipped_rules, postgres_url, tmp_path):
    clean = frame[(frame["EPIKEY"] != "") & (frame["EPIKEY"] != "999999")].drop_duplicates("EPIKEY")
    long = syn.long_table(clean)
    path = syn.write_parquet(long, tmp_path / "long.parquet")
    _load(postgres_url, long, "episode_codes")
    from_file = run_audit(path, shipped_rules)
    for chunk in (5, 1000):
        _same(run_audit(postgres_url, shipped_rules, chunk_rows=chunk, table="episode_codes"), from_file)


def test_schema_qualified_name_is_quoted_not_pasted(pg, file_result, shipped_rules):
    result = run_audit(pg, shipped_rules, table="warehouse.Coded Episodes; drop")
    _same(result, file_result)
    with pytest.raises(InputFileError, match="no table 'episodes\"; DROP TABLE episodes; --'"):
        run_audit(pg, shipped_rules, table='episodes"; DROP TABLE episodes; --')
    assert run_audit(pg, shipped_rules, table="episodes").episodes_read == file_result.episodes_read


def test_the_table_size_estimate_sizes_the_duplicate_table(pg):
    engine = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text('ANALYZE warehouse."Coded Episodes; drop"'))
    engine.dispose()
    assert DatabaseExtract(pg, table="warehouse.Coded Episodes; drop").open().rows == 83
    assert DatabaseExtract(pg, query="select * from episodes").open().rows is None


def test_chunks_are_streamed(pg):
    batches = [b for b in read_extract(pg, chunk_rows=10, table="episodes") if b.read]
    assert [b.read for b in batches][:4] == [10, 10, 10, 10]


@pytest.mark.parametrize("copies", [True, False])
def test_a_read_stopped_early_closes_cleanly(pg, monkeypatch, copies):
    monkeypatch.setattr(sqlsource, "_copies", lambda engine: copies)
    for _ in range(3):  # and the next reads work
        batches = read_extract(pg, chunk_rows=5, table="episodes")
        assert next(batches).read == 5
        batches.close()
    assert sum(b.read for b in read_extract(pg, chunk_rows=5, table="episodes")) == 83


# -- credentials ---------------------------------------------------------------------------------


def test_password_from_environment_and_pgpass(postgres_server, pg, shipped_rules, monkeypatch, tmp_path):
    s = postgres_server
    bare = url(s, password=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(InputFileError, match="cannot connect"):
        run_audit(bare, shipped_rules, table="episodes")
    monkeypatch.setenv("PGPASSWORD", s["password"])
    assert run_audit(bare, shipped_rules, table="episodes").episodes_read == 83
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("AUDIT_DATABASE_PASSWORD", s["password"])  # any database's
    assert run_audit(bare, shipped_rules, table="episodes").episodes_read == 83
    monkeypatch.delenv("AUDIT_DATABASE_PASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{s['host']}:{s['port']}:{s['database']}:{s['user']}:{s['password']}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert run_audit(bare, shipped_rules, table="episodes").episodes_read == 83


def test_masked():
    assert masked("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "pw" not in str(DatabaseExtract("postgresql://u:pw@h/db", table="t"))
    assert masked("mssql+pyodbc://u:p%40ss@dsn") == "mssql+pyodbc://u:***@dsn"


def _cli(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


def test_wrong_password_one_line_exit_2_no_password_shown(postgres_server, pg):
    s = postgres_server
    wrong = f"postgresql://{s['user']}:Wr0ngSecretValue@{s['host']}:{s['port']}/{s['database']}"
    result = _cli("run", wrong, "--table", "episodes")
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "Wr0ngSecretValue" not in message and "password authentication failed" in message
    assert message.startswith(f"error: postgresql://{s['user']}:***@")
    bare = _cli("run", url(s, password=False), "--table", "episodes",
                env={"AUDIT_DATABASE_PASSWORD": "Wr0ngEnvSecret", "PGPASSFILE": "/nonexistent"})
    assert bare.exit_code == 2 and "password authentication failed" in bare.output
    assert "Wr0ngEnvSecret" not in bare.output


def test_unreachable_host_waits_a_bounded_time(monkeypatch):
    import time

    monkeypatch.setattr(database, "CONNECT_TIMEOUT", 1)
    start = time.monotonic()
    with pytest.raises(InputFileError, match="cannot connect") as err:
        run_audit("postgresql://u:TopSecret@10.255.255.1:5432/db", [], table="t")
    assert time.monotonic() - start < 10
    assert "TopSecret" not in str(err.value)


@pytest.mark.parametrize("args, said", [
    (["--table", "no_such_table"], "no table 'no_such_table'"),
    (["--query", "SELECT * FROM nowhere"], "the query failed"),
    (["--query", "SELEC 1"], "syntax error"),
    ([], "give the rows to audit with --table NAME or --query SQL"),
    (["--table", "episodes", "--query", "select 1"], "(one of them)"),
])
def test_database_errors_are_one_line(pg, postgres_server, args, said):
    result = _cli("run", pg, *args)
    assert result.exit_code == 2, result.output
    assert said in result.output and len(result.output.strip().splitlines()) == 1
    assert postgres_server["password"] not in result.output


def test_table_option_needs_a_url(tmp_path):
    result = _cli("run", str(tmp_path / "x.csv"), "--table", "t")
    assert result.exit_code == 2 and "is not a database URL" in result.output


def test_cli_run_and_baseline_from_postgres(pg, postgres_server, file_result, tmp_path):
    out = tmp_path / "r.json"
    result = _cli("run", pg, "--table", "episodes", "-o", str(out), "--rejects", str(tmp_path / "rej.csv"))
    assert result.exit_code == 1, result.output
    text = out.read_text()
    assert postgres_server["password"] not in text + result.output
    summary = json.loads(text)["summary"]
    assert summary["source"] == "episodes" and summary["findings"] == len(file_result.findings)
    baseline = tmp_path / "b.json"
    made = _cli("baseline", "create", pg, "--query", "select * from episodes", "-o", str(baseline))
    assert made.exit_code == 0, made.output
    assert _cli("run", pg, "--table", "episodes", "--baseline", str(baseline)).exit_code == 0


def test_missing_driver_or_bad_url_is_a_user_error():
    with pytest.raises(UserError, match="no SQLite database file"):
        run_audit("sqlite:////nonexistent/x.db", [], table="t")
    with pytest.raises(UserError):
        run_audit("nosuchdialect://u:pw@h/db", [], table="t")
    with pytest.raises(UserError, match="not a database URL SQLAlchemy can read") as err:
        run_audit("postgresql://u:Secr3t@h:notaport/db", [], table="t")
    assert "Secr3t" not in str(err.value)


@pytest.mark.skipif(database._have("pyodbc"), reason="pyodbc is installed")
def test_a_missing_driver_says_what_to_install():
    with pytest.raises(UserError, match=r"the mssql\+pyodbc driver is not installed: .*coding-audit\[mssql\]"):
        run_audit("mssql+pyodbc://u:pw@dsn", [], table="t")
