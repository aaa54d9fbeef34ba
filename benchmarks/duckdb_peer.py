"""DuckDB peer: the engine's four fixed rules as one SQL query over a HES extract.

Block semantics (OPCS-4 "PYZ" sequencing): OPERTN_01..24 are unpivoted with their position; every code that
does not start with Y or Z opens a block, and each Y/Z code belongs to the nearest preceding non-Y/Z code.
Y/Z codes before any main code (mis-sequenced) belong to no block. Placeholders '-' and '&' are ignored.

Rules (findings are per episode):
  IPG327-01 error    a J12.4 block without a Y53.- code in that block
  IPG327-02 error    J12.4 present, and exactly one of C78.7 / a C18.- code present
  HTG532-01 error    an IRE block (J12.8 with Y12.3 in the block) without a Y53.- code in that block
  HTG532-02 error    IRE without C78.7 and without any C22 code; warning when a C22 code other than C22.9
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import hes


def source_sql(path: str | Path) -> str:
    """DuckDB table function reading an extract, every column as VARCHAR for CSV."""
    literal = "'" + str(path).replace("'", "''") + "'"
    if hes.detect_format(path) == "parquet":
        return f"read_parquet({literal})"
    return f"read_csv({literal}, header = true, all_varchar = true)"


def findings_sql(path: str | Path) -> str:
    """One SQL query returning (EPIKEY, rule_id, severity) findings for the four fixed rules."""
    ops = ", ".join(hes.OPERTN_COLUMNS)
    dx_list = "[" + ", ".join(hes.DIAG_COLUMNS) + "]"
    candidate = " OR ".join(f"{c} IN ('J124', 'J128')" for c in hes.OPERTN_COLUMNS)

    def has_dx(prefix: str) -> str:
        return f"len(list_filter(dx, lambda x: starts_with(x, '{prefix}'))) > 0"

    return f"""
WITH cand AS (  -- only episodes with a J12.4 or J12.8 code can break a fixed rule
    SELECT EPIKEY, {dx_list} AS dx, {ops}
    FROM {source_sql(path)}
    WHERE {candidate}
),
ops AS (
    SELECT EPIKEY, CAST(right(col, 2) AS INTEGER) AS pos, code
    FROM (UNPIVOT (SELECT EPIKEY, {ops} FROM cand) ON {ops} INTO NAME col VALUE code)
    WHERE code IS NOT NULL AND code NOT IN ('', '-', '&')
),
slots AS (
    SELECT EPIKEY, code, left(code, 1) IN ('Y', 'Z') AS qualifier,
           sum(CASE WHEN left(code, 1) IN ('Y', 'Z') THEN 0 ELSE 1 END)
               OVER (PARTITION BY EPIKEY ORDER BY pos ROWS UNBOUNDED PRECEDING) AS block_no
    FROM ops
),
blocks AS (
    SELECT EPIKEY, block_no,
           max(code) FILTER (WHERE NOT qualifier) AS main,
           bool_or(starts_with(code, 'Y53')) AS y53,
           bool_or(code = 'Y123') AS y123
    FROM slots
    WHERE block_no > 0
    GROUP BY EPIKEY, block_no
),
episodes AS (
    SELECT EPIKEY,
           bool_or(main = 'J124') AS rfa,
           bool_or(main = 'J124' AND NOT y53) AS rfa_without_y53,
           bool_or(main = 'J128' AND y123) AS ire,
           bool_or(main = 'J128' AND y123 AND NOT y53) AS ire_without_y53
    FROM blocks
    GROUP BY EPIKEY
),
flags AS (
    SELECT e.*,
           {has_dx("C787")} AS c787,
           {has_dx("C18")} AS c18,
           {has_dx("C229")} AS c229,
           {has_dx("C22")} AS c22
    FROM episodes e JOIN cand USING (EPIKEY)
)
SELECT EPIKEY, 'IPG327-01' AS rule_id, 'error' AS severity FROM flags WHERE rfa_without_y53
UNION ALL
SELECT EPIKEY, 'IPG327-02', 'error' FROM flags WHERE rfa AND (c787 OR c18) AND NOT (c787 AND c18)
UNION ALL
SELECT EPIKEY, 'HTG532-01', 'error' FROM flags WHERE ire_without_y53
UNION ALL
SELECT EPIKEY, 'HTG532-02', CASE WHEN c22 THEN 'warning' ELSE 'error' END
FROM flags WHERE ire AND NOT c787 AND NOT c229
ORDER BY EPIKEY, rule_id
"""


def findings(path: str | Path) -> list[tuple[str, str, str]]:
    """Run the peer query: list of (EPIKEY, rule_id, severity)."""
    import duckdb

    con = duckdb.connect()
    try:
        return [tuple(row) for row in con.execute(findings_sql(path)).fetchall()]
    finally:
        con.close()


def counts(path: str | Path) -> hes.Counts:
    """Distinct flagged episodes per fixed rule and severity according to the DuckDB peer."""
    return hes.counts_from_findings(findings(path))
