"""Where codes stand relative to each other in an episode's list, in one pass over the positions.

The cells of each code position are given as one array of flags over the same
episodes (``TARGET``, ``NONEMPTY``, ``MAIN``). A relation is worked out by walking
the positions once, left to right or right to left, carrying one state value per
episode: no episodes x positions matrix and no loop over episodes. Blank cells do
not count as codes: "directly followed by" means the next code in the list,
whatever blanks stand between.

Within an OPCS-4 block (``within_block``): a block is a main code and the Y/Z
codes after it up to the next main code ("PYZ" sequencing, ``audit.episodes.Blocks``);
a cell before any main code is in no block.
"""

from __future__ import annotations

import numpy as np

TARGET = np.uint8(1)  # the cell holds a code the relation looks for
NONEMPTY = np.uint8(2)  # the cell holds a code (well-formed or not)
MAIN = np.uint8(4)  # an OPCS-4 main code (a valid code that is not Y or Z): it starts a block


def relation_columns(cells: list[np.ndarray], relation: str, within_block: bool = False) -> list[np.ndarray]:
    """bool per position, over the episodes: does a ``TARGET`` cell stand in ``relation`` to that cell?

    ``directly_followed_by``: the next code is a target; ``directly_preceded_by``: the previous code
    is; ``followed_by`` / ``preceded_by``: some later / earlier code is. With ``within_block`` the
    target must also be in the cell's own OPCS-4 block. ``cells`` are uint8 flag arrays in position
    order; positions holding no code anywhere may be left out (they change nothing).
    """
    if not cells:
        return []
    n = len(cells[0])
    out: list[np.ndarray] = [np.empty(0, dtype=bool)] * len(cells)
    state = np.zeros(n, dtype=bool)
    if relation in ("preceded_by", "directly_preceded_by"):
        in_block = np.zeros(n, dtype=bool)  # a main code stands at or before this position
        for j, cell in enumerate(cells):
            target, main = (cell & TARGET) != 0, (cell & MAIN) != 0
            if relation == "preceded_by":
                if within_block:
                    state &= ~main  # a main code starts a new block: targets before it no longer count
                    in_block |= main
                    out[j] = state & in_block
                else:
                    out[j] = state.copy()
                state |= target
            else:
                # The previous code is in the cell's block unless the cell itself starts a block.
                out[j] = state & in_block & ~main if within_block else state.copy()
                in_block |= main
                state = np.where((cell & NONEMPTY) != 0, target, state)
        return out
    if relation not in ("followed_by", "directly_followed_by"):
        raise ValueError(f"unknown relation {relation!r}")  # internal: the loader only builds the four
    in_block = np.logical_or.accumulate([(cell & MAIN) != 0 for cell in cells]) if within_block else None
    for j in range(len(cells) - 1, -1, -1):  # right to left: the state is what comes after the cell
        cell = cells[j]
        target, main = (cell & TARGET) != 0, (cell & MAIN) != 0
        out[j] = state & in_block[j] if within_block else state.copy()
        if relation == "followed_by":
            state |= target
            if within_block:
                state &= ~main  # what follows a main code is in its block, not in the block before it
        else:
            # A main code after the cell starts the next block: it is not "next in the block".
            state = np.where((cell & NONEMPTY) != 0, target & ~main if within_block else target, state)
    return out
