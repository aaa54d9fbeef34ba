"""``audit run`` on generated junk extracts: whatever the file, a clean exit (0, 1 or 2), no traceback, a
reconciled summary and well-formed outputs.

Each example runs the installed command in a process of its own, so a crash (a signal, such as the SIGABRT
once seen at exit in about one run in sixty) fails the test instead of the test run.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HEADERS = [
    ["EPIKEY", "DIAG_01", "DIAG_02", "OPERTN_01", "OPERTN_02", "SEX", "EPIEND"],
    ["EPIKEY", "DIAG_4_CONCAT", "OPERTN_4_CONCAT"],
    ["EPIKEY", "CODE_TYPE", "POSITION", "CODE"],
]
PIECES = ["C78.7", "C787", "J12.4", "J124", "Y53.9", "Z94.1", "-", "&", "X", '"', '""', ",", ";", "|",
          "\n", "\r\n", "\r", "\t", " ", "é", "Ünïcødé", "中文", "🙂", "\u200b", "\x1b", "\x0b", "\x00",
          "=cmd|'/c'!A1", "<script>", "2024-13-45", "2025-04-01", "1", "2", "9"]
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cells() -> st.SearchStrategy[str]:
    short = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
    long = st.integers(min_value=200, max_value=20_000).map(lambda n: "x" * n)
    return st.one_of(short, short, short, long, st.text(max_size=8))


@st.composite
def extracts(draw) -> bytes:
    header = draw(st.sampled_from(HEADERS))
    rows = draw(st.lists(st.lists(cells(), min_size=1, max_size=len(header) + 2), max_size=25))
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "cp1252"]))
    return text.encode(encoding, errors="replace")


OPTIONS = st.fixed_dictionaries({
    "workers": st.sampled_from(["0", "1", "2"]),
    "chunk": st.sampled_from(["1", "3", "100000"]),
    "redact": st.booleans(),
    "layout": st.sampled_from([None, "wide", "long", "concatenated"]),
})


class _Tags(HTMLParser):
    """Fails on nothing itself: ``feed`` raising is what a malformed document would do."""


# Each example is a process of its own (about a second): 30 of them, derandomised so CI runs the same ones, and
# no shrinking (a failure is shown as generated: shrinking through subprocesses takes many minutes).
@settings(max_examples=30, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], database=None)
@given(data=extracts(), options=OPTIONS)
def test_audit_run_on_junk_ends_cleanly(installed, tmp_path, data, options):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "junk.csv").write_bytes(data)
    args = ["run", "junk.csv", "--workers", options["workers"], "--chunk-size", options["chunk"],
            "-o", "r.json", "-o", "r.xml", "-o", "r.sarif", "-o", "r.html", "-o", "r.csv"]
    if options["layout"]:
        args += ["--layout", options["layout"]]
    if options["redact"]:
        args += ["--redact"]
    done = installed.run(*args, cwd=folder, env={"AUDIT_REDACT_KEY": "fuzz-key"})
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-2000:]
    if done.returncode == 2 and not (folder / "r.json").exists():
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
        return
    summary = json.loads((folder / "r.json").read_text(encoding="utf-8"))["summary"]
    assert summary["episodes_read"] == (summary["episodes_audited"] + summary["episodes_uncoded"]
                                        + summary["episodes_rejected"])
    json.loads((folder / "r.sarif").read_text(encoding="utf-8"))
    junit = (folder / "r.xml").read_text(encoding="utf-8")
    assert not XML_FORBIDDEN.search(junit)
    ET.fromstring(junit.encode("utf-8"))
    html = (folder / "r.html").read_text(encoding="utf-8")
    assert not XML_FORBIDDEN.search(html)
    _Tags().feed(html)
    assert not list(folder.glob(".*.part")), "a temporary report file was left behind"
