"""Reports of an audit's score: JSON (for pipelines), HTML (for the coding manager) and Excel.

The JSON holds exactly ``episodes_scored``, ``not_recoded``, ``areas`` (each area's ``correct``, ``errors``,
``percent``, ``ci_low``, ``ci_high``, ``attainment``) and ``rules`` (each rule's ``rule_id``, ``flagged``,
``confirmed``). Percents are rounded to two decimals; the same score gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from audit.audit_workflow.score import AREA_TITLES, AREAS, Score
from audit.errors import UserError

FORMATS = {".json": "json", ".html": "html", ".htm": "html", ".xlsx": "xlsx"}


def _round(x):
    return None if x is None else round(float(x), 2)


def as_json(s: Score) -> dict:
    rules = [] if s.precision is None else [
        {"rule_id": r.rule_id, "flagged": int(r.flagged), "confirmed": int(r.confirmed)}
        for r in s.precision.rules.itertuples()]
    return {
        "episodes_scored": len(s.episodes),
        "not_recoded": list(s.not_recoded),
        "areas": {a: {"correct": v.correct, "errors": v.errors, "percent": _round(v.percent),
                      "ci_low": _round(v.ci_low), "ci_high": _round(v.ci_high), "attainment": v.attainment}
                  for a, v in s.areas.items()},
        "rules": rules,
    }


def json_text(s: Score) -> str:
    return json.dumps(as_json(s), indent=2, ensure_ascii=False) + "\n"


def scores_frame(s: Score) -> pd.DataFrame:
    rows = []
    for a, v in s.areas.items():
        row = {"area": AREA_TITLES[a], "correct": v.correct, "errors": v.errors, "percent": _round(v.percent),
               "ci_low": _round(v.ci_low), "ci_high": _round(v.ci_high), "attainment": v.attainment}
        row.update({f"{level} at": t[a] for level, t in s.levels.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def table_text(s: Score) -> str:
    """The scores as plain text, for a terminal."""
    lines = [f"{len(s.episodes)} episodes scored" + (" (weighted by inclusion probability)" if s.weighted else "")
             + (f"; {len(s.not_recoded)} not yet re-coded" if s.not_recoded else "")]
    for a, v in s.areas.items():
        if v.percent is None:
            lines.append(f"  {AREA_TITLES[a]:<22} no codes to score")
        else:
            lines.append(f"  {AREA_TITLES[a]:<22} {v.percent:6.2f}%  (95% CI {v.ci_low:.2f}-{v.ci_high:.2f})  "
                         f"{v.correct} correct, {v.errors} errors  {v.attainment}")
    if s.precision is not None and len(s.precision.rules):
        lines.append("  rule precision: " + ", ".join(
            f"{r.rule_id} {r.confirmed}/{r.flagged}" for r in s.precision.rules.itertuples()))
    return "\n".join(lines) + "\n"


def _episode_rows(s: Score) -> pd.DataFrame:
    rows = []
    for d in s.differences:
        rows.append({"episode_id": d["episode_id"], "errors": d["errors"],
                     "original diagnoses": " ".join(c for c, _ in d["diagnoses"][0]),
                     "re-coded diagnoses": " ".join(c for c, _ in d["diagnoses"][1]),
                     "original procedures": " ".join(c for c, _ in d["procedures"][0]),
                     "re-coded procedures": " ".join(c for c, _ in d["procedures"][1])})
    return pd.DataFrame(rows, columns=["episode_id", "errors", "original diagnoses", "re-coded diagnoses",
                                       "original procedures", "re-coded procedures"])


def xlsx_bytes(s: Score) -> bytes:
    import io

    from openpyxl import Workbook

    from audit.report.xlsx import FIXED_TIME, _deterministic, _sheet

    wb = Workbook(write_only=True)
    wb.properties.creator = "coding-audit"
    wb.properties.created = FIXED_TIME
    _sheet(wb, "Scores", scores_frame(s))
    _sheet(wb, "Error types", s.error_types)
    rules = s.precision.rules if s.precision is not None else pd.DataFrame(
        columns=["rule_id", "title", "flagged", "confirmed", "precision"])
    _sheet(wb, "Rule precision", rules)
    if s.precision is not None:  # the auditor's errors on episodes no rule flagged: what the rules miss
        missed = s.episodes[s.episodes["episode_id"].isin(s.precision.unflagged_with_errors)]
        _sheet(wb, "Missed by the rules", missed[["episode_id", *(f"{a}_errors" for a in AREAS)]])
    for attr, frame in s.breakdowns.items():
        _sheet(wb, f"By {attr}", frame)
    _sheet(wb, "Errors", s.errors)
    _sheet(wb, "Episodes", _episode_rows(s))
    _sheet(wb, "Not re-coded", pd.DataFrame({"episode_id": s.not_recoded}, dtype=object))
    buffer = io.BytesIO()
    wb.save(buffer)
    return _deterministic(buffer.getvalue())


def html_text(s: Score, title: str = "Coding audit") -> str:
    import jinja2

    from audit import __version__
    from audit.report.html import _asset, _csp_hash

    env = jinja2.Environment(loader=jinja2.PackageLoader("audit.audit_workflow", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    style = _asset("report.css")
    csp = f"default-src 'none'; style-src {_csp_hash(style)}"
    return env.get_template("score.html.j2").render(
        s=s, title=title, version=__version__, style=style, csp=csp, titles=AREA_TITLES, areas=AREAS,
        scores=scores_frame(s).to_dict("records"), error_types=s.error_types.to_dict("records"),
        codes=_codes_in_error(s),
        breakdowns={k: v.to_dict("records") for k, v in s.breakdowns.items()},
        rules=[] if s.precision is None else s.precision.rules.to_dict("records"))


def _codes_in_error(s: Score, limit: int = 50) -> list[dict]:
    """The errors by area, type and codes, most frequent first (ties in code order)."""
    if s.errors is None or not len(s.errors):
        return []
    counted = s.errors.groupby(["area", "error_type", "original", "recoded"], sort=True).size()
    counted = counted.rename("errors").reset_index().sort_values("errors", ascending=False, kind="stable")
    return counted.head(limit).to_dict("records")


def write(s: Score, output: Path) -> None:
    from audit.report.output import write_bytes, write_text

    fmt = FORMATS.get(Path(output).suffix.lower())
    if fmt is None:
        raise UserError(f"{output}: score reports are .json, .html or .xlsx")
    if fmt == "json":
        write_text(json_text(s), output)
    elif fmt == "html":
        write_text(html_text(s), output)
    else:
        write_bytes(xlsx_bytes(s), output)
