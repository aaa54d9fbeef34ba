"""Which audited episodes a coding audit samples, and each one's inclusion probability.

Random (simple random sampling without replacement), stratified with proportional allocation
(``--stratify specialty``), or weighted by findings (``--weight findings``: episodes with a finding form
their own strata, allocated ``oversample`` times their share). Within each stratum the sample is a simple
random one, so an episode's inclusion probability is exactly n_h / N_h, and 1 / that is its weight when the
scores are weighted back to the whole extract. numpy's ``Generator`` (PCG64) seeded with ``--seed``: the
same extract and seed give the same episodes.

Only the columns the selection needs (episode id, strata, filter attributes) are kept while the extract is
read, a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit.episodes import END_DATE, ID
from audit.errors import UserError

_WITH, _WITHOUT = "with findings", "without findings"  # --weight findings: the strata


@dataclass(frozen=True)
class Filters:
    """Which audited episodes may be sampled: attribute values, and the episode's length in days."""

    equal: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role -> accepted values
    max_days: int | None = None
    min_days: int | None = None

    @property
    def roles(self) -> set[str]:
        return set(self.equal) | ({"start_date", END_DATE} if self.lengths else set())

    @property
    def lengths(self) -> bool:
        return self.max_days is not None or self.min_days is not None

    def mask(self, episodes: pd.DataFrame) -> np.ndarray:
        """True for the episodes (a canonical or plain frame) that pass every filter."""
        keep = np.ones(len(episodes), dtype=bool)
        for role, values in self.equal.items():
            if role not in episodes:
                raise UserError(f"--filter {role}=...: the extract has no {role} column")
            keep &= episodes[role].astype(object).astype(str).str.strip().isin(values).to_numpy()
        if self.lengths:
            if "start_date" not in episodes or END_DATE not in episodes:
                raise UserError("--max-days/--min-days: the extract needs start and end dates")
            days = (pd.to_datetime(episodes[END_DATE]) - pd.to_datetime(episodes["start_date"])).dt.days
            if self.max_days is not None:
                keep &= (days <= self.max_days).fillna(False).to_numpy(dtype=bool)
            if self.min_days is not None:
                keep &= (days >= self.min_days).fillna(False).to_numpy(dtype=bool)
        return keep


def parse_filters(items: Iterable[str], max_days: int | None = None, min_days: int | None = None) -> Filters:
    """``ROLE=VALUE[,VALUE...]`` options as ``Filters``."""
    from audit.extract.columns import ATTRIBUTE_ROLES

    equal: dict[str, tuple[str, ...]] = {}
    for item in items:
        role, sep, values = item.partition("=")
        role = role.strip()
        if not sep or role not in ATTRIBUTE_ROLES:
            raise UserError(f"--filter {item!r}: expected ROLE=VALUE[,VALUE...] with a role among "
                            f"{', '.join(ATTRIBUTE_ROLES)}")
        equal[role] = equal.get(role, ()) + tuple(v.strip() for v in values.split(",") if v.strip())
    return Filters(equal, max_days, min_days)


def pool(batches: Iterable[pd.DataFrame], filters: Filters, stratify: str | None,
         flagged_ids: pd.Index | None) -> pd.DataFrame:
    """The sampling frame: for every audited episode that passes the filters, its ordinal among the audited
    episodes (file order), its stratum and whether a rule flagged it. Only these narrow columns are kept (no
    episode ids, no codes): the episodes sampled are read again by ordinal (``episodes.episodes_at``)."""
    parts, seen = [], 0
    for episodes in batches:
        keep = filters.mask(episodes)
        if stratify is not None and stratify not in episodes:
            raise UserError(f"--stratify {stratify}: the extract has no {stratify} column")
        part = pd.DataFrame({"ordinal": np.flatnonzero(keep) + seen})
        strata = (episodes[stratify].astype(object)[keep].fillna("").astype(str).str.strip().to_numpy()
                  if stratify is not None else np.full(len(part), "", dtype=object))
        part["stratum"] = pd.Categorical(strata)
        part["flagged"] = (episodes[ID].astype(object)[keep].isin(flagged_ids).to_numpy()
                           if flagged_ids is not None else False)
        parts.append(part)
        seen += len(episodes)
    if not parts:
        return pd.DataFrame({"ordinal": np.array([], np.int64), "stratum": [], "flagged": np.array([], bool)})
    frame = pd.concat(parts, ignore_index=True)
    frame["stratum"] = frame["stratum"].astype(str)
    return frame


def allocate(sizes: np.ndarray, factors: np.ndarray, n: int) -> np.ndarray:
    """Sample size per stratum: ``n`` shared in proportion to size x factor, no stratum given more than it
    holds (the excess shared among the others), rounded by largest remainder (ties: the earlier stratum)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    alloc = np.zeros(len(sizes), dtype=np.int64)
    n = min(int(n), int(sizes.sum()))
    open_ = sizes > 0
    while True:
        share = np.where(open_, sizes * np.asarray(factors, dtype=float), 0.0)
        left = n - int(alloc.sum())
        if left <= 0 or not open_.any():
            break
        quota = left * share / share.sum()
        over = open_ & (alloc + quota >= sizes)
        if over.any():  # these strata are taken whole; share the rest again
            alloc[over] = sizes[over]
            open_ &= ~over
            continue
        base = np.floor(quota).astype(np.int64)
        rest = left - int(base.sum())
        order = sorted(np.flatnonzero(open_), key=lambda i: (-(quota[i] - base[i]), i))
        base[order[:rest]] += 1
        alloc += base
        break
    return alloc


def select(frame: pd.DataFrame, size: int, seed: int | None, oversample: float | None = None) -> pd.DataFrame:
    """The sampled rows of ``pool``'s frame (file order) with ``stratum`` and ``inclusion_probability``.

    With ``oversample`` (``--weight findings``), flagged and unflagged episodes are strata of their own and the
    flagged ones get ``oversample`` times their proportional share."""
    if size < 1:
        raise UserError("--size must be at least 1")
    frame = frame.reset_index(drop=True)
    keys = frame["stratum"].astype(str)
    if oversample is not None:
        flags = pd.Series(np.where(frame["flagged"].to_numpy(dtype=bool), _WITH, _WITHOUT), index=keys.index)
        keys = (keys + " / " + flags).str.removeprefix(" / ")
    groups = {k: np.flatnonzero((keys == k).to_numpy()) for k in sorted(pd.unique(keys))}
    names = list(groups)
    sizes = np.array([len(groups[k]) for k in names])
    factors = np.array([oversample if (oversample is not None and k.endswith(_WITH)) else 1.0
                        for k in names])
    alloc = allocate(sizes, factors, size)
    rng = np.random.default_rng(seed)
    chosen, probability = [], []
    for name, n_h in zip(names, alloc):
        rows = groups[name]
        picked = np.sort(rng.choice(len(rows), size=int(n_h), replace=False)) if n_h else np.array([], int)
        chosen.append(rows[picked])
        probability.append(np.full(len(picked), n_h / len(rows)))
    index = np.concatenate(chosen) if chosen else np.array([], int)
    out = frame.iloc[index].copy()
    out["inclusion_probability"] = np.concatenate(probability) if probability else np.array([])
    out["stratum"] = keys.iloc[index].to_numpy()
    return out.sort_index().reset_index(drop=True)
