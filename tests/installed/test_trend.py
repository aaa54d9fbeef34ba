import json


def test_trend_of_three_months(installed, user_folder):
    for month, select in (("2026-01", "ALL"), ("2026-02", "IPG"), ("2026-03", "NAT")):
        run = installed.run("run", "hes_sample.csv", "--select", select, "-o", f"{month}.json", cwd=user_folder)
        assert run.returncode in (0, 1), run.stderr
    runs = ["2026-01.json", "2026-02.json", "2026-03.json"]
    page = installed.run("trend", *runs, "-o", "trend.html", cwd=user_folder)
    assert page.returncode == 0, page.stderr
    text = (user_folder / "trend.html").read_text(encoding="utf-8")
    assert 'id="chart-runs"' in text and "2026-03" in text
    as_json = installed.run("trend", *runs, "--format", "json", cwd=user_folder)
    assert as_json.returncode == 0, as_json.stderr
    assert [r["label"] for r in json.loads(as_json.stdout)["runs"]] == ["2026-01", "2026-02", "2026-03"]
    as_csv = installed.run("trend", *runs, "--format", "csv", cwd=user_folder)
    assert as_csv.returncode == 0 and as_csv.stdout.startswith("table,group,title,run,")
    one = installed.run("trend", "2026-01.json", cwd=user_folder)
    assert one.returncode == 2 and "Traceback" not in one.stderr
