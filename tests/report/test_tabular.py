import csv
import io
import json

import pyarrow.parquet as pq

from audit.report.safety import neutralise, spreadsheet_text
from audit.report.tabular import write_csv, write_jsonl, write_parquet
from tests.samples import FORMULA_IDS, SCRIPT_ID


def test_neutralise_follows_owasp_but_keeps_the_opcs_placeholder():
    for value in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(value) == "'" + value
    assert neutralise("-") == "-"
    assert neutralise("C78.7") == "C78.7"
    assert neutralise(7) == 7
    assert spreadsheet_text("a\x00b") == "a\ufffdb"


def test_csv_cells_are_neutralised(sample_result, tmp_path):
    out = tmp_path / "f.csv"
    write_csv(sample_result, out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == len(sample_result.findings)
    ids = {r["episode_id"] for r in rows}
    assert "'" + FORMULA_IDS[0] in ids and "'+441" in ids and "'@SUM(A1)" in ids
    assert "-" in ids  # the placeholder-like value is data, written as it is
    assert not any(v.startswith(("=", "+", "@", "\t", "\r")) for r in rows for v in r.values())
    assert {r["provider"] for r in rows} >= {"'=cmd|' /C calc'!A0"}
    assert rows[0]["codes"] == "C78.7 | J12.4"


def test_jsonl_one_finding_per_line(sample_result, tmp_path):
    out = tmp_path / "f.jsonl"
    write_jsonl(sample_result, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(sample_result.findings)
    first = json.loads(lines[0])
    assert first["rule_id"] == "IPG327-01" and first["episode_id"] == "1002" and first["end_date"] == "2024-01-20"
    assert SCRIPT_ID in {json.loads(x)["episode_id"] for x in lines}


def test_parquet_round_trip_keeps_types(sample_result, tmp_path):
    out = tmp_path / "f.parquet"
    write_parquet(sample_result, out)
    table = pq.read_table(out)
    assert table.num_rows == len(sample_result.findings)
    assert str(table.schema.field("end_date").type) == "date32[day]"
    assert table.column("episode_id").to_pylist() == sample_result.findings["episode_id"].tolist()
    again = tmp_path / "g.parquet"
    write_parquet(sample_result, again)
    assert out.read_bytes() == again.read_bytes()
