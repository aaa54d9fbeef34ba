"""JUnit XML: a test case per rule, failing when the rule has error or warning findings.

A failure's text lists the episodes (episode id, severity, message), so CI
test viewers (GitLab, Jenkins, Azure DevOps) show which episodes break which
rule. Info findings do not fail a case: they are listed in its system-out.
A last case, ``input: rows set aside``, fails when rows of the extract could
not be audited.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit.pipeline import RunResult
from audit.report.output import found_titles, write_text
from audit.report.safety import xml_text

MAX_LISTED = 1000  # episodes listed per test case; the count is always complete
_FAILING = ("error", "warning")


@dataclass
class _Listed:
    """A rule's findings of one kind (failing, or info), gathered a chunk of findings at a time: how many,
    in how many episodes (a chunk holds its episodes' findings together), and the first ``MAX_LISTED``."""

    rows: int = 0
    episodes: int = 0
    errors: bool = False
    shown: list[pd.DataFrame] = field(default_factory=list)

    def add(self, rows: pd.DataFrame) -> None:
        if not len(rows):
            return
        self.rows += len(rows)
        self.episodes += int(rows["episode_id"].nunique())
        self.errors = self.errors or bool((rows["severity"] == "error").any())
        held = sum(map(len, self.shown))
        if held < MAX_LISTED:
            self.shown.append(rows.head(MAX_LISTED - held))

    def text(self) -> str:
        shown = pd.concat(self.shown, ignore_index=True)
        items = [f"{e}: [{sev}] {msg}" + (f" ({t})" if t else "") for e, sev, msg, t in
                 zip(shown["episode_id"], shown["severity"], shown["message"], found_titles(shown))]
        if self.rows > MAX_LISTED:
            items.append(f"... and {self.rows - MAX_LISTED} more (see the CSV, JSON or XLSX report)")
        return "\n".join(items)


def _per_rule(result: RunResult) -> dict[str, tuple[_Listed, _Listed]]:
    """Each rule's failing and info findings (``_Listed``), read a batch at a time."""
    out: dict[str, tuple[_Listed, _Listed]] = {}
    for f in result.all_findings.frames():
        for rule_id, rows in f.groupby("rule_id", sort=True):
            failing, info = out.setdefault(rule_id, (_Listed(), _Listed()))
            bad = rows["severity"].isin(_FAILING)
            failing.add(rows[bad])
            info.add(rows[~bad])
    return out


def document(result: RunResult) -> ET.Element:
    """The ``<testsuites>`` element."""
    suite_name = f"coding audit: {result.source}"
    suite = ET.Element("testsuite", name=suite_name)
    failures = 0
    by_rule = _per_rule(result)
    for rule in result.rules:
        case = ET.SubElement(suite, "testcase", classname=f"audit.{rule.ruleset or rule.id}",
                             name=f"{rule.id}: {rule.title}")
        if rule.id not in by_rule:
            continue
        failing, info = by_rule[rule.id]
        if failing.rows:
            failures += 1
            f = ET.SubElement(case, "failure", type="error" if failing.errors else "warning",
                              message=f"{failing.rows} findings in {failing.episodes} episodes "
                                      f"({rule.source.guidance})")
            f.text = failing.text()
        if info.rows:
            out = ET.SubElement(case, "system-out")
            out.text = info.text()
    case = ET.SubElement(suite, "testcase", classname="audit.input", name="input: rows set aside")
    if len(result.rejected):
        failures += 1
        f = ET.SubElement(case, "failure", type="rejected",
                          message=f"{len(result.rejected)} of {result.episodes_read} rows could not be audited")
        f.text = "\n".join(f"line {r.line}: {r.episode_id}: {r.reason}"
                           for r in result.rejected.head(MAX_LISTED).itertuples())
    case = ET.SubElement(suite, "testcase", classname="audit.input", name="uncoded: episodes with no codes")
    if result.episodes_uncoded:  # coding completeness: reported, not a failure of the coding checked
        out = ET.SubElement(case, "system-out")
        out.text = (f"{result.episodes_uncoded} of {result.episodes_read} episodes have no diagnosis and no "
                    "procedure (not audited): "
                    + ", ".join(str(i) for i in result.uncoded["episode_id"].head(MAX_LISTED)))
    tests = len(result.rules) + 2
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
    # ElementTree escapes markup but writes control characters as they are: not well-formed XML.
    text = xml_text(ET.tostring(root, encoding="unicode"))
    write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n", output)
