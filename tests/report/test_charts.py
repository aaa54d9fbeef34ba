"""Chart counts: tallied a chunk of findings at a time, they add up to the tally of all the findings."""

import pandas as pd
import pytest

from audit.report import charts


def _findings(n):
    return pd.DataFrame({
        "provider": [f"P{i % 15}" if i % 7 else " " for i in range(n)],
        "severity": [("error", "warning", "info")[i % 3] for i in range(n)],
    })


@pytest.mark.parametrize("cut", [1, 4, 50, 1000])
def test_chunks_add_up_to_the_whole(cut):
    f = _findings(200)
    whole = charts.ranked(charts.tally(f, "provider"))
    parts = charts.added([charts.tally(f.iloc[i:i + cut], "provider") for i in range(0, len(f), cut)])
    pd.testing.assert_frame_equal(charts.ranked(parts), whole, check_names=False)
    assert len(whole) == charts.TOP and whole.index[-1].startswith("Other (")
    assert "(blank)" in charts.tally(f, "provider").index
    assert int(whole.to_numpy().sum()) == 200


def test_ranked_by_label_and_empty():
    f = _findings(10)
    assert list(charts.ranked(charts.tally(f, "provider"), "label").index) == sorted(charts.tally(f, "provider").index)
    empty = charts.added([charts.tally(f.head(0), "provider")])
    assert list(empty.columns) == list(charts.SEVERITY_ORDER) and not len(charts.ranked(empty))
