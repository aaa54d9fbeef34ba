"""What a report is about: organisation, audit period, rules and the run's settings; and each provider's,
specialty's and coder's rates against the episodes they coded. Nothing here reads a clock."""

from __future__ import annotations

import pandas as pd

from audit import __version__
from audit.profile import BLANK
from audit.report.specialties import label as specialty_label

SETTING_KEYS = ("select", "ignore", "fail-on", "max-findings", "reference", "extend-rules")
GROUP_TITLES = {"provider": "Provider", "specialty": "Specialty", "coder": "Coder"}


def run_context(raw: dict, options: dict | None = None) -> dict:
    """A run's title, organisation and settings as the settings file and options gave them."""
    settings = {k: raw[k] for k in SETTING_KEYS if raw.get(k) not in (None, [], "")}
    settings.update({f"options.{k}": v for k, v in sorted((options or {}).items())})
    return {"title": raw.get("title"), "organisation": raw.get("organisation"),
            "settings": {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v))
                         for k, v in settings.items()}}


def about(result) -> dict:
    """Organisation (the setting, else the extract's providers), period, rules version and settings."""
    context = getattr(result, "about", None) or {}
    profile = getattr(result, "profile", None)
    providers = sorted(v for v in profile.counts("provider").index if v != BLANK) if profile else []
    organisation = context.get("organisation") or (", ".join(providers[:6]) + (
        f" and {len(providers) - 6} more" if len(providers) > 6 else "") if providers else "")
    period = profile.period() if profile else None
    return {"title": context.get("title") or "", "organisation": str(organisation),
            "period": f"{period[0]} to {period[1]}" if period else "",
            "rules_version": f"coding-audit {__version__}, {len(result.rules)} rules",
            "settings": sorted((context.get("settings") or {}).items())}


def group_rates(result, findings_per_group: dict[str, pd.DataFrame], flagged: dict[str, pd.Series]) -> list[dict]:
    """Per provider, specialty and coder: episodes coded, findings and flagged episodes per 1,000 of them,
    and the % of their episodes without an error finding; biggest first. Needs the pipeline's profile."""
    profile = getattr(result, "profile", None)
    out = []
    for column, title in GROUP_TITLES.items():
        episodes = profile.counts(column) if profile else pd.Series(dtype="int64")
        if not len(episodes):
            continue
        table = findings_per_group.get(column)
        total = table.sum(axis=1) if table is not None and len(table) else pd.Series(dtype="int64")
        errors = table["error"] if table is not None and "error" in table else pd.Series(dtype="int64")
        with_error = flagged.get(f"{column}:error", pd.Series(dtype="int64"))
        with_any = flagged.get(column, pd.Series(dtype="int64"))
        rows = []
        for value in sorted(episodes.index, key=lambda v: (-int(episodes[v]), str(v))):  # a loop over groups
            n, found = int(episodes[value]), int(total.get(value, 0))
            flagged_n, erred = int(with_any.get(value, 0)), int(with_error.get(value, 0))
            rows.append({"value": specialty_label(value) if column == "specialty" else str(value), "episodes": n,
                         "findings": found, "errors": int(errors.get(value, 0)), "flagged": flagged_n,
                         "per_1000": round(1000 * found / n, 1), "flagged_per_1000": round(1000 * flagged_n / n, 1),
                         "clean_pct": round(100 * (n - erred) / n, 1),
                         "findings_rate": f"{1000 * found / n:,.1f}", "flagged_rate": f"{1000 * flagged_n / n:,.1f}",
                         "clean": f"{100 * (n - erred) / n:.1f}"})
        out.append({"column": column, "title": title, "rows": rows})
    return out


def group_tallies(result) -> tuple[dict[str, pd.DataFrame], dict[str, pd.Series], int]:
    """Findings per group and severity, episodes flagged per group (any finding; ``column:error`` an error
    finding), and the episodes with an error finding: a chunk of findings at a time (a chunk holds its
    episodes' findings together, so per-chunk distinct episodes add up)."""
    from audit.profile import GROUPS, _labels
    from audit.report import charts

    tallies: dict[str, list[pd.DataFrame]] = {}
    flagged: dict[str, list[pd.Series]] = {}
    with_error = 0
    for f in result.all_findings.frames():
        if not len(f):
            continue
        errors = f[f["severity"] == "error"]
        with_error += int(errors["episode_id"].nunique())
        for column in GROUPS:
            if column in f.columns:
                tallies.setdefault(column, []).append(charts.tally(f, column))
                for key, part in ((column, f), (f"{column}:error", errors)):
                    flagged.setdefault(key, []).append(part.groupby(_labels(part[column]))["episode_id"].nunique())
    return ({c: charts.added(t) for c, t in tallies.items()},
            {k: pd.concat(v).groupby(level=0).sum() for k, v in flagged.items()}, with_error)


def headline(result, with_error: int) -> str:
    """The % of audited episodes without an error finding."""
    audited = result.episodes_audited
    return f"{100 * (audited - with_error) / audited:.1f}" if audited else "100.0"
