"""Where codes stand relative to each other in an episode's list, as whole-matrix operations.

Every function takes boolean matrices of episodes x positions (one row per
episode, one column per code position) and answers for every cell at once,
with numpy shifts, running minima/maxima and cumulative sums: no loop over
episodes. Blank cells do not count as codes: "directly followed by" means the
next code in the list, whatever blanks stand between.

Within an OPCS-4 block (``within_block``): a block is a main code and the Y/Z
codes after it up to the next main code (``audit.episodes.Blocks``); a cell
before any main code is in no block.
"""

from __future__ import annotations

import numpy as np

from audit.episodes import Blocks

def next_index(mask: np.ndarray) -> np.ndarray:
    """int (n, k): the first column after each cell where ``mask`` holds; k when there is none."""
    n, k = mask.shape
    positions = np.where(mask, np.arange(k), k)
    # Running minimum from the right gives the first hit at or after j; shift by one for "after".
    at_or_after = np.minimum.accumulate(positions[:, ::-1], axis=1)[:, ::-1] if k else positions
    return np.concatenate([at_or_after[:, 1:], np.full((n, min(k, 1)), k)], axis=1)


def previous_index(mask: np.ndarray) -> np.ndarray:
    """int (n, k): the last column before each cell where ``mask`` holds; -1 when there is none."""
    n, k = mask.shape
    positions = np.where(mask, np.arange(k), -1)
    at_or_before = np.maximum.accumulate(positions, axis=1) if k else positions
    return np.concatenate([np.full((n, min(k, 1)), -1), at_or_before[:, :-1]], axis=1)


def relation_matrix(target: np.ndarray, nonempty: np.ndarray, relation: str,
                    blocks: Blocks | None = None) -> np.ndarray:
    """bool (n, k): does a ``target`` cell stand in ``relation`` to each cell?

    ``directly_followed_by``: the next code is a target; ``directly_preceded_by``: the previous code
    is; ``followed_by`` / ``preceded_by``: some later / earlier code is. With ``blocks`` the target
    must also be in the cell's own OPCS-4 block.
    """
    n, k = target.shape
    if k == 0:
        return np.zeros((n, 0), dtype=bool)
    # One False column appended: index k (no next code) and -1 (no previous code) both land on it.
    padded = np.concatenate([target, np.zeros((n, 1), dtype=bool)], axis=1)
    if blocks is not None:
        in_block = blocks.owner >= 0
        block_end = next_index(blocks.is_main)  # exclusive end of the cell's block
    if relation == "directly_followed_by":
        nxt = next_index(nonempty)
        out = np.take_along_axis(padded, nxt, axis=1)
        if blocks is not None:
            out &= in_block & (nxt < block_end)
        return out
    if relation == "directly_preceded_by":
        prv = previous_index(nonempty)
        out = np.take_along_axis(padded, prv, axis=1)
        if blocks is not None:
            out &= in_block & (prv >= blocks.owner)
        return out
    counts = np.cumsum(target, axis=1, dtype=np.int32)  # targets at or before each column
    before = counts - target  # targets strictly before each column
    if relation == "followed_by":
        if blocks is None:
            return counts[:, -1:] - counts > 0
        upto = np.take_along_axis(counts, block_end - 1, axis=1)  # targets up to the block's last cell
        return in_block & (upto - counts > 0)
    if relation == "preceded_by":
        if blocks is None:
            return before > 0
        start = np.take_along_axis(before, np.maximum(blocks.owner, 0), axis=1)  # targets before the block
        return in_block & (before - start > 0)
    raise ValueError(f"unknown relation {relation!r}")  # internal: the loader only builds the above
