"""Selection: allocation by hand, stratification proportions, inclusion probabilities, reproducibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.audit_workflow.sample import Filters, allocate, parse_filters, select
from audit.errors import UserError


def pool_of(strata: dict[str, int], flagged: set[str] = frozenset()) -> pd.DataFrame:
    rows = [(f"{s}-{i}", s, f"{s}-{i}" in flagged) for s, n in strata.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["episode_id", "stratum", "flagged"])


def test_allocation_is_proportional_with_largest_remainders():
    assert allocate(np.array([50, 30, 20]), np.ones(3), 10).tolist() == [5, 3, 2]
    # quotas 3, 1.5, 0.5: floors 3, 1, 0; one left, to the larger remainder (a tie: the earlier stratum)
    assert allocate(np.array([6, 3, 1]), np.ones(3), 5).tolist() == [3, 2, 0]
    # a stratum whose share is more than it holds is taken whole, the rest shared again:
    # shares 2 x 10 = 20 and 98: quota 20 * 20 / 118 = 3.4 > 2, so 2 and 18
    assert allocate(np.array([2, 98]), np.array([10.0, 1.0]), 20).tolist() == [2, 18]
    assert allocate(np.array([3, 4]), np.ones(2), 50).tolist() == [3, 4]  # more asked than there are


def test_stratified_sample_keeps_the_proportions_and_records_probabilities():
    frame = pool_of({"100": 60, "300": 30, "501": 10})
    got = select(frame, 20, seed=1)
    assert got["stratum"].value_counts().to_dict() == {"100": 12, "300": 6, "501": 2}
    assert got.groupby("stratum")["inclusion_probability"].first().to_dict() == {
        "100": pytest.approx(12 / 60), "300": pytest.approx(6 / 30), "501": pytest.approx(2 / 10)}
    assert got["episode_id"].is_unique


def test_weighted_by_findings_oversamples_flagged_episodes():
    flagged = {f"x-{i}" for i in range(10)}
    frame = pool_of({"x": 100}, flagged)
    got = select(frame, 20, seed=3, oversample=3.0)
    # shares 10 x 3 = 30 and 90 x 1 = 90: 20 * 30 / 120 = 5 flagged (p = 5/10), 15 others (p = 15/90)
    flagged_rows = got["episode_id"].isin(flagged)
    assert flagged_rows.sum() == 5 and (~flagged_rows).sum() == 15
    assert set(got.loc[flagged_rows, "inclusion_probability"]) == {0.5}
    assert got.loc[~flagged_rows, "inclusion_probability"].iloc[0] == pytest.approx(1 / 6)
    # weighting back: sum of 1 / p over the sample = the number of episodes
    assert (1 / got["inclusion_probability"]).sum() == pytest.approx(100)


def test_same_seed_same_episodes_other_seed_others():
    frame = pool_of({"": 500})
    a, b, c = (select(frame, 50, seed=s)["episode_id"].tolist() for s in (42, 42, 43))
    assert a == b and a != c
    assert len(a) == 50


def test_filters_by_attribute_and_length():
    episodes = pd.DataFrame({"specialty": ["100", "300", "100"],
                             "start_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01"]),
                             "end_date": pd.to_datetime(["2025-01-05", "2025-01-05", "2025-01-30"])})
    assert Filters({"specialty": ("100",)}, max_days=10).mask(episodes).tolist() == [True, False, False]
    assert parse_filters(["specialty=100, 101"]).equal == {"specialty": ("100", "101")}
    with pytest.raises(UserError, match="--filter"):
        parse_filters(["ward=3"])


def test_pool_keeps_ordinals_across_chunks_not_ids():
    from audit.audit_workflow.sample import pool

    chunks = [pd.DataFrame({"episode_id": ["a", "b"], "specialty": ["100", "300"]}),
              pd.DataFrame({"episode_id": ["c", "d", "e"], "specialty": ["100", "100", "300"]})]
    got = pool(iter(chunks), Filters({"specialty": ("100",)}), "specialty", pd.Index(["c"]))
    assert list(got.columns) == ["ordinal", "stratum", "flagged"]
    assert got["ordinal"].tolist() == [0, 2, 3] and got["flagged"].tolist() == [False, True, False]
