"""The least an engine of this design does: a lower bound on ``audit run``'s time, measured, not guessed.

The engine reads with pyarrow and then works on the decoded arrays in compiled passes. This skeleton
keeps only the part of that work no rule set can avoid, done the cheapest way found:

- pyarrow reads ``EPIKEY`` and the 44 code columns of a Parquet file as the floor does (row groups, the codes
  as dictionaries), in a thread of its own, two batches ahead;
- each batch's ids go through the engine's duplicate-id table (``audit.kernels.HashIndex``);
- each code column's dictionary is looked up in the run's vocabulary and given the pattern bits of the
  shipped rules (the engine's ``CompiledRules``), and one compiled pass per column ORs each cell's bits into
  its episode's (skipping eight missing cells at a time) and notes each episode's last procedure position.

Everything else the engine does is left out: the row checks, the episode frame, the rules' logic past the
pattern bits (sequence walks, blocks, dates), the findings and their report. So its time over the floor's
is a lower bound on the engine's, on the same machine, for any engine that decodes with pyarrow first.

Parquet only: CSV is parsed by the engine's own reader (two threads on blocks of lines, codes interned),
which the floor's pyarrow stream does not stand for; a CSV skeleton would be slower than the engine.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from benchmarks import hes

BATCH_ROWS = 131_072  # a Parquet row group of the generated extracts


def _or_column(acc, lengths, table, is_code, indices, validity, offset, position, track):
    # acc[i] |= table[indices[i]] for each present cell; lengths[i] = position + 1 where it holds a code
    # (``is_code``: not blank, not a placeholder) when tracking. When the validity bits start on a byte,
    # eight cells a validity byte: a byte of missing cells (the long tail of code positions) is skipped.
    n = indices.shape[0]
    done = 0
    if validity.shape[0] and offset % 8 == 0:
        done = (n >> 3) << 3
        for b in range(n >> 3):
            byte = validity[(offset >> 3) + b]
            if byte == 0:
                continue
            first = b << 3
            for k in range(8):
                if (byte >> k) & 1:
                    acc[first + k] |= table[indices[first + k]]
                    if track and is_code[indices[first + k]]:
                        lengths[first + k] = position + 1
    for i in range(done, n):  # the rest, a cell at a time
        j = i + offset
        if validity.shape[0] == 0 or (validity[j >> 3] >> (j & 7)) & 1:
            acc[i] |= table[indices[i]]
            if track and is_code[indices[i]]:
                lengths[i] = position + 1


def _batches(path: str):
    """The floor's batches: EPIKEY and the code columns, the codes dictionary-encoded."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path, read_dictionary=hes.CODE_COLUMNS, pre_buffer=False)
    yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=[hes.ID_COLUMN, *hes.CODE_COLUMNS])


def compiled_rules():
    """The shipped rules compiled as the engine compiles them, numba loaded; one 64-bit word of pattern bits an
    episode a classification is what is measured."""
    from audit.codes import Kind
    from audit.engine import compile_rules
    from audit.kernels import load
    from audit.rules import load_rules

    load()
    rules = compile_rules(load_rules())
    if any(rules.words(kind) > 1 for kind in Kind):
        raise ValueError("the skeleton measures rule sets of at most 63 patterns a classification")
    return rules


def skeleton(path: str) -> dict:
    """Run the skeleton over a Parquet extract: rows read, episodes with some pattern bit, the sum of their bit
    words (a checksum), repeated ids, and the cells up to each episode's last procedure."""
    import pyarrow.parquet as pq

    from audit.codes import Kind, Status
    from audit.extract.readahead import read_ahead
    from audit.kernels import HashIndex, arrow_validity, arrow_values, compiled, text_hashes

    if hes.detect_format(path) != "parquet":
        raise ValueError(f"{path}: the skeleton reads Parquet only")
    rules = compiled_rules()
    or_column = compiled(_or_column)
    kinds = ((Kind.DIAGNOSIS, hes.DIAG_COLUMNS), (Kind.PROCEDURE, hes.OPERTN_COLUMNS))
    seen = HashIndex.holding(pq.ParquetFile(path).metadata.num_rows)
    rows = hits = repeated = procedures = 0
    bits_sum = np.uint64(0)
    for batch in read_ahead(_batches(path), depth=2):  # the engine's reading thread, two batches ahead
        n = batch.num_rows
        hashes, _ = text_hashes(batch.column(hes.ID_COLUMN).cast(pa.string()))
        repeated += int(np.count_nonzero(seen.first_lines(hashes, np.arange(rows + 1, rows + n + 1))))
        any_bit = np.zeros(n, dtype=bool)
        for kind, columns in kinds:
            vocabulary = rules.vocabulary[kind]
            arrays = [batch.column(c) for c in columns]
            found = vocabulary.rows(pa.concat_arrays([a.dictionary for a in arrays]))
            bits = rules.value_bits[kind].get()[:, 0]
            empty = np.append(vocabulary.values.status, Status.EMPTY)[found] == Status.EMPTY
            value_bits = np.where(empty, np.uint64(0), bits[found])
            is_code = (~empty).view(np.uint8)
            acc, lengths = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int32)
            start = 0
            for position, arr in enumerate(arrays):
                stop = start + len(arr.dictionary)
                table, codes = value_bits[start:stop], is_code[start:stop]
                start = stop
                indices = arr.indices
                or_column(acc, lengths, table, codes, arrow_values(indices), arrow_validity(indices), indices.offset,
                          position, kind is Kind.PROCEDURE)
            any_bit |= acc != 0
            bits_sum += acc.sum(dtype=np.uint64)  # a checksum of the bits, wrapping
            if kind is Kind.PROCEDURE:
                procedures += int(lengths.sum())  # cells up to each episode's last procedure
        hits += int(np.count_nonzero(any_bit))
        rows += n
    return {"rows": rows, "episodes_with_bits": hits, "bits_sum": int(bits_sum), "repeated_ids": repeated,
            "procedures": int(procedures)}
