"""Characters XML 1.0 forbids (control characters real extracts carry) never reach an XML output."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from audit.pipeline import run_audit
from audit.report import html, junit, sarif
from audit.report.safety import xml_text
from audit.rules import load_rules


def test_xml_text_replaces_only_what_xml_forbids():
    assert xml_text("a\x1bb\x0bc\x00d\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert xml_text("tab\tnew\nline\rok é 中 🙂") == "tab\tnew\nline\rok é 中 🙂"


def test_junit_html_sarif_stay_well_formed_with_control_characters(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(b"EPIKEY,DIAG_01,OPERTN_01,PROVIDER\nE\x1b1,C787,J124,R\x0bX\n")
    result = run_audit(path, load_rules())
    assert len(result.findings)
    out = tmp_path / "r.xml"
    junit.write(result, out)
    root = ET.parse(out).getroot()
    assert "E\ufffd1" in ET.tostring(root, encoding="unicode")
    page = html.render(result)
    assert "\x1b" not in page and "\x0b" not in page and "E\ufffd1" in page
    log = json.dumps(sarif.document(result))
    assert json.loads(log)["runs"][0]["results"][0]["properties"]["episode_id"] == "E\x1b1"  # JSON escapes it
