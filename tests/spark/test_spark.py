"""audit.spark gives the single process's findings, rows set aside, counts and reports, byte for byte."""

from pathlib import Path

import pandas as pd
import pytest

from audit.errors import InputFileError, UserError
from audit.pipeline import run_audit
from audit.report import write_report
from audit.rules import load_rules

SAMPLE = Path(__file__).parents[2] / "sample_episodes" / "hes_sample.csv"
FORMATS = ("json", "csv", "html", "sarif", "junit")


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _messy(folder: Path) -> Path:
    """Wide HES columns with duplicate ids (near and far apart), rows set aside (no id, bad dates, a ragged
    row), uncoded episodes and findings of several rules."""
    rows = ["EPIKEY,PROCODE,EPIEND,SEX,STARTAGE,DIAG_01,DIAG_02,OPERTN_01,OPERTN_02"]
    for i in range(400):
        key = f"E{i:05d}"
        if i % 97 == 13:
            key = "E00003"  # a duplicate of an early id, in another partition
        if i % 53 == 7:
            key = ""
        end = "2024-13-45" if i % 61 == 5 else f"2024-0{1 + i % 9}-1{i % 10}"
        diag = ["C787", "I10X", "W199", "", "B962", "C18.7"][i % 6]
        proc = ["J124", "J128", "-", "", "Y539", "Z942"][i % 6]
        codes = f"{diag},{'C180' if i % 4 else ''},{proc},{'Y533' if i % 5 else ''}"
        rows.append(f"{key},RXX0{i % 3},{end},{1 + i % 2},{20 + i % 60},"
                    + (",,," if i % 41 == 9 else codes))  # uncoded: no diagnosis, no procedure
        if i == 250:
            rows.append("E99999,RXX01,2024-01-01")  # ragged
    path = folder / "messy.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _reports(result, folder: Path) -> dict[str, bytes]:
    out = {}
    for fmt in FORMATS:
        target = folder / f"report.{fmt}"
        write_report(result, fmt, target)
        out[fmt] = target.read_bytes()
    return out


def _same_as_single_process(spark, path: Path, rules, tmp_path: Path, **options):
    from audit.spark import run_spark_audit

    local = run_audit(path, rules, chunk_rows=64, **options)
    on_spark = run_spark_audit(path, rules, chunk_rows=64, spark=spark, **options)
    assert on_spark.summary() == local.summary()
    pd.testing.assert_frame_equal(on_spark.findings, local.findings)
    pd.testing.assert_frame_equal(on_spark.rejected.reset_index(drop=True), local.rejected.reset_index(drop=True),
                                  check_dtype=False)
    (tmp_path / "a").mkdir(parents=True)
    (tmp_path / "b").mkdir(parents=True)
    assert _reports(on_spark, tmp_path / "a") == _reports(local, tmp_path / "b")
    return local, on_spark


def test_sample_extract_same_findings_and_reports(spark, rules, tmp_path):
    local, _ = _same_as_single_process(spark, SAMPLE, rules, tmp_path)
    assert len(local.findings) and len(local.rejected)


def test_messy_extract_duplicates_rejects_uncoded(spark, rules, tmp_path):
    local, on_spark = _same_as_single_process(spark, _messy(tmp_path), rules, tmp_path)
    reasons = " ".join(local.rejected["reason"])
    assert "duplicate episode id" in reasons and "ragged row" in reasons and "missing episode id" in reasons
    assert local.episodes_uncoded and local.episodes_rejected
    summary = on_spark.summary()
    assert summary["episodes_read"] == summary["episodes_audited"] + summary["episodes_uncoded"] + \
        summary["episodes_rejected"]


def test_parquet_and_long_layout(spark, rules, tmp_path):
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    parquet = tmp_path / "sample.parquet"
    frame.to_parquet(parquet, row_group_size=20)
    _same_as_single_process(spark, parquet, rules, tmp_path / "p")
    codes = [c for c in frame.columns if c.startswith(("DIAG", "OPERTN"))]
    long = frame.melt(id_vars=["EPIKEY"], value_vars=codes, var_name="COL", value_name="CODE")
    long = long[long["CODE"] != ""]
    long["CODE_TYPE"] = long["COL"].str.startswith("DIAG").map({True: "diagnosis", False: "procedure"})
    long["POSITION"] = long["COL"].str.extract(r"(\d+)$")[0].astype(int).astype(str)
    long = long.sort_values(["EPIKEY", "CODE_TYPE", "POSITION"], kind="stable")
    path = tmp_path / "long.csv"
    long[["EPIKEY", "CODE_TYPE", "POSITION", "CODE"]].to_csv(path, index=False)
    _same_as_single_process(spark, path, rules, tmp_path / "l")


