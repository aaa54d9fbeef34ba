"""Score the original coding against the auditor's re-coding, in the four areas of a coding audit.

The default method (Clinical Coding Audit Methodology):

- primary diagnosis / primary procedure: per episode, correct when the two codes are equal after
  normalisation (``audit.codes``: the fifth character counts; dagger/asterisk signs and ``X`` padding do
  not), otherwise one error; an episode with no primary procedure on either side does not count for
  procedures; ``-`` and ``&`` are not codes;
- secondary diagnoses / procedures: positions 2 onwards as multisets (order does not count): correct = the
  codes on both sides; errors = the larger of the codes left on either side (a changed code is one error,
  an omitted or an unnecessary one one error each). Of the codes left, as many as are left on the smaller
  side are "wrong" (changed), the others "unnecessary" (left in the original) or "omitted" (left in the
  re-coding);
- percent = correct / (correct + errors); weighted when the sample was (each episode by 1 / its inclusion
  probability); the 95% interval is Wilson's, on the (Kish) effective number of codes when weighted;
- levels of attainment from ``[tool.audit.attainment]``, by default the last published table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit.codes import Kind, Status, normalise_value
from audit.episodes import ID, code_columns
from audit.errors import UserError

AREAS = ("primary_diagnosis", "secondary_diagnoses", "primary_procedure", "secondary_procedures")
AREA_TITLES = {"primary_diagnosis": "Primary diagnosis", "secondary_diagnoses": "Secondary diagnoses",
               "primary_procedure": "Primary procedure", "secondary_procedures": "Secondary procedures"}
# IG Toolkit requirement 505, the last published table: level -> area -> lowest percent.
DEFAULT_ATTAINMENT = {
    "met": {"primary_diagnosis": 90, "secondary_diagnoses": 80, "primary_procedure": 90,
            "secondary_procedures": 80},
    "exceeded": {"primary_diagnosis": 95, "secondary_diagnoses": 90, "primary_procedure": 95,
                 "secondary_procedures": 90},
}
NOT_MET = "not met"
Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
BREAKDOWNS = ("coder", "specialty", "provider")
_PLACEHOLDERS = {"-", "&"}


def wilson(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion ``p`` observed on ``n`` (possibly effective) trials."""
    if n <= 0:
        return (math.nan, math.nan)
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def attainment_levels(settings: Mapping) -> dict[str, dict[str, float]]:
    """``[tool.audit.attainment]`` (level = {area = percent, ...}), checked; the default table without it.
    Levels are returned lowest first."""
    from audit.config import where

    table = settings.get("attainment")
    if table is None:
        return DEFAULT_ATTAINMENT
    at = where(settings, "attainment")
    if not isinstance(table, Mapping) or not table:
        raise UserError(f"{at} must hold levels, e.g. met = {{primary_diagnosis = 90, ...}}")
    levels = {}
    for level, thresholds in table.items():
        if not isinstance(thresholds, Mapping) or set(thresholds) != set(AREAS):
            raise UserError(f"{at} {level}: give a percent for each of {', '.join(AREAS)}")
        for area, value in thresholds.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise UserError(f"{at} {level}.{area}: {value!r} is not a percent from 0 to 100")
        levels[str(level)] = {a: float(thresholds[a]) for a in AREAS}
    return dict(sorted(levels.items(), key=lambda kv: sum(kv[1].values())))


def _normalised(column: pd.Series, kind: Kind) -> pd.Series:
    """Each cell's comparable form, worked out once per distinct value: the canonical code; "" for no code;
    a malformed value as itself (upper case) so that it matches only itself."""
    values = column.astype(object).where(column.notna(), "").astype(str)

    def key(raw: str) -> str:
        text = raw.strip()
        if not text or text in _PLACEHOLDERS:
            return ""
        status, code, _marker = normalise_value(text, kind)
        return code if status == Status.VALID else "" if status == Status.EMPTY else "?" + text.upper()

    keys = {v: key(v) for v in pd.unique(values)}
    return values.map(keys)


def _codes(frame: pd.DataFrame, kind: Kind) -> pd.DataFrame:
    """The normalised codes of one classification, one column per position, primary first."""
    cols = code_columns(frame, kind)
    if not cols:
        return pd.DataFrame(index=frame.index)
    keys = pd.DataFrame({c: _normalised(frame[c], kind) for c in cols}, index=frame.index)
    return keys


