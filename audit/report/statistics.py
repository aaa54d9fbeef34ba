"""``--statistics``: findings per rule and severity, most frequent first (as ruff prints them)."""

from __future__ import annotations

from pathlib import Path

from audit.pipeline import RunResult
from audit.report.output import write_text


def lines(result: RunResult) -> list[str]:
    per = result.by_rule()
    per = per[per["findings"] > 0].sort_values(["findings", "rule_id", "severity"], ascending=[False, True, True],
                                               kind="stable")
    if not len(per):
        return ["no findings"]
    width = max(len(f"{n:,}") for n in per["findings"])
    rule_w = max(len(r) for r in per["rule_id"])
    out = [f"{r.findings:>{width},}  {r.rule_id:<{rule_w}}  {r.severity:<7}  {r.title}" for r in per.itertuples()]
    out.append(f"{int(per['findings'].sum()):>{width},}  total")
    return out


def write(result: RunResult, output: Path | None) -> None:
    write_text("".join(line + "\n" for line in lines(result)), output)
