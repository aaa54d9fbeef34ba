"""Shared test helpers: build small canonical episode frames and run the engine on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit.engine import compile_rules, evaluate
from audit.episodes import episodes_from_lists
from audit.rules import load_rules

REPO = Path(__file__).resolve().parents[1]


def episodes_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows of {"id", "diagnoses": [...], "procedures": [...], other attributes} as a canonical frame."""
    extra = sorted({k for r in rows for k in r} - {"id", "diagnoses", "procedures"})
    return episodes_from_lists([r.get("id", i + 1) for i, r in enumerate(rows)],
                               [r.get("diagnoses", []) for r in rows], [r.get("procedures", []) for r in rows],
                               {k: [r.get(k) for r in rows] for k in extra})


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