def _primary(keys: pd.DataFrame) -> pd.Series:
    if keys.shape[1] == 0:
        return pd.Series("", index=keys.index, dtype=object)
    return keys.iloc[:, 0]


def _secondary_long(keys: pd.DataFrame) -> pd.DataFrame:
    """(row, code) of the codes in positions 2 onwards."""
    if keys.shape[1] < 2:
        return pd.DataFrame({"row": pd.Series([], dtype=np.int64), "code": pd.Series([], dtype=object)})
    rest = keys.iloc[:, 1:].reset_index(drop=True)
    long = rest.melt(ignore_index=False, value_name="code")[["code"]].reset_index(names="row")
    return long[long["code"] != ""]


def _multiset(original: pd.DataFrame, recoded: pd.DataFrame, n: int) -> pd.DataFrame:
    """Per row: correct, wrong, omitted, unnecessary, errors of the secondary codes."""
    a = original.groupby(["row", "code"]).size().rename("o")
    b = recoded.groupby(["row", "code"]).size().rename("r")
    both = pd.concat([a, b], axis=1).fillna(0).astype(np.int64)
    both["m"] = np.minimum(both["o"], both["r"])
    both["lo"], both["lr"] = both["o"] - both["m"], both["r"] - both["m"]
    per = both.groupby(level="row")[["m", "lo", "lr"]].sum().reindex(range(n), fill_value=0)
    wrong = np.minimum(per["lo"], per["lr"])
    return pd.DataFrame({"correct": per["m"], "wrong": wrong, "unnecessary": per["lo"] - wrong,
                         "omitted": per["lr"] - wrong, "errors": np.maximum(per["lo"], per["lr"])})


@dataclass
class AreaScore:
    """One area's score."""

    correct: int
    errors: int
    percent: float | None  # weighted when the sample was
    ci_low: float | None
    ci_high: float | None
    attainment: str | None
    effective_n: float = 0.0


@dataclass
class Score:
    """A whole audit's score: the per-episode table and what is worked out from it."""

    episodes: pd.DataFrame  # one row per scored episode: counts per area and error type, weight, attributes
    not_recoded: list[str]
    areas: dict[str, AreaScore]
    levels: dict[str, dict[str, float]]
    weighted: bool
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)
    differences: list[dict] = field(default_factory=list)  # per episode: codes side by side
    error_types: pd.DataFrame | None = None
    errors: pd.DataFrame | None = None  # one row per error: episode_id, area, error_type, original, recoded
    precision: object | None = None  # audit.audit_workflow.precision.Precision, when the rules were run

    def below(self, level: str) -> list[str]:
        """The areas whose percent is under ``level``'s threshold."""
        if level not in self.levels:
            raise UserError(f"--fail-below {level!r}: the levels of attainment are {', '.join(self.levels)}")
        return [a for a, s in self.areas.items() if s.percent is not None and s.percent < self.levels[level][a]]


def area_score(correct: np.ndarray, errors: np.ndarray, weights: np.ndarray, thresholds) -> AreaScore:
    """Percent (weighted), Wilson interval on the effective number of codes, and the level attained; the
    ``thresholds`` are {level: percent} lowest first."""
    c, e, w = (np.asarray(x, dtype=float) for x in (correct, errors, weights))
    m = c + e
    total = float((w * m).sum())
    if total == 0:
        return AreaScore(int(c.sum()), int(e.sum()), None, None, None, None)
    p = float((w * c).sum()) / total
    n_eff = total * total / float((w * w * m).sum())  # Kish: sum(w)^2 / sum(w^2) over the codes
    low, high = wilson(p, n_eff)
    percent = 100 * p
    level = NOT_MET
    for name, threshold in thresholds.items():
        if percent >= threshold:
            level = name
    return AreaScore(int(c.sum()), int(e.sum()), percent, 100 * low, 100 * high, level, n_eff)


