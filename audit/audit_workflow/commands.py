"""``audit sample`` and ``audit score``: the coding audit's two commands, with the sample workbook in between."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from audit.cli import audit_inputs, extract_options, rules_option, selection_options
from audit.extract import DEFAULT_CHUNK_ROWS
from audit.extract.database import database_source

EXIT_BELOW = 1


def _read_options(raw: dict, inputs: dict) -> dict:
    """The reader's options of ``audit run``: [tool.audit.extract] and columns, overridden by the command line."""
    from audit.extract.columns import parse_column_options, settings_columns
    from audit.extract.reader import READ_SETTINGS, settings_read_options

    options = {**settings_read_options(raw), **{k: inputs[k] for k in READ_SETTINGS if inputs.get(k) is not None}}
    options["columns"] = {**settings_columns(raw), **parse_column_options(inputs.get("column_items", ()))}
    return options


@click.command("sample")
@database_source("extract")
@click.argument("extract", type=click.Path(path_type=Path))
@click.option("--size", "-n", type=click.IntRange(min=1), default=200, show_default=True,
              help="Episodes to sample (the Data Security and Protection Toolkit's is 200).")
@click.option("--seed", type=int, default=None,
              help="Random seed: the same extract and seed give the same sample. Default: a new one, said.")
@click.option("--stratify", type=click.Choice(["specialty", "coder", "provider", "sex", "age"]), default=None,
              help="Proportional stratified sample by this attribute.")
@click.option("--weight", type=click.Choice(["findings"]), default=None,
              help="Oversample episodes with findings (each episode's inclusion probability is recorded).")
@click.option("--oversample", type=click.FloatRange(min=1), default=3.0, show_default=True,
              help="With --weight findings: how many times their share episodes with findings get.")
@click.option("--filter", "filters", multiple=True, metavar="ROLE=VALUE[,VALUE]",
              help="Sample only episodes with these attribute values (repeatable), e.g. specialty=100,101.")
@click.option("--max-days", type=click.IntRange(min=0), default=None,
              help="Only episodes of at most this many days (end date - start date); Wales: 10.")
@click.option("--min-days", type=click.IntRange(min=0), default=None, help="Only episodes of at least this many days.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The sample workbook: .xlsx (with instructions and cell validation) or .csv.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_ROWS, show_default=True,
              help="Episodes per chunk.")
@rules_option
@audit_inputs
@extract_options
@selection_options
def sample(extract, size, seed, stratify, weight, oversample, filters, max_days, min_days, output, chunk_size,
           rule_paths, reference, option_values, select, ignore, severity_overrides, **inputs):
    """Sample audited episodes of EXTRACT for re-coding into a workbook (same inputs as 'audit run').

    Rejected and uncoded episodes are never sampled. The workbook's first sheet has one
    episode a row: id, attributes, inclusion probability, the rules that flagged it, the
    original codes, and empty DIAG_nn / OPERTN_nn columns for the auditor; filled in, it
    is the RECODED input of 'audit score'.
    """
    import secrets

    from audit.audit_workflow import episodes as audited
    from audit.audit_workflow.sample import parse_filters, pool, select as select_sample
    from audit.audit_workflow.workbook import sample_frame, write
    from audit.cli import _audit, _settings, _fail_if_nothing_audited
    from audit.config import load_settings
    from audit.errors import UserError
    from audit.episodes import ID

    raw = load_settings(path=inputs["config_path"])
    settings = _settings(raw, select, ignore, severity_overrides)
    chosen_filters = parse_filters(filters, max_days, min_days)
    result = _audit(extract, rule_paths, settings, chunk_size, None, reference, option_values, raw, inputs)
    _fail_if_nothing_audited(extract, result)
    # The findings a batch at a time: only the distinct (episode, rule) pairs are kept.
    import pandas as pd

    pairs = [f[[ID, "rule_id"]].astype(str).drop_duplicates() for f in result.all_findings.frames()]
    pairs = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame(columns=[ID, "rule_id"])
    read_options = _read_options(raw, inputs)
    frame = pool(audited.audited_batches(extract, chunk_size, read_options), chosen_filters, stratify,
                 pd.Index(pd.unique(pairs[ID])) if weight == "findings" else None)
    if not len(frame):
        raise UserError(f"{getattr(extract, 'name', extract)}: no audited episode passes the filters "
                        f"({result.episodes_audited:,} audited)")
    if seed is None:
        seed = secrets.randbelow(2**31)
        click.echo(f"seed {seed} (give --seed {seed} to draw the same sample again)", err=True)
    chosen = select_sample(frame, size, seed, oversample if weight == "findings" else None)
    episodes = audited.episodes_at(extract, chosen["ordinal"], chunk_size, read_options)
    episodes["inclusion_probability"] = chosen["inclusion_probability"].to_numpy()  # both in file order
    episodes["stratum"] = chosen["stratum"].to_numpy()
    mine = pairs[pairs[ID].isin(episodes[ID])]
    flagged_by = mine.groupby(ID)["rule_id"].agg(lambda r: " ".join(sorted(r))).to_dict()
    write(sample_frame(episodes, flagged_by), output)
    click.echo(f"sampled {len(chosen)} of {len(frame):,} eligible episodes ({result.episodes_audited:,} audited) "
               f"into {output}", err=True)


