"""One audit run: read an extract chunk by chunk, evaluate the rules, reconcile the counts."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit.engine import empty_findings
from audit.codes import Kind
from audit.episodes import END_DATE, ID, coded_mask
from audit.profile import EpisodeProfile
from audit.extract import DEFAULT_CHUNK_ROWS, REJECT_COLUMNS, read_extract
from audit.extract.database import as_database
from audit.findings import Findings
from audit.parallel import ChunkEvaluator
from audit.reference import ReferenceTables
from audit.rules.model import RuleSet
from audit.rules.attributes import rules_for_columns
from audit.rules.options import attribute_notes, select_rules

UNCODED_COLUMNS = (ID, "line", "provider", "start_date", "end_date", "specialty", "coder")  # those the file has
_COLUMN_NAMES = {Kind.DIAGNOSIS: "diagnosis", Kind.PROCEDURE: "procedure"}


def _n(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def rules_for_kinds(rules: RuleSet, kinds: frozenset) -> tuple[RuleSet, list]:
    """The rules an extract with code columns of ``kinds`` only can check, and those left out: a rule about
    a classification the file does not hold would flag every episode for codes it was never given."""
    if kinds == frozenset(Kind):
        return rules, []
    keep, out = [], []
    for rule in rules:
        (keep if _kinds_needed(rule) <= kinds else out).append(rule)
    return RuleSet(keep), out


def _kinds_needed(rule) -> set:
    """The classifications a rule's ``when`` and ``require`` name (codes, malformed values, reference checks)."""
    from audit.rules import conditions as c

    kinds = set()
    for node in (n for cond in (rule.when, rule.require) if cond is not None for n in c.walk(cond)):
        kinds.update(p.kind for p in c.patterns_of_node(node))
        if isinstance(node, (c.Malformed, c.ReferenceCheck)):
            kinds.add(node.kind)
    return kinds


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
    # Episodes with no diagnosis and no procedure: counted and listed apart, never audited.
    uncoded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[ID]))
    stray_rows: int = 0  # long layout: rows set aside that belong to no episode (no id); in ``rejected``
    missing_kinds: tuple[str, ...] = ()  # "diagnosis" / "procedure": the extract has no such columns
    rules_not_applicable: tuple[str, ...] = ()  # rules left out because they need the missing codes
    baseline: dict | None = None  # set by audit.baseline.apply: the file, matched and stale entries
    redacted: bool = False  # episode ids replaced by keyed pseudonyms (audit.redact)
    path: str = ""  # the extract's path as given (a database: its masked name), for reports that point at it
    located_by: str = "line"  # findings' and rejects' ``line``: a text file's line, or a "row" (Parquet, sheet, table)
    profile: EpisodeProfile | None = None  # episodes per provider / specialty / coder, end dates (audit.profile)
    about: dict = field(default_factory=dict)  # title, organisation, settings of the run (audit.report.about)

    def __post_init__(self):
        if isinstance(self.all_findings, pd.DataFrame):
            self.all_findings = Findings.held(self.all_findings)

    @property
    def findings(self) -> pd.DataFrame:
        """Every finding, as one frame."""
        return self.all_findings.frame()

    @property
    def episodes_rejected(self) -> int:
        """Episodes (wide and concatenated layouts: rows) set aside; stray rows of a long file are not episodes."""
        return len(self.rejected) - self.stray_rows

    @property
    def episodes_uncoded(self) -> int:
        return len(self.uncoded)

    def reconciliation(self) -> str:
        """``96 episodes read = 90 audited + 4 uncoded + 2 rejected`` (and stray rows of a long file)."""
        text = (f"{_n(self.episodes_read, 'episode')} read = {self.episodes_audited:,} audited + "
                f"{self.episodes_uncoded:,} uncoded + {self.episodes_rejected:,} rejected")
        if self.stray_rows:
            text += f"; {_n(self.stray_rows, 'row')} without an episode id set aside"
        return text

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
        """The run's totals; ``episodes_read == episodes_audited + episodes_uncoded + episodes_rejected``
        always."""
        return {
            "source": self.source,
            "episodes_read": self.episodes_read,
            "episodes_audited": self.episodes_audited,
            "episodes_uncoded": self.episodes_uncoded,
            "reconciliation": self.reconciliation(),
            "episodes_rejected": self.episodes_rejected,
            "rows_without_episode_id": self.stray_rows,
            "episodes_without_end_date": self.episodes_without_end_date,
            "missing_code_columns": list(self.missing_kinds),
            "rules_not_applicable": list(self.rules_not_applicable),
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
    evaluator = None  # made at the first batch, when the classifications the file holds are known
    no_column: list = []  # rules left out: they read an attribute the file has no column for
    rejected, uncoded, notes = [], [], []
    read = audited = no_end_date = stray = 0
    profile = EpisodeProfile()
    columns: set[str] = set()
    kinds, located_by = frozenset(Kind), "line"
    # A file, or a database table or query (audit.extract.database: a URL with table= or query=).
    source = as_database(path, read_options.pop("table", None), read_options.pop("query", None)) or Path(path)
    # Closed however the run ends: the reader's threads are joined and its files closed before an error is said.
    with closing(read_extract(source, chunk_rows=chunk_rows, **read_options)) as batches:
        for batch in batches:
            if evaluator is None:
                kinds, located_by = batch.kinds, batch.located_by
                rules, not_applicable = rules_for_kinds(rules, kinds)
                # ... and those reading an attribute (sex, age, specialty) the file has no column for
                rules, no_column, no_column_note = rules_for_columns(rules, set(batch.episodes.columns))
                # Compiles the rules where they are evaluated; each chunk's findings are kept (or spilled) as they come.
                evaluator = ChunkEvaluator(rules, reference, workers, sink=findings.add)
            notes.extend(batch.notes)
            episodes = batch.episodes
            columns.update(episodes.columns)
            read += batch.read
            stray += batch.stray_rows
            if len(episodes):
                coded = coded_mask(episodes)
                if not coded.all():  # no diagnosis and no procedure: listed apart, never audited
                    uncoded.append(episodes.loc[~coded, [c for c in UNCODED_COLUMNS if c in episodes]])
                    episodes = episodes[coded].reset_index(drop=True)
            audited += len(episodes)
            profile.add(episodes)
            if END_DATE in episodes:
                no_end_date += int(episodes[END_DATE].isna().sum())
            else:
                no_end_date += len(episodes)
            if len(episodes):
                evaluator.submit(episodes)
            if len(batch.rejected):
                rejected.append(batch.rejected)
            if progress is not None:
                progress(batch.read + batch.stray_rows)
    if evaluator is not None:
        evaluator.results()
    all_rejected = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=REJECT_COLUMNS)
    all_uncoded = (pd.concat(uncoded, ignore_index=True) if uncoded else pd.DataFrame(columns=[ID]))
    result = RunResult(source.name, rules, findings, all_rejected, read, audited, no_end_date,
                       uncoded=all_uncoded, stray_rows=stray, located_by=located_by, profile=profile,
                       path=str(path) if isinstance(source, Path) else source.name)
    if result.episodes_read != audited + result.episodes_uncoded + result.episodes_rejected:  # internal: never silent
        raise RuntimeError(f"reconciliation failed: read {read}, audited {audited}, uncoded {len(all_uncoded)}, "
                           f"rejected {result.episodes_rejected}")
    conclude(result, kinds, not_applicable, notes, selection_notes, columns)
    if no_column:  # rules reading an attribute the file has no column for (audit.rules.attributes)
        result.rules_not_applicable += tuple(r.id for r in no_column)
        result.notes.append(no_column_note)
    return result


def conclude(result: RunResult, kinds: frozenset, not_applicable: list, notes: list[str],
             selection_notes: list[str], columns: set[str]) -> RunResult:
    """The run's notes, once its counts are reconciled: missing code columns and the rules left out, uncoded
    episodes, the reader's notes (``notes``), rule selection, attributes, end dates (also audit.spark's)."""
    rules, read, no_end_date = result.rules, result.episodes_read, result.episodes_without_end_date
    missing = [k for k in Kind if k not in kinds]
    if missing:
        result.missing_kinds = tuple(k.value for k in missing)
        result.rules_not_applicable = tuple(r.id for r in not_applicable)
        names = " and ".join(_COLUMN_NAMES[k] for k in missing)
        left = (f": {len(not_applicable)} rule{'s' if len(not_applicable) != 1 else ''} that need them could "
                f"not apply ({', '.join(r.id for r in not_applicable)})" if not_applicable else "")
        result.notes.append(f"the extract has no {names} columns{left}")
    if result.episodes_uncoded:
        n = result.episodes_uncoded
        result.notes.append(f"{_n(n, 'episode')} uncoded (no diagnosis and no procedure): not audited, listed "
                            "apart")
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
