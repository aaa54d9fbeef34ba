"""Which rules' findings the auditor confirms.

The rules run, through the normal pipeline (``audit.pipeline.run_audit``), on the scored episodes twice:
as coded, and with the auditor's codes (the same attributes). A finding of the original that the re-coding
no longer has (the same rule on the same episode) is confirmed; one that stays is not. Per rule: flagged,
confirmed, precision. The auditor's errors on episodes no rule flagged are what the rules miss.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audit.codes import Kind
from audit.episodes import ID, code_columns
from audit.extract.columns import EPISODE_ROLES

# Every attribute a rule may read, so that the rules that ran on the extract run here too; each role's name in
# capitals is one of the names the reader looks for (PROVIDER, START_DATE, ..., PATIENT_CLASS).
_HEADERS = {role: role.upper() for role in EPISODE_ROLES}
_PREFIX = {Kind.DIAGNOSIS: "DIAG_", Kind.PROCEDURE: "OPERTN_"}


@dataclass
class Precision:
    """Per rule: flagged, confirmed, precision; and the errors on episodes no rule flagged."""

    rules: pd.DataFrame  # rule_id, title, flagged, confirmed, precision
    unflagged: int  # scored episodes no rule flagged
    unflagged_with_errors: list[str]  # ... of which the auditor found errors on these
    missed_errors: dict[str, int]  # area -> errors on episodes no rule flagged


def wide_extract(codes_from: pd.DataFrame, attributes_from: pd.DataFrame, path: Path) -> Path:
    """A wide Parquet extract of the episodes: attributes of ``attributes_from``, codes of ``codes_from``
    (both plain frames in the same episode order)."""
    out = {"EPISODE_ID": attributes_from[ID].astype(str).to_numpy()}
    for role, header in _HEADERS.items():
        if role in attributes_from:
            column = attributes_from[role]
            out[header] = column.to_numpy() if pd.api.types.is_datetime64_any_dtype(column) else \
                column.astype(str).to_numpy()
    for kind, prefix in _PREFIX.items():
        for i, col in enumerate(code_columns(codes_from, kind), start=1):
            out[f"{prefix}{i:02d}"] = codes_from[col].astype(str).to_numpy()
    pd.DataFrame(out).to_parquet(path, index=False)
    return path


def findings_of(frame: pd.DataFrame, attributes: pd.DataFrame, rules, reference, options) -> tuple:
    """The (episode_id, rule_id) pairs ``rules`` find on these episodes (codes of ``frame``, attributes of
    ``attributes``), through the pipeline, and the rules it ran."""
    from audit.pipeline import run_audit

    with tempfile.TemporaryDirectory(prefix="audit-score-") as folder:
        path = wide_extract(frame, attributes, Path(folder) / "episodes.parquet")
        result = run_audit(path, rules, reference=reference, options=options)
        return result.findings[[ID, "rule_id"]].astype(str).drop_duplicates(), result.rules


def rule_precision(original: pd.DataFrame, recoded: pd.DataFrame, table: pd.DataFrame, rules, reference=None,
                   options=None) -> Precision:
    """Confirmation of each rule's findings on the scored episodes (``table``: ``score.Score.episodes``)."""
    from audit.audit_workflow.score import AREAS

    ids = table[ID].astype(str).to_numpy()
    original = original.set_index(ID).loc[ids].reset_index()
    recoded = recoded.set_index(ID).loc[ids].reset_index()
    before, ran = findings_of(original, original, rules, reference, options)
    after, _ = findings_of(recoded, original, rules, reference, options)
    stays = before.merge(after, on=[ID, "rule_id"], how="left", indicator=True)["_merge"] == "both"
    before = before.assign(confirmed=~stays.to_numpy())
    titles = {r.id: r.title for r in ran}
    per_rule = before.groupby("rule_id", sort=True).agg(flagged=(ID, "size"), confirmed=("confirmed", "sum"))
    per_rule = per_rule.reset_index()
    per_rule.insert(1, "title", per_rule["rule_id"].map(titles).fillna(""))
    per_rule["confirmed"] = per_rule["confirmed"].astype(int)
    per_rule["precision"] = (100 * per_rule["confirmed"] / per_rule["flagged"]).round(2)
    flagged_ids = set(before[ID])
    clean = table[~table[ID].isin(flagged_ids)]
    errors = clean[[f"{a}_errors" for a in AREAS]].sum(axis=1)
    return Precision(per_rule, len(clean), clean.loc[errors > 0, ID].tolist(),
                     {a: int(clean[f"{a}_errors"].sum()) for a in AREAS})
