"""Shared test helpers: build small canonical episode frames and run the engine on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit.codes import Kind
from audit.engine import compile_rules, evaluate
from audit.episodes import ID, code_column
from audit.rules import load_rules

REPO = Path(__file__).resolve().parents[1]


def episodes_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows of {"id", "diagnoses": [...], "procedures": [...], other attributes} as a canonical frame."""
    width = {kind: max([1, *(len(r.get(key, [])) for r in rows)])
             for kind, key in ((Kind.DIAGNOSIS, "diagnoses"), (Kind.PROCEDURE, "procedures"))}
    data: dict[str, list] = {ID: [str(r.get("id", i + 1)) for i, r in enumerate(rows)]}
    for kind, key in ((Kind.DIAGNOSIS, "diagnoses"), (Kind.PROCEDURE, "procedures")):
        for pos in range(width[kind]):
            data[code_column(kind, pos + 1)] = [
                r.get(key, [])[pos] if pos < len(r.get(key, [])) else "" for r in rows]
    extra = {k for r in rows for k in r} - {"id", "diagnoses", "procedures"}
    for k in sorted(extra):
        data[k] = [r.get(k) for r in rows]
    return pd.DataFrame(data)


@pytest.fixture(scope="session")
def shipped_rules():
    return load_rules()


@pytest.fixture(scope="session")
def compiled_shipped(shipped_rules):
    return compile_rules(shipped_rules)


@pytest.fixture
def audit_rows(compiled_shipped):
    """Evaluate the shipped rules on rows given as dicts; returns the findings frame."""
    def run(rows: list[dict]) -> pd.DataFrame:
        return evaluate(episodes_frame(rows), compiled_shipped)
    return run