def _recoded_extras(path, read_options: dict) -> tuple:
    """INCLUSION_PROBABILITY and ERROR_TYPE by episode id, when the re-coding has those columns."""
    import pandas as pd

    from audit.audit_workflow.workbook import ERROR_TYPE, PROBABILITY
    from audit.extract.columns import EPISODE_ID, Header, resolve
    from audit.extract.formats import open_source

    if not isinstance(path, Path):
        return None, None
    mapping = read_options.get("columns", {})
    source = open_source(path, encoding=read_options.get("encoding"), delimiter=read_options.get("delimiter"),
                         sheet=read_options.get("sheet"),
                         header_hint=lambda names: resolve(Header(names), EPISODE_ID, mapping).column is not None)
    header = Header(source.header)
    id_col = resolve(header, EPISODE_ID, mapping).column
    wanted = {name: header.find(name) for name in (PROBABILITY, ERROR_TYPE)}
    present = [c for c in wanted.values() if c is not None]
    if id_col is None or not present:
        return None, None
    parts = [raw.frame for raw in source.chunks([id_col, *present], [], 100_000, id_col)]
    frame = pd.concat(parts, ignore_index=True).astype(object)
    ids = frame[id_col].astype(str).str.strip()
    weights = errors = None
    if wanted[PROBABILITY] is not None:
        p = pd.to_numeric(frame[wanted[PROBABILITY]], errors="coerce")
        weights = pd.Series((1 / p).where(p > 0).to_numpy(), index=ids.to_numpy())
    if wanted[ERROR_TYPE] is not None:
        errors = pd.Series(frame[wanted[ERROR_TYPE]].fillna("").astype(str).str.strip().to_numpy(),
                           index=ids.to_numpy())
    return weights, errors


def _unneutralised(ids, known: set) -> dict:
    """A spreadsheet shows an id such as '=1' as text by a leading apostrophe (audit.report.safety): read back,
    the apostrophe is dropped when the id without it is in the original."""
    from audit.report.safety import _TRIGGERS

    return {i: i[1:] for i in ids if i not in known and i.startswith("'") and i[1:].startswith(_TRIGGERS)
            and i[1:] in known}


@click.command("score")
@database_source("original")
@click.argument("original", type=click.Path(path_type=Path))
@click.argument("recoded", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--output", "-o", "outputs", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Report file (repeatable): .json, .html or .xlsx. Without one, the scores are printed.")
@click.option("--fail-below", metavar="LEVEL", default=None,
              help="Exit 1 when an area scores under this level of attainment (e.g. met).")
@click.option("--recoded-column", "recoded_columns", multiple=True, metavar="ROLE=NAME",
              help="A column role of RECODED (the sample workbook needs none).")
@click.option("--recoded-sheet", default=None, help="The sheet of RECODED (default: the first).")
@click.option("--no-rules", is_flag=True, help="Do not run the rules (no rule-precision table).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=DEFAULT_CHUNK_ROWS, show_default=True,
              help="Episodes per chunk of ORIGINAL.")