def score(original: pd.DataFrame, recoded: pd.DataFrame, weights: pd.Series | None = None,
          error_types: pd.Series | None = None, levels: dict | None = None) -> Score:
    """Score ``recoded`` (plain frames of the engine's canonical columns, one row per episode id) against
    ``original``. ``weights``: 1 / inclusion probability by episode id; ``error_types``: the auditor's error
    type by episode id."""
    levels = levels or DEFAULT_ATTAINMENT
    rec_keys = {k: _codes(recoded, k) for k in Kind}
    blank = _primary(rec_keys[Kind.DIAGNOSIS]) == ""
    not_recoded = recoded.loc[blank, ID].astype(str).tolist()
    recoded = recoded[~blank.to_numpy()]
    extra = sorted(set(recoded[ID]) - set(original[ID]))
    if extra:
        shown = ", ".join(extra[:10]) + (f", ... ({len(extra)} in all)" if len(extra) > 10 else "")
        raise UserError(f"the re-coding has episode ids that are not in the original: {shown}")
    original = original.set_index(ID).loc[recoded[ID].to_numpy()].reset_index()
    recoded = recoded.reset_index(drop=True)
    n = len(recoded)
    table = pd.DataFrame({ID: recoded[ID].astype(str).to_numpy()})
    for attr in ("provider", "specialty", "coder"):
        if attr in original:
            table[attr] = original[attr].astype(str).to_numpy()
    w = (table[ID].map(weights).astype(float).fillna(1.0).to_numpy() if weights is not None
         else np.ones(n))
    table["weight"] = w
    details = {}
    for kind, (p_area, s_area) in {Kind.DIAGNOSIS: AREAS[:2], Kind.PROCEDURE: AREAS[2:]}.items():
        o_keys, r_keys = _codes(original, kind), _codes(recoded, kind)
        o_keys.index = r_keys.index = range(n)
        o1, r1 = _primary(o_keys).to_numpy(), _primary(r_keys).to_numpy()
        counts = (o1 != "") | (r1 != "") if kind is Kind.PROCEDURE else np.ones(n, dtype=bool)
        same = o1 == r1
        table[f"{p_area}_correct"] = (counts & same).astype(int)
        table[f"{p_area}_errors"] = (counts & ~same).astype(int)
        table[f"{p_area}_wrong"] = (counts & ~same & (o1 != "") & (r1 != "")).astype(int)
        table[f"{p_area}_omitted"] = (counts & (o1 == "") & (r1 != "")).astype(int)
        table[f"{p_area}_unnecessary"] = (counts & (o1 != "") & (r1 == "")).astype(int)
        multi = _multiset(_secondary_long(o_keys), _secondary_long(r_keys), n)
        for col in ("correct", "errors", "wrong", "omitted", "unnecessary"):
            table[f"{s_area}_{col}"] = multi[col].to_numpy()
        details[kind] = (o_keys, r_keys)
    if error_types is not None:
        table["error_type"] = table[ID].map(error_types).fillna("").astype(str).to_numpy()
    thresholds = {a: {lvl: t[a] for lvl, t in levels.items()} for a in AREAS}
    areas = {a: area_score(table[f"{a}_correct"], table[f"{a}_errors"], w, thresholds[a]) for a in AREAS}
    result = Score(table, not_recoded, areas, levels, bool((w != 1).any()))
    result.breakdowns = {attr: _breakdown(table, attr, thresholds) for attr in BREAKDOWNS if attr in table}
    result.error_types = _error_types(table)
    result.differences = _differences(table, original, recoded, details)
    result.errors = _error_list(table, details)
    return result


def _breakdown(table: pd.DataFrame, attr: str, thresholds: dict) -> pd.DataFrame:
    rows = []
    for value, part in table.groupby(attr, sort=True):
        row = {attr: value, "episodes": len(part)}
        for a in AREAS:
            s = area_score(part[f"{a}_correct"], part[f"{a}_errors"], part["weight"], thresholds[a])
            row[f"{a}_correct"], row[f"{a}_errors"] = s.correct, s.errors
            row[f"{a}_percent"] = None if s.percent is None else round(s.percent, 2)
        rows.append(row)
    frame = pd.DataFrame(rows).astype(object)
    return frame.where(frame.notna(), None)  # an area with nothing to score: None, not NaN


def _error_types(table: pd.DataFrame) -> pd.DataFrame:
    """Errors per area and type (wrong, omitted, unnecessary); the auditor's own types, when given, per area."""
    rows = [{"area": a, "error_type": t, "errors": int(table[f"{a}_{t}"].sum())}
            for a in AREAS for t in ("wrong", "omitted", "unnecessary")]
    if "error_type" in table:
        for a in AREAS:
            with_errors = table[(table[f"{a}_errors"] > 0) & (table["error_type"] != "")]
            for t, part in with_errors.groupby("error_type", sort=True):
                rows.append({"area": a, "error_type": f"auditor: {t}", "errors": int(part[f"{a}_errors"].sum())})
    return pd.DataFrame(rows, columns=["area", "error_type", "errors"])


