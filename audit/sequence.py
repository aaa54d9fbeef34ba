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

For a large chunk (once numba is loaded, ``audit.kernels``) the engine walks each
episode instead, up to its last code, in compiled code: ``code_test_walk`` and
``block_walk`` give the same answers as the column-wise path above and
``audit.episodes.Blocks`` (``tests/test_engine.py`` compares them rule by rule).
"""

from __future__ import annotations

import numpy as np

from audit.kernels import compiled

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


# -- the same walks episode by episode, in compiled code (large chunks) --------------------------
ANCHOR = np.uint8(8)  # a code test's cell: the code the test is about ...
PASSES = np.uint8(16)  # ... and it passes the test's character checks
_RELATIONS = {None: 0, "preceded_by": 1, "directly_preceded_by": 2, "followed_by": 3,
              "directly_followed_by": 4}
# Block-walk flags (uint64 per value): a main code, a qualifier (valid Y/Z), a main code the block test
# selects; then one bit per 'contains' pattern and one per 'must_contain' pattern.
BLOCK_MAIN, BLOCK_QUALIFIER, BLOCK_SELECTS = np.uint64(1), np.uint64(2), np.uint64(4)
BLOCK_PATTERN_BITS = 3  # the first pattern bit


def code_test_walk(index: np.ndarray, lengths: np.ndarray, rows: np.ndarray, flags: np.ndarray,
                   allowed: np.ndarray, relation: str | None, within_block: bool,
                   every: bool) -> tuple[np.ndarray, np.ndarray]:
    """A code test over the episodes ``rows``, one episode at a time: (decided, some anchor) per row.

    ``index`` is int32 (positions, episodes) of value rows (-1: no code) and ``lengths`` the positions
    up to each episode's last code (``CodeMatrix.by_position``); ``flags`` uint8 per value (``ANCHOR``,
    ``PASSES`` and the relation's flags above), ``allowed`` bool per position. An anchor is decided when
    it fails (``every``) or passes (some); it passes when it is at an allowed position, passes its
    checks and, with a relation, stands in it to a target (``relation_columns``)."""
    decided, some_anchor = np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    compiled(_walk_code_test)(index, lengths, rows, flags, allowed, _RELATIONS[relation], within_block,
                               every, decided, some_anchor)
    return decided, some_anchor


def _walk_code_test(index, lengths, rows, flags, allowed, relation, within_block, every, decided,
                    some_anchor):
    k = index.shape[0]
    cell = np.zeros(k, dtype=np.uint8)
    related = np.zeros(k, dtype=np.bool_)
    for r in range(rows.shape[0]):
        row = rows[r]
        m = lengths[row]
        for j in range(m):
            v = index[j, row]
            cell[j] = flags[v] if v >= 0 else 0
        # The relation of each cell, as relation_columns works it out (blank cells are not codes).
        state, in_block = False, False
        if relation == 1 or relation == 2:  # preceded_by / directly_preceded_by: left to right
            for j in range(m):
                c = cell[j]
                main, target, nonempty = (c & MAIN) != 0, (c & TARGET) != 0, (c & NONEMPTY) != 0
                if relation == 1:
                    if within_block and main:
                        state, in_block = False, True  # a main code starts a new block
                    related[j] = state and (in_block or not within_block)
                    state = state or target
                else:
                    related[j] = state and ((in_block and not main) or not within_block)
                    in_block = in_block or main
                    if nonempty:
                        state = target
        elif relation == 3 or relation == 4:  # followed_by / directly_followed_by: right to left
            first_main = 0
            if within_block:
                first_main = m
                for j in range(m):
                    if cell[j] & MAIN:
                        first_main = j
                        break
            for j in range(m - 1, -1, -1):
                c = cell[j]
                main, target, nonempty = (c & MAIN) != 0, (c & TARGET) != 0, (c & NONEMPTY) != 0
                related[j] = state and j >= first_main
                if relation == 3:
                    state = (state or target) and not (within_block and main)
                elif nonempty:
                    state = target and not (within_block and main)
        anchored, out = False, False
        for j in range(m):
            c = cell[j]
            if c & ANCHOR:
                anchored = True
                ok = allowed[j] and (c & PASSES) != 0 and (relation == 0 or related[j])
                out = out or (not ok if every else ok)
        decided[r], some_anchor[r] = out, anchored


def block_walk(index: np.ndarray, lengths: np.ndarray, rows: np.ndarray, flags: np.ndarray, contains: int,
               must: int, every: bool) -> np.ndarray:
    """An OPCS-4 block test over the episodes ``rows``, one episode at a time (``audit.episodes.Blocks``).

    ``flags`` uint64 per value: ``BLOCK_MAIN``, ``BLOCK_QUALIFIER``, ``BLOCK_SELECTS`` and the pattern
    bits; ``contains`` / ``must`` are the masks of the bits a selected block needs / must hold. A block
    is a main code and the qualifiers after it up to the next main code; qualifiers before the first
    main code are in no block. Some: a selected block exists; every: each selected block holds ``must``."""
    out = np.zeros(len(rows), dtype=bool)
    compiled(_walk_blocks)(index, lengths, rows, flags, np.uint64(contains), np.uint64(must), every, out)
    return out


def _walk_blocks(index, lengths, rows, flags, contains, must, every, out):
    for r in range(rows.shape[0]):
        row = rows[r]
        result = every
        selects, held, open_block = False, np.uint64(0), False
        for j in range(lengths[row] + 1):  # one step past the last code closes the last block
            f = np.uint64(0)
            if j < lengths[row]:
                v = index[j, row]
                if v >= 0:
                    f = flags[v]
            ends = j == lengths[row] or (f & BLOCK_MAIN) != 0
            if ends and open_block and selects and (held & contains) == contains:
                if every and (held & must) != must:
                    result = False
                if not every:
                    result = True
            if ends and j < lengths[row]:
                open_block, selects, held = True, (f & BLOCK_SELECTS) != 0, np.uint64(0)
            elif open_block and (f & BLOCK_QUALIFIER) != 0:
                held |= f
        out[r] = result