@rules_option
@audit_inputs
@extract_options
@selection_options
def score(original, recoded, outputs, fail_below, recoded_columns, recoded_sheet, no_rules, chunk_size, rule_paths,
          reference, option_values, select, ignore, severity_overrides, **inputs):
    """Score the coding of ORIGINAL against the auditor's re-coding RECODED (e.g. the filled-in sample
    workbook), joined by episode id, in the four areas; and which rules' findings the auditor confirms.

    Any format and layout the engine reads, for either. An episode whose re-coded primary
    diagnosis is blank is listed as not yet re-coded, not scored; an id of RECODED not in
    ORIGINAL is exit 2. Levels of attainment: [tool.audit.attainment] (default: met
    90/80/90/80, exceeded 95/90/95/90). --fail-below LEVEL exits 1 when an area is under it.
    """
    from audit.audit_workflow import episodes as audited
    from audit.audit_workflow import reports
    from audit.audit_workflow.precision import rule_precision
    from audit.audit_workflow.score import attainment_levels
    from audit.audit_workflow.score import score as score_audit
    from audit.cli import _reference, _settings, load_run_rules
    from audit.config import load_settings, where
    from audit.episodes import ID
    from audit.errors import InputFileError, UserError
    from audit.extract.columns import parse_column_options
    from audit.rules.options import resolve_options
    from audit.selection import apply_settings

    raw = load_settings(path=inputs["config_path"])
    levels = attainment_levels(raw)
    if fail_below is not None and fail_below not in levels:
        raise UserError(f"--fail-below {fail_below!r}: the levels of attainment are {', '.join(levels)}")
    for out in outputs:
        if Path(out).suffix.lower() not in reports.FORMATS:
            raise UserError(f"{out}: score reports are .json, .html or .xlsx")
    recoded_options = {"columns": parse_column_options(recoded_columns), "sheet": recoded_sheet}
    weights, error_types = _recoded_extras(recoded, recoded_options)
    rec_frames, rec_rejects = [], []
    from audit.extract import read_extract

    for batch in read_extract(recoded, chunk_rows=chunk_size, **recoded_options):
        if len(batch.episodes):
            rec_frames.append(audited.plain(batch.episodes))
        if len(batch.rejected):
            rec_rejects.append(batch.rejected)
    if rec_rejects:
        first = rec_rejects[0].iloc[0]
        raise InputFileError(recoded, f"line {first['line']}: {first['reason']}")
    import pandas as pd

    rec = pd.concat(rec_frames, ignore_index=True)
    orig, orig_rejects = audited.episodes_with_ids(original, set(rec[ID]) | {i[1:] for i in rec[ID] if i.startswith("'")},
                                                   chunk_size, _read_options(raw, inputs))
    if len(orig_rejects):
        first = orig_rejects.iloc[0]
        raise InputFileError(original, f"line {first['line']}: episode {first['episode_id']} of the re-coding "
                                       f"was set aside: {first['reason']}")
    renamed = _unneutralised(rec[ID], set(orig[ID]))
    if renamed:
        rec[ID] = rec[ID].replace(renamed)
        for series in (weights, error_types):
            if series is not None:
                series.index = [renamed.get(i, i) for i in series.index]
    result = score_audit(orig, rec, weights, error_types, levels)
    if not no_rules and len(result.episodes):
        settings = _settings(raw, select, ignore, severity_overrides)
        loaded = load_run_rules(rule_paths, raw)
        options = resolve_options(loaded, raw.get("options"), option_values, options_where=where(raw, "options"))
        result.precision = rule_precision(orig, rec, result.episodes, apply_settings(loaded, settings),
                                          _reference(reference, raw), options)
    if not outputs:
        click.echo(reports.table_text(result), nl=False)
    for out in outputs:
        reports.write(result, out)
        click.echo(f"wrote the score report to {out}", err=True)
    if fail_below is not None:
        if not len(result.episodes):  # a gate that passed with nothing audited would hide it
            click.echo(f"no episode scored ({len(result.not_recoded)} not yet re-coded): nothing is at "
                       f"'{fail_below}'", err=True)
            sys.exit(EXIT_BELOW)
        below = result.below(fail_below)
        if below:
            click.echo(f"below '{fail_below}': {', '.join(below)}", err=True)
            sys.exit(EXIT_BELOW)
