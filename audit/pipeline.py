"""One audit run: read an extract chunk by chunk, evaluate the rules, reconcile the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit.engine import compile_rules, empty_findings, evaluate
from audit.episodes import END_DATE
from audit.extract import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS, read_extract
from audit.rules.model import RuleSet


@dataclass
class RunResult:
    """Everything a report needs: findings, rows set aside, the reconciliation and the rules."""

    source: str
    rules: RuleSet
    findings: pd.DataFrame
    rejected: pd.DataFrame
    episodes_read: int = 0
    episodes_audited: int = 0
    episodes_without_end_date: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def episodes_rejected(self) -> int:
        return len(self.rejected)

    def count(self, severity: str) -> int:
        return int((self.findings["severity"] == severity).sum())

    def by_rule(self) -> pd.DataFrame:
        """Findings per rule and severity, every rule of the run listed (zero counts too)."""
        counts = self.findings.groupby(["rule_id", "severity"]).size()
        rows = []
        for rule in self.rules:
            for severity in rule.severities:
                rows.append({"rule_id": rule.id, "severity": severity, "title": rule.title,
                             "guidance": rule.source.guidance,
                             "findings": int(counts.get((rule.id, severity), 0)),
                             "episodes": int(self.findings.loc[(self.findings["rule_id"] == rule.id)
                                                               & (self.findings["severity"] == severity),
                                                               "episode_id"].nunique())})
        return pd.DataFrame(rows, columns=["rule_id", "severity", "title", "guidance", "findings", "episodes"])

    def summary(self) -> dict:
        """The run's totals; ``episodes_read == episodes_audited + episodes_rejected`` always."""
        return {
            "source": self.source,
            "episodes_read": self.episodes_read,
            "episodes_audited": self.episodes_audited,
            "episodes_rejected": self.episodes_rejected,
            "episodes_without_end_date": self.episodes_without_end_date,
            "rules": len(self.rules),
            "findings": len(self.findings),
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "info": self.count("info"),
            "episodes_with_findings": int(self.findings["episode_id"].nunique()),
            "notes": list(self.notes),
        }

    @property
    def exit_code(self) -> int:
        """0: no error findings; 1: at least one."""
        return 1 if self.count("error") else 0


def run_audit(path: Path, rules: RuleSet, chunk_rows: int = DEFAULT_CHUNK_ROWS, **read_options) -> RunResult:
    """Audit one extract with ``rules``; memory is bounded by the chunk size, not the file.

    ``read_options`` go to ``read_extract`` (layout, columns, encoding, sheet, separator, delimiter).
    """
    compiled = compile_rules(rules)
    findings, rejected, notes = [], [], []
    read = audited = no_end_date = 0
    for batch in read_extract(Path(path), chunk_rows=chunk_rows, **read_options):
        notes.extend(batch.notes)
        read += batch.read
        audited += len(batch.episodes)
        if END_DATE in batch.episodes:
            no_end_date += int(batch.episodes[END_DATE].isna().sum())
        else:
            no_end_date += len(batch.episodes)
        if len(batch.episodes):
            findings.append(evaluate(batch.episodes, compiled))
        if len(batch.rejected):
            rejected.append(batch.rejected)
    frames = [f for f in findings if len(f)]
    all_findings = pd.concat(frames, ignore_index=True) if frames else \
        (findings[0] if findings else empty_findings())
    all_rejected = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=REJECT_COLUMNS)
    result = RunResult(Path(path).name, rules, all_findings, all_rejected, read, audited, no_end_date)
    if result.episodes_read != result.episodes_audited + result.episodes_rejected:  # internal: never silent
        raise RuntimeError(f"reconciliation failed: read {read}, audited {audited}, rejected {len(all_rejected)}")
    result.notes.extend(notes)
    if any(r.effective_from or r.effective_to for r in rules) and no_end_date:
        result.notes.append(f"{no_end_date} episodes have no end date and were audited against every rule, "
                            "whatever its effective dates")
    elif no_end_date:
        result.notes.append(f"{no_end_date} episode{'s have' if no_end_date != 1 else ' has'} no end date")
    return result
