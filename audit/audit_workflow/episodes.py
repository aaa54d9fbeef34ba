"""An extract's audited episodes as plain text frames, read a chunk at a time through the engine's reader."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from audit.episodes import ID, coded_mask



def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Dictionary-encoded and string columns as Python text (missing: ""), dates and numbers as they are."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s) or col == "line":
            out[col] = s.reset_index(drop=True)
        else:
            values = s.astype(object).to_numpy()
            missing = pd.isna(values)
            text = values.astype(str)
            text[missing] = ""
            out[col] = pd.Series(np.char.strip(text.astype(str)) if len(text) else text, dtype=object)
    return pd.DataFrame(out)


def audited_batches(extract, chunk_rows: int, read_options: dict) -> Iterator[pd.DataFrame]:
    """The canonical frames of the episodes ``run_audit`` audits (rows set aside and uncoded ones left out),
    chunk by chunk."""
    from audit.extract import read_extract

    options = dict(read_options)
    for batch in read_extract(extract, chunk_rows=chunk_rows, **options):
        episodes = batch.episodes
        if len(episodes):
            episodes = episodes[coded_mask(episodes)].reset_index(drop=True)
        if len(episodes):
            yield episodes


def episodes_at(extract, ordinals, chunk_rows: int, read_options: dict) -> pd.DataFrame:
    """The audited episodes at these ordinals (0-based, among the audited episodes in file order, as
    ``audited_batches`` yields them) as one plain frame, in file order."""
    wanted = np.unique(np.asarray(ordinals, dtype=np.int64))
    parts, seen = [], 0
    for episodes in audited_batches(extract, chunk_rows, read_options):
        lo, hi = np.searchsorted(wanted, [seen, seen + len(episodes)])
        if hi > lo:
            parts.append(plain(episodes.iloc[wanted[lo:hi] - seen]))
        seen += len(episodes)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[ID])


def episodes_with_ids(extract, ids, chunk_rows: int, read_options: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The episodes of ``ids`` as one plain frame (file order), and the rows set aside whose id is in ``ids``."""
    from audit.extract import read_extract

    wanted = pd.Index(pd.unique(pd.Series(list(ids), dtype=object)))
    parts, rejects = [], []
    for batch in read_extract(extract, chunk_rows=chunk_rows, **read_options):
        episodes = batch.episodes
        if len(episodes):
            keep = episodes[ID].astype(object).isin(wanted).to_numpy()
            if keep.any():
                parts.append(plain(episodes[keep]))
        if len(batch.rejected):
            hit = batch.rejected[batch.rejected["episode_id"].astype(str).isin(wanted)]
            if len(hit):
                rejects.append(hit)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[ID])
    rejected = pd.concat(rejects, ignore_index=True) if rejects else pd.DataFrame(columns=["line", ID, "reason"])
    return frame, rejected
