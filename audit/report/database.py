"""A run's findings and summary appended to database tables, so that a warehouse keeps the history.

``audit run ... --findings-table URL[#NAME]`` appends one row per finding to the table ``NAME``
(default ``audit_findings``) and one row for the run to ``NAME_runs``, creating them when absent,
in one transaction (a failed run leaves nothing half written). Both carry the run's ``run_id``, so
month after month the findings of each run can be told apart and joined to its summary; the runs
table's ``summary`` column holds the whole summary as JSON (its notes, the reconciliation).

Findings columns: ``run_id``, the finding's own (``episode_id``, ``rule_id``, ``severity``, ``message``,
``guidance``, ``expected``, ``found``, ``found_titles``, ``codes``: all the episode's codes in order)
and the episode's attributes (``provider``, ``start_date``, ``end_date``, ``specialty``, ``sex``,
``age``, ``coder``), missing ones NULL. With ``--redact`` the episode ids are the pseudonyms.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from audit import __version__
from audit.errors import UserError
from audit.extract.columns import ATTRIBUTE_ROLES, DATE_ROLES
from audit.extract.database import database_errors, engine_for, is_database_url, masked, split_table

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TABLE = "audit_findings"
RUNS_SUFFIX = "_runs"
FINDING_TEXT = ("episode_id", "rule_id", "severity", "message", "guidance", "expected", "found",
                "found_titles", "codes")
RUN_COUNTS = ("episodes_read", "episodes_audited", "episodes_uncoded", "episodes_rejected", "rules",
              "findings", "errors", "warnings", "info", "episodes_with_findings")
INSERT_ROWS = 10_000  # findings sent a statement at a time


@dataclass(frozen=True)
class FindingsTable:
    """Where findings go: a database URL and a table name (``schema.table`` allowed)."""

    url: str
    name: str = DEFAULT_TABLE

    @classmethod
    def parse(cls, text: str) -> FindingsTable:
        """``URL`` or ``URL#NAME``: the ``#`` after the host part separates the table's name."""
        if not is_database_url(text):
            raise UserError(f"--findings-table {masked(str(text))}: expected a database URL[#TABLE], "
                            "e.g. postgresql://user@host/warehouse#audit_findings")
        url, hash_, name = text.rpartition("#")
        if not hash_ or "@" in name or "/" in name:
            url, name = text, DEFAULT_TABLE
        if not name.strip():
            raise UserError(f"--findings-table {masked(url)}#: the table name is empty")
        return cls(url, name.strip())

    @property
    def runs(self) -> str:
        return self.name + RUNS_SUFFIX

    def __str__(self) -> str:
        return f"{masked(self.url)}#{self.name}"

    def __repr__(self) -> str:
        return f"FindingsTable({str(self)!r})"


def _tables(target: FindingsTable):
    import sqlalchemy as sa

    metadata = sa.MetaData()
    schema, name = split_table(target.name)
    text = sa.Text
    findings = sa.Table(
        name, metadata,
        sa.Column("run_id", sa.String(32), nullable=False, index=True),
        *(sa.Column(c, text) for c in FINDING_TEXT),
        *(sa.Column(c, sa.Date if c in DATE_ROLES else text) for c in ATTRIBUTE_ROLES),
        schema=schema,
    )
    runs = sa.Table(
        name + RUNS_SUFFIX, metadata,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", text),
        *(sa.Column(c, sa.BigInteger) for c in RUN_COUNTS),
        sa.Column("engine_version", sa.String(32)),
        sa.Column("summary", text),
        schema=schema,
    )
    return metadata, findings, runs


def append_run(result, target: FindingsTable, run_id: str | None = None,
               now: dt.datetime | None = None) -> tuple[str, int]:
    """Append ``result``'s findings and summary (one transaction; tables made when absent).
    Returns the run id and the number of findings written."""
    import sqlalchemy as sa

    run_id = run_id or uuid.uuid4().hex
    now = now or dt.datetime.now(dt.timezone.utc)
    engine = engine_for(target.url, target)
    metadata, findings, runs = _tables(target)
    summary = result.summary()
    written = 0
    with database_errors(target, "cannot write the findings", url=target.url):
        with engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            for table in (findings, runs):
                _check_columns(conn, table, target)
            conn.execute(runs.insert(), [{
                "run_id": run_id, "run_at": now, "source": summary.get("source"),
                **{c: summary.get(c) for c in RUN_COUNTS}, "engine_version": __version__,
                "summary": json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str),
            }])
            for frame in result.all_findings.frames():
                for start in range(0, len(frame), INSERT_ROWS):
                    rows = _rows(frame.iloc[start:start + INSERT_ROWS], run_id)
                    conn.execute(findings.insert(), rows)
                    written += len(rows)
    engine.dispose()
    return run_id, written


def _rows(frame: pd.DataFrame, run_id: str) -> list[dict]:
    """Findings as rows for the table: every column present (NULL when the extract had no such attribute),
    dates as dates, the rest text."""
    import pandas as pd  # imported when used: audit --version does not load it

    out = pd.DataFrame(index=frame.index)
    out["run_id"] = run_id
    for col in (*FINDING_TEXT, *ATTRIBUTE_ROLES):
        if col not in frame:
            out[col] = None
        elif col in DATE_ROLES:
            dates = pd.to_datetime(frame[col], errors="coerce")
            out[col] = [None if pd.isna(d) else d.date() for d in dates]
        else:
            s = frame[col].astype(object)
            out[col] = s.where(s.notna(), None).map(lambda v: v if v is None else str(v))
    return out.to_dict(orient="records")


def _check_columns(conn, table, target: FindingsTable) -> None:
    """A table already there must have every column this version writes (a table of another program,
    or of an older layout, is an error naming what it lacks)."""
    import sqlalchemy as sa

    have = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=table.schema)}
    missing = [c.name for c in table.columns if c.name not in have]
    if missing:
        raise UserError(f"{target}: the existing table {table.name} has no column "
                        f"{', '.join(missing)}: give another #TABLE, or add the columns")


findings_table_option = click.option(
    "--findings-table", "findings_table", metavar="URL[#TABLE]",
    callback=lambda ctx, param, value: FindingsTable.parse(value) if value else None,  # before the run
    help="Also append the findings and the run's summary to database tables: TABLE (default "
         f"{DEFAULT_TABLE}) and TABLE{RUNS_SUFFIX}, made when absent, one row per finding with the run_id.")


def write_findings_table(result, target: FindingsTable | None, quiet: bool = False) -> None:
    """``--findings-table``: append the run (a line on standard error says where and its run id)."""
    if target is None:
        return
    run_id, written = append_run(result, target)
    if not quiet:
        click.echo(f"appended {written} finding{'s' if written != 1 else ''} to {target} "
                   f"(run {run_id}; summary in {target.runs})", err=True)
