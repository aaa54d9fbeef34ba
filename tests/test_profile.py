import pandas as pd

from audit.profile import EpisodeProfile


def test_episodes_per_group_and_period_add_up_over_chunks():
    profile = EpisodeProfile()
    profile.add(pd.DataFrame({"coder": ["ann", "bob", None], "specialty": ["300", "300", ""],
                              "end_date": pd.to_datetime(["2026-01-03", None, "2026-01-31"])}))
    profile.add(pd.DataFrame({"coder": ["ann"], "specialty": ["100"], "end_date": pd.to_datetime(["2025-12-30"])}))
    profile.add(pd.DataFrame({"coder": []}))
    assert profile.counts("coder").to_dict() == {"ann": 2, "bob": 1, "(blank)": 1}
    assert profile.counts("specialty").to_dict() == {"300": 2, "(blank)": 1, "100": 1}
    assert profile.counts("provider").empty
    assert profile.period() == ("2025-12-30", "2026-01-31")
    assert EpisodeProfile().period() is None


def test_values_labelled_alike_are_counted_together():
    """Counted per distinct value, then labelled: NaN, "" and "  " are one (blank); categories unused are none."""
    profile = EpisodeProfile()
    column = pd.Series(pd.Categorical(["300", None, "300", " "], categories=["300", " ", "501"]))
    profile.add(pd.DataFrame({"specialty": column, "coder": ["", None, "ann", "ann"]}))
    profile.add(pd.DataFrame({"specialty": ["300", None], "coder": ["ann", "   "]}))
    assert profile.counts("specialty").to_dict() == {"(blank)": 3, "300": 3}
    assert profile.counts("coder").to_dict() == {"(blank)": 3, "ann": 3}