ERROR_COLUMNS = ["episode_id", "area", "error_type", "original", "recoded"]


def _error_list(table: pd.DataFrame, details: dict) -> pd.DataFrame:
    """Each error with its codes (normalised): a changed primary is wrong (original -> re-coded); of the
    secondary codes left on both sides, those paired in position order are wrong, the rest of the original's
    unnecessary, the rest of the re-coding's omitted (the counts of ``score``)."""
    from collections import Counter

    rows = []
    for kind, (p_area, s_area) in {Kind.DIAGNOSIS: AREAS[:2], Kind.PROCEDURE: AREAS[2:]}.items():
        o_keys, r_keys = details[kind]
        o_list = o_keys.to_numpy().tolist() if o_keys.shape[1] else [[] for _ in range(len(table))]
        r_list = r_keys.to_numpy().tolist() if r_keys.shape[1] else [[] for _ in range(len(table))]
        for episode_id, o, r in zip(table[ID], o_list, r_list):
            o1, r1 = (o[0] if o else ""), (r[0] if r else "")
            if o1 != r1:
                kind_of = "wrong" if o1 and r1 else "omitted" if r1 else "unnecessary"
                rows.append((episode_id, p_area, kind_of, o1, r1))
            both = Counter(c for c in o[1:] if c) & Counter(c for c in r[1:] if c)
            both_o, both_r = Counter(both), Counter(both)  # matches to use up, on each side
            only_o = [c for c in o[1:] if c and _unmatched(both_o, c)]
            only_r = [c for c in r[1:] if c and _unmatched(both_r, c)]
            for a, b in zip(only_o, only_r):
                rows.append((episode_id, s_area, "wrong", a, b))
            rows += [(episode_id, s_area, "unnecessary", a, "") for a in only_o[len(only_r):]]
            rows += [(episode_id, s_area, "omitted", "", b) for b in only_r[len(only_o):]]
    order = {a: i for i, a in enumerate(AREAS)}
    frame = pd.DataFrame(rows, columns=ERROR_COLUMNS)
    return frame.assign(_a=frame["area"].map(order)).sort_values(["_a", ID], kind="stable").drop(columns="_a") \
        .reset_index(drop=True)


def _unmatched(both, code) -> bool:
    """True for an occurrence of ``code`` not matched on the other side (``both``: matches still to use)."""
    if both[code] > 0:
        both[code] -= 1
        return False
    return True


def _differences(table, original, recoded, details) -> list[dict]:
    """Each scored episode's codes side by side, each code marked when it is not matched on the other side."""
    out = []
    for i, episode_id in enumerate(table[ID]):
        row = {"episode_id": episode_id, "errors": 0}
        for kind, name in ((Kind.DIAGNOSIS, "diagnoses"), (Kind.PROCEDURE, "procedures")):
            o_keys, r_keys = details[kind]
            o_raw = [(original[c].iloc[i], o_keys[c].iloc[i]) for c in o_keys.columns if o_keys[c].iloc[i]]
            r_raw = [(recoded[c].iloc[i], r_keys[c].iloc[i]) for c in r_keys.columns if r_keys[c].iloc[i]]
            row[name] = (_marked(o_raw, r_raw, o_keys, r_keys, i), _marked(r_raw, o_raw, r_keys, o_keys, i))
        row["errors"] = int(sum(table[f"{a}_errors"].iloc[i] for a in AREAS))
        out.append(row)
    return out


def _marked(side, other, keys, other_keys, i) -> list[tuple[str, bool]]:
    """(code as written, differs) for one side: the primary differs when the other primary is not the same;
    a secondary code differs when the other side's secondaries have fewer of it."""
    first = keys.iloc[i, 0] if keys.shape[1] else ""
    other_first = other_keys.iloc[i, 0] if other_keys.shape[1] else ""
    rest_other = [k for k in other_keys.iloc[i, 1:].tolist() if k] if other_keys.shape[1] > 1 else []
    out, primary_done = [], False
    for raw, key in side:
        if not primary_done and key == first and first:
            out.append((str(raw), key != other_first))
            primary_done = True
            continue
        if key in rest_other:
            rest_other.remove(key)
            out.append((str(raw), False))
        else:
            out.append((str(raw), True))
    return out
