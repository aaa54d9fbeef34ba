"""--findings-table: a run's findings and summary appended to database tables, month after month."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import main
from audit.errors import UserError
from audit.pipeline import run_audit
from audit.report.database import FindingsTable, append_run
from tests.extract import synthetic as syn

sa = pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    return syn.write_csv(syn.episodes(50, seed=3), tmp_path_factory.mktemp("ft") / "jan.csv")


def _read(url: str, sql: str) -> pd.DataFrame:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text(sql), conn)
    engine.dispose()
    return frame


def test_parse():
    assert FindingsTable.parse("postgresql://u:pw@h/db#audit.history") == \
        FindingsTable("postgresql://u:pw@h/db", "audit.history")
    assert FindingsTable.parse("sqlite:///x.db").name == "audit_findings"
    target = FindingsTable.parse("postgresql://u:pw@h/db")
    assert "pw" not in str(target) + repr(target)
    with pytest.raises(UserError, match="expected a database URL"):
        FindingsTable.parse("findings.csv")


def test_two_runs_appended_to_postgres(postgres_url, extract, shipped_rules, postgres_server):
    result = run_audit(extract, shipped_rules)
    target = FindingsTable(postgres_url, "warehouse_audit.findings")
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS warehouse_audit"))
    engine.dispose()
    first, n1 = append_run(result, target)
    second, n2 = append_run(result, target)
    assert first != second and n1 == n2 == len(result.findings)
    stored = _read(postgres_url,
                   "SELECT * FROM warehouse_audit.findings ORDER BY run_id, episode_id, rule_id")
    assert list(stored.groupby("run_id").size()) == [n1, n1]
    mine = stored[stored["run_id"] == first].drop(columns="run_id").reset_index(drop=True)
    expected = result.findings.sort_values(["episode_id", "rule_id"], kind="stable").reset_index(drop=True)
    for col in ("episode_id", "rule_id", "severity", "codes", "found", "provider", "coder", "age"):
        assert list(mine[col]) == list(expected[col]), col
    assert list(pd.to_datetime(mine["end_date"])) == list(expected["end_date"])
    runs = _read(postgres_url, "SELECT * FROM warehouse_audit.findings_runs ORDER BY run_at")
    assert list(runs["run_id"]) == [first, second]
    assert list(runs["findings"]) == [n1, n1] and list(runs["episodes_read"]) == [50, 50]
    assert json.loads(runs["summary"][0])["reconciliation"] == result.summary()["reconciliation"]


def test_cli_findings_table_from_a_postgres_table(postgres_url, postgres_server, extract, tmp_path):
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        syn.episodes(50, seed=3).replace("", None).to_sql("jan", conn, index=False, if_exists="replace")
    engine.dispose()
    out = CliRunner().invoke(main, ["run", postgres_url, "--table", "jan", "--format", "json", "-o",
                                    str(tmp_path / "r.json"), "--findings-table", f"{postgres_url}#monthly"])
    assert out.exit_code == 1, out.output
    assert "appended" in out.output and postgres_server["password"] not in out.output
    runs = _read(postgres_url, "SELECT source, findings FROM monthly_runs")
    assert list(runs["source"]) == ["jan"]
    assert runs["findings"][0] == json.loads((tmp_path / "r.json").read_text())["summary"]["findings"]


def test_sqlite_and_an_existing_table_of_another_shape(tmp_path, extract, shipped_rules):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    result = run_audit(extract, shipped_rules)
    append_run(result, FindingsTable(url))
    assert len(_read(url, "SELECT * FROM audit_findings")) == len(result.findings)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE other (run_id TEXT, episode_id TEXT)"))
    with pytest.raises(UserError, match="has no column rule_id"):
        append_run(result, FindingsTable(url, "other"))


def test_bad_findings_table_is_exit_2_before_the_run(extract):
    out = CliRunner().invoke(main, ["run", str(extract), "--findings-table", "nowhere.csv"])
    assert out.exit_code == 2 and "expected a database URL" in out.output
    out = CliRunner().invoke(main, ["run", str(extract), "--findings-table",
                                    "postgresql://u:Secret99@127.0.0.1:1/db"])
    assert out.exit_code == 2 and "cannot write the findings" in out.output and "Secret99" not in out.output
