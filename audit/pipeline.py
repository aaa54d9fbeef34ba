"""One audit run: read an extract chunk by chunk, evaluate the rules, reconcile the counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit.engine import empty_findings
from audit.episodes import END_DATE
from audit.extract import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS, read_extract
from audit.findings import Findings
from audit.parallel import ChunkEvaluator
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet
from audit.rules.options import attribute_notes, select_rules


@dataclass
class RunResult:
    """Everything a report needs: findings, rows set aside, the reconciliation and the rules.

    The findings are an ``audit.findings.Findings``: ``findings`` reads them whole, ``all_findings.batches()``
    a chunk at a time; the counts (``count``, ``by_rule``, ``summary``) are tallied a chunk at a time."""

    source: str
    rules: RuleSet
    all_findings: Findings  # or a findings DataFrame, held as one
    rejected: pd.DataFrame
    episodes_read: int = 0
    episodes_audited: int = 0
    episodes_without_end_date: int = 0
    notes: list[str] = field(default_factory=list)
    baseline: dict | None = None  # set by audit.baseline.apply: the file, matched and stale entries
    redacted: bool = False  # episode ids replaced by keyed pseudonyms (audit.redact)

    def __post_init__(self):
        if isinstance(self.all_findings, pd.DataFrame):
            self.all_findings = Findings.held(self.all_findings)

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding, as one frame."""
        return self.all_findings.frame()

    @property
    def episodes_rejected(self) -> int:
        return len(self.rejected)

    def count(self, severity: str) -> int:
        return int(self.all_findings.tally().loc[lambda t: t["severity"] == severity, "findings"].sum())

    def by_rule(self) -> pd.DataFrame:
        """Findings per rule and severity, every rule of the run listed (zero counts too)."""
        tally = self.all_findings.tally().set_index(["rule_id", "severity"])
        counts, episodes = tally["findings"], tally["episodes"]  # looked up per rule below
        rows = []
        for rule in self.rules:
            for severity in rule.severities:
                rows.append({"rule_id": rule.id, "severity": severity, "title": rule.title,
                             "guidance": rule.source.guidance,
                             "findings": int(counts.get((rule.id, severity), 0)),
                             "episodes": int(episodes.get((rule.id, severity), 0))})
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
            "findings": int(self.all_findings.tally()["findings"].sum()),
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "info": self.count("info"),
            "episodes_with_findings": self.all_findings.episodes(),
            "notes": list(self.notes),
            **({"redacted": True} if self.redacted else {}),
            **({"baseline": self.baseline} if self.baseline is not None else {}),
        }


def run_audit(path: Path, rules: RuleSet, chunk_rows: int = DEFAULT_CHUNK_ROWS, *,
              reference: ReferenceTables | None = None, options: dict | None = None,
              progress: Callable[[int], None] | None = None, workers: int = 0, **read_options) -> RunResult:
    """Audit one extract with ``rules``; memory is bounded by the chunk size, not the file.

    Rules switched off by local ``options`` or needing ``reference`` tables that were not given are
    left out, with a note saying so. ``progress``, when given, is called after each chunk with the
    number of rows read in it. ``read_options`` go to ``read_extract`` (layout, columns, encoding,
    sheet, separator, delimiter). With ``workers`` >= 1, chunks are evaluated in that many worker
    threads while the next chunks are read (``audit.parallel``); 0 evaluates each as it is read."""
    rules, selection_notes = select_rules(rules, options, reference)
    findings = Findings(empty_findings(titles=reference is not None))
    # Compiles the rules where they are evaluated; each chunk's findings are kept (or spilled) as they come.
    evaluator = ChunkEvaluator(rules, reference, workers, sink=findings.add)
    rejected, notes = [], []
    read = audited = no_end_date = 0
    columns: set[str] = set()
    for batch in read_extract(Path(path), chunk_rows=chunk_rows, **read_options):
        notes.extend(batch.notes)
        columns.update(batch.episodes.columns)
        read += batch.read
        audited += len(batch.episodes)
        if END_DATE in batch.episodes:
            no_end_date += int(batch.episodes[END_DATE].isna().sum())
        else:
            no_end_date += len(batch.episodes)
        if len(batch.episodes):
            evaluator.submit(batch.episodes)
        if len(batch.rejected):
            rejected.append(batch.rejected)
        if progress is not None:
            progress(batch.read)
    evaluator.results()
    all_rejected = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=REJECT_COLUMNS)
    result = RunResult(Path(path).name, rules, findings, all_rejected, read, audited, no_end_date)
    if result.episodes_read != result.episodes_audited + result.episodes_rejected:  # internal: never silent
        raise RuntimeError(f"reconciliation failed: read {read}, audited {audited}, rejected {len(all_rejected)}")
    result.notes.extend(notes)
    result.notes.extend(selection_notes)
    if read:
        result.notes.extend(attribute_notes(rules, columns))
    if any(r.effective_from or r.effective_to for r in rules) and no_end_date:
        result.notes.append(f"{no_end_date} episodes have no end date and were audited against every rule, "
                            "whatever its effective dates")
    elif no_end_date:
        result.notes.append(f"{no_end_date} episode{'s have' if no_end_date != 1 else ' has'} no end date")
    return result
