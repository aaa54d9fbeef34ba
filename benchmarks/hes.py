"""Shared HES extract layout, fixed-rule ids and small file helpers for the benchmarks."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ID_COLUMN = "EPIKEY"
HEADER_COLUMNS = ["EPIKEY", "PROCODE", "EPISTART", "EPIEND", "SEX", "STARTAGE", "MAINSPEF"]
DIAG_COLUMNS = [f"DIAG_{i:02d}" for i in range(1, 21)]
OPERTN_COLUMNS = [f"OPERTN_{i:02d}" for i in range(1, 25)]
CODE_COLUMNS = DIAG_COLUMNS + OPERTN_COLUMNS
COLUMNS = HEADER_COLUMNS + CODE_COLUMNS

NO_OPERATION = "-"
NOT_KNOWN = "&"

# The engine's four fixed rules and the severities each can raise.
FIXED_RULES: dict[str, tuple[str, ...]] = {
    "IPG327-01": ("error",),
    "IPG327-02": ("error",),
    "HTG532-01": ("error",),
    "HTG532-02": ("error", "warning"),
}
SEVERITIES = ("error", "warning")

Counts = dict[str, dict[str, int]]


def extract_stem(episodes: int) -> str:
    """File stem for an extract of `episodes` rows: hes_1m, hes_10m, hes_5k, hes_1234."""
    for size, suffix in ((1_000_000, "m"), (1_000, "k")):
        if episodes >= size and episodes % size == 0:
            return f"hes_{episodes // size}{suffix}"
    return f"hes_{episodes}"


def parse_count(text: str) -> int:
    """Parse an episode count such as '1000000', '1m', '10M' or '5k'."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1]) * scale) if scale > 1 else int(text)


def detect_format(path: str | Path) -> str:
    """'parquet' or 'csv' from the file name (a CSV may be gzip-compressed: .csv.gz)."""
    suffix = Path(_without_gz(path)).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {path} (expected .csv, .csv.gz or .parquet)")


def _without_gz(path: str | Path) -> str:
    name = str(path)
    return name[:-3] if name.lower().endswith(".gz") else name


def expected_path(extract: str | Path) -> Path:
    """Expected-counts JSON that sits next to an extract: hes_1m.parquet -> hes_1m.expected.json."""
    extract = Path(extract)
    name = Path(_without_gz(extract)).name
    for suffix in (".parquet", ".pq", ".csv", ".txt"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return extract.with_name(name + ".expected.json")


def load_expected(extract: str | Path) -> dict | None:
    """The expected-counts document for an extract, or None when there is none."""
    path = expected_path(extract)
    return json.loads(path.read_text()) if path.exists() else None


def count_episodes(path: str | Path) -> int:
    """Number of episodes in an extract (Parquet metadata, or data lines of a CSV)."""
    path = Path(path)
    if detect_format(path) == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    lines, last = 0, b"\n"
    with (gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")) as fh:
        while chunk := fh.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines - 1 + (last != b"\n")


def empty_counts() -> Counts:
    """Zero counts for every fixed rule and severity."""
    return {rule: {sev: 0 for sev in SEVERITIES} for rule in FIXED_RULES}


def counts_from_findings(findings: Iterable[tuple[str, str, str]], every_rule: bool = False) -> Counts:
    """Distinct flagged episodes per rule and severity from (episode, rule, severity) rows.

    Only the four fixed rules are counted, unless `every_rule` (an engine's findings, checked against the
    national rules a realistic extract's coding errors break as well).
    """
    distinct = {(str(ep), rule, str(sev).lower()) for ep, rule, sev in findings
                if every_rule or rule in FIXED_RULES}
    tally = Counter((rule, sev) for _, rule, sev in distinct)
    counts = empty_counts()
    for (rule, sev), n in tally.items():
        counts.setdefault(rule, {s: 0 for s in SEVERITIES})
        counts[rule][sev] = counts[rule].get(sev, 0) + n
    return counts


def compare_counts(found: Counts, expected: Counts, rules: Iterable[str] | None = None) -> list[str]:
    """Human-readable differences between two per-rule count tables (empty when they agree), over `rules`
    (default: every rule of `expected`)."""
    problems = []
    for rule in expected if rules is None else rules:
        for sev in SEVERITIES:
            want = expected.get(rule, {}).get(sev, 0)
            got = found.get(rule, {}).get(sev, 0)
            if want != got:
                problems.append(f"{rule} {sev}: expected {want}, found {got}")
    return problems
