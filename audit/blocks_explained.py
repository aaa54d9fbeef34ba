"""What an ``every_block`` rule's finding says about the OPCS-4 blocks: the ``{blocks}`` of a message.

A rule such as "every J12.4 block holds a Y53.-" is broken by a block, not by an episode, and the codes it is
about may be in the episode all the same, in another block: "J12.4 at position 1 has no Y53.- in its block (the
Y53.9 belongs to J03.2)" says what "found J12.4 Y53.9" would contradict. Worked out for the flagged episodes
only, cell-wise with numpy (a loop over the rule's patterns, never over episodes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.codes import Kind
from audit.episodes import EMPTY, Blocks
from audit.rules import conditions as c


def explain_blocks(chunk, tests: list[c.InBlock], cells: dict) -> pa.Array:
    """Per flagged episode (the rows of ``cells``): each selected block lacking what it must hold, and where
    the episode's codes of that kind are instead; "" for an episode whose blocks all pass."""
    m = cells[Kind.PROCEDURE]
    n = m.n_episodes
    if n == 0 or not tests:
        return pa.array([""] * n, pa.string())
    blocks = Blocks.of(m)
    shown = m.take(np.asarray(m.values.display, dtype=object), "")
    # A code's position is its place among the episode's codes, blank cells not counted: the same in every layout.
    place = np.cumsum(m.index != EMPTY, axis=1).astype(str).astype(object)
    said, notes = [], []  # (row, column, text) of each failing block; of each code found in another block
    for test in tests:
        selected = blocks.is_main.copy()
        if test.main is not None:
            selected &= chunk.cell_hit(test.main, m)
        for p in test.contains:
            selected &= blocks.contains(chunk.cell_hit(p, m))
        lacking = np.full(shown.shape, "", dtype=object)  # at a failing block's main code: what it lacks
        elsewhere = np.zeros(shown.shape, dtype=bool)  # qualifiers it lacks, in another block of the episode
        for p in test.must_contain:  # a loop over the test's patterns
            hit = chunk.cell_hit(p, m) & blocks.is_qualifier
            lacks = selected & ~blocks.contains(hit)
            lacking = np.where(lacks, np.where(lacking == "", str(p), lacking + " and no " + str(p)), lacking)
            # Block sequencing: a qualifier belongs to the nearest main code before it (owner -1: none before it).
            owner = blocks.owner
            owner_lacks = np.take_along_axis(lacks, np.maximum(owner, 0), axis=1) & (owner >= 0)
            elsewhere |= hit & lacks.any(axis=1)[:, None] & ~owner_lacks
        rows, cols = np.nonzero(lacking != "")
        said.append((rows, cols, shown[rows, cols] + " at position " + place[rows, cols]
                     + " has no " + lacking[rows, cols] + " in its block"))
        rows, cols = np.nonzero(elsewhere)
        owner = blocks.owner[rows, cols]
        at = np.maximum(owner, 0)
        # Another selected block (a second J12.4) is named with its position: its code alone would not say which.
        where = np.where(selected[rows, at], " at position " + place[rows, at], "")
        whose = np.where(owner >= 0, "belongs to " + shown[rows, at] + where, "comes before any main code")
        notes.append((rows, cols, "the " + shown[rows, cols] + " " + whose))
    text = _joined(n, said, "; ")
    note = _joined(n, notes, ", ")
    out = np.where(note == "", text, text + " (" + note + ")")
    return pa.array(np.where(text == "", "", out).tolist(), pa.string())


def _joined(n: int, parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], sep: str) -> np.ndarray:
    """Per row, its texts in position order joined by ``sep`` ("" for a row with none)."""
    out = np.full(n, "", dtype=object)
    if not parts:
        return out
    rows = np.concatenate([p[0] for p in parts])
    if not rows.size:
        return out
    cols = np.concatenate([p[1] for p in parts])
    texts = np.concatenate([np.asarray(p[2], dtype=object) for p in parts])
    order = np.lexsort((cols, rows))
    rows, texts = rows[order], texts[order]
    # A text said once a row (two Y53.9 in other blocks: one note).
    keep = ~pd.DataFrame({"row": rows, "text": texts}).duplicated().to_numpy()
    rows, texts = rows[keep], texts[keep]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    first = np.zeros(rows.size, dtype=bool)
    first[starts] = True
    texts = np.where(first, texts, sep + texts)  # a separator before each text but a row's first
    out[rows[starts]] = np.add.reduceat(texts, starts)
    return out
