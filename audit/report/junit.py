"""JUnit XML: a test case per rule, failing when the rule has error or warning findings.

A failure's text lists the episodes (episode id, severity, message), so CI
test viewers (GitLab, Jenkins, Azure DevOps) show which episodes break which
rule. Info findings do not fail a case: they are listed in its system-out.
A last case, ``input: rows set aside``, fails when rows of the extract could
not be audited.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from audit.pipeline import RunResult
from audit.report.output import found_titles, write_text

MAX_LISTED = 1000  # episodes listed per test case; the count is always complete
_FAILING = ("error", "warning")


def _lines(rows) -> str:
    shown = rows.head(MAX_LISTED)
    items = [f"{e}: [{sev}] {msg}" + (f" ({t})" if t else "") for e, sev, msg, t in
             zip(shown["episode_id"], shown["severity"], shown["message"], found_titles(shown))]
    if len(rows) > MAX_LISTED:
        items.append(f"... and {len(rows) - MAX_LISTED} more (see the CSV, JSON or XLSX report)")
    return "\n".join(items)


def document(result: RunResult) -> ET.Element:
    """The ``<testsuites>`` element."""
    suite_name = f"coding audit: {result.source}"
    suite = ET.Element("testsuite", name=suite_name)
    failures = 0
    by_rule = {rid: rows for rid, rows in result.findings.groupby("rule_id", sort=True)}
    for rule in result.rules:
        case = ET.SubElement(suite, "testcase", classname=f"audit.{rule.ruleset or rule.id}",
                             name=f"{rule.id}: {rule.title}")
        rows = by_rule.get(rule.id)
        if rows is None:
            continue
        failing = rows[rows["severity"].isin(_FAILING)]
        if len(failing):
            failures += 1
            worst = "error" if (failing["severity"] == "error").any() else "warning"
            f = ET.SubElement(case, "failure", type=worst,
                              message=f"{len(failing)} findings in {failing['episode_id'].nunique()} episodes "
                                      f"({rule.source.guidance})")
            f.text = _lines(failing)
        info = rows[~rows["severity"].isin(_FAILING)]
        if len(info):
            out = ET.SubElement(case, "system-out")
            out.text = _lines(info)
    case = ET.SubElement(suite, "testcase", classname="audit.input", name="input: rows set aside")
    if len(result.rejected):
        failures += 1
        f = ET.SubElement(case, "failure", type="rejected",
                          message=f"{len(result.rejected)} of {result.episodes_read} rows could not be audited")
        f.text = "\n".join(f"line {r.line}: {r.episode_id}: {r.reason}"
                           for r in result.rejected.head(MAX_LISTED).itertuples())
    tests = len(result.rules) + 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    root = ET.Element("testsuites", name="coding-audit", tests=str(tests), failures=str(failures), errors="0")
    root.append(suite)
    return root


def write(result: RunResult, output: Path | None) -> None:
    root = document(result)
    ET.indent(root)
    write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n", output)