def test_dataframe_entry_point(spark, rules):
    from audit.spark import audit_dataframe

    df = spark.read.csv(str(SAMPLE), header=True)
    audited = audit_dataframe(df, rules, first_line=2)
    local = run_audit(SAMPLE, rules)
    counts = audited.counts()
    assert counts["n_read"] == local.episodes_read and counts["n_audited"] == local.episodes_audited
    assert audited.findings.count() == len(local.findings)
    assert audited.rejected.count() == len(local.rejected)
    assert audited.summary()["findings"] == local.summary()["findings"]
    assert audited.summary()["episodes_with_findings"] == local.summary()["episodes_with_findings"]
    audited.unpersist()


def test_bad_input_is_one_line(spark, rules, tmp_path):
    from audit.spark import run_spark_audit

    with pytest.raises(InputFileError, match="no such file"):
        run_spark_audit(tmp_path / "missing.csv", rules, spark=spark)
    no_id = tmp_path / "no_id.csv"
    no_id.write_text("X,DIAG_01\n1,C787\n")
    with pytest.raises(InputFileError) as local:
        run_audit(no_id, rules)
    with pytest.raises(InputFileError) as on_spark:
        run_spark_audit(no_id, rules, spark=spark)
    assert str(on_spark.value) == str(local.value)
    with pytest.raises(UserError, match="table"):
        run_spark_audit("table:no_such_table", rules, spark=spark)
    from audit.extract.database import DatabaseExtract

    with pytest.raises(UserError, match="database URL"):
        run_spark_audit(DatabaseExtract("sqlite:///x.db", "episodes", None), rules, spark=spark)


def test_command_line(spark, tmp_path):
    from click.testing import CliRunner

    from audit.cli import main

    out = tmp_path / "spark.json"
    parquet = tmp_path / "findings"
    got = CliRunner().invoke(main, ["run", str(SAMPLE), "--engine", "spark", "-o", str(out),
                                    "--findings-parquet", str(parquet)])
    assert got.exit_code == 1, got.output
    local = tmp_path / "local.json"
    assert CliRunner().invoke(main, ["run", str(SAMPLE), "-o", str(local)]).exit_code == 1
    assert out.read_bytes() == local.read_bytes()
    assert len(pd.read_parquet(parquet)) == len(run_audit(SAMPLE, load_rules()).findings)
    wrong = CliRunner().invoke(main, ["run", str(SAMPLE), "--spark-master", "local[1]"])
    assert wrong.exit_code == 2 and "needs --engine spark" in wrong.output


def test_map_in_pandas_where_there_is_no_map_in_arrow(spark, rules, monkeypatch):
    from audit.spark import audit_dataframe

    df = spark.read.csv(str(SAMPLE), header=True)
    for cls in type(df).__mro__:  # Spark before 3.3: no mapInArrow
        if "mapInArrow" in vars(cls):
            monkeypatch.delattr(cls, "mapInArrow")
    assert not hasattr(df, "mapInArrow")
    audited = audit_dataframe(df, rules, first_line=2, persist=False)
    local = run_audit(SAMPLE, rules)
    assert audited.counts()["n_audited"] == local.episodes_audited
    assert audited.findings.count() == len(local.findings)


def test_admission_method_and_patient_class_conditions(spark, rules, tmp_path):
    """Rules reading ADMIMETH / CLASSPAT find the same episodes on Spark; the findings do not carry them."""
    rows = ["EPIKEY,PROCODE,SEX,ADMIMETH,CLASSPAT,DIAG_01,OPERTN_01,OPERTN_02,OPERTN_03,OPERTN_04,OPERTN_05"]
    for i in range(300):
        x72 = "X72.1" if i % 3 == 0 else ""
        rows.append(f"E{i:04d},RXX0{i % 2},{1 + i % 2},{['11', '21', '2A', '82'][i % 4]},{1 + i % 5},C78.7,"
                    f"J10.3,Y53.2,Z37.6,X33.8,{x72}")
    path = tmp_path / "classpat.csv"
    path.write_text("\n".join(rows) + "\n")
    local, _ = _same_as_single_process(spark, path, rules, tmp_path)
    day_cases = {f"E{i:04d}" for i in range(300) if i % 5 == 1 and i % 3}
    assert set(local.findings.loc[local.findings["rule_id"] == "IPG488-04", "episode_id"]) == day_cases
    assert not {"admission_method", "patient_class"} & set(local.findings.columns)
    without = tmp_path / "without.csv"
    without.write_text("\n".join(",".join(r.split(",")[:3] + r.split(",")[5:]) for r in rows) + "\n")
    local, _ = _same_as_single_process(spark, without, rules, tmp_path / "w")
    assert "IPG488-04" in local.rules_not_applicable
