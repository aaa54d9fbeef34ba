"""Compiled loops over cells and ids (numba), for the steps numpy cannot do in one pass.

Each is a plain loop over an array, compiled by numba on first use (cached beside
this file, so once per machine) and run without the GIL, so the reading thread and
the evaluating thread use both cores. ``tests/test_kernels.py`` checks each against
a plain numpy or Python reading of what it computes.

numba costs a process about half a second the first time a compiled loop runs
(its import and LLVM), which pays back from about two million episodes. So the cell
loops take numpy until numba is loaded (in the background as soon as a file is
known to be large, ``load_in_background``; or by the duplicate-id index of a large
extract, ``audit.extract.validate.SeenIds``) or until a run has given them
``CELLS_BEFORE_COMPILING`` cells of arrays of at least ``COMPILED_FROM`` cells. Once
it is loaded, arrays down to a 32nd of that (4096 cells) take it: a call costs a few
microseconds, numpy's passes over a Parquet row group's 100,000 cells much more. A
trust's month or a 1M extract never loads numba; a national extract pays it once
and gains several seconds (benchmarks/RESULTS.md). Light loops (``bit_set``, the
walks of ``audit.sequence``) run compiled only once it is loaded, and do not count
towards loading it.
"""

from __future__ import annotations

import atexit
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MISSING = -1  # a dictionary index for a missing cell (pandas' categorical code for NaN)
COMPILED_FROM = 1 << 17  # cells: smaller arrays take the numpy path (see the module's docstring)
CELLS_BEFORE_COMPILING = 100_000_000  # about two million episodes of 44 code columns
_JITTED: dict = {}
_JIT_LOCK = threading.Lock()
_numpy_cells = 0  # cells the cell loops have taken through numpy in this process
_loading: threading.Thread | None = None  # see load_in_background


def compile_now(cells: int) -> bool:
    """Whether work over ``cells`` cells takes the compiled loop (see the module's docstring)."""
    global _numpy_cells
    if _JITTED:
        return compiled_loaded(cells)
    if cells < COMPILED_FROM:
        return False
    _numpy_cells += cells  # a race between threads only moves the switch by a chunk
    return _numpy_cells >= CELLS_BEFORE_COMPILING


def compiled_loaded(cells: int) -> bool:
    """Whether work over ``cells`` cells takes a compiled loop that does not count towards loading numba:
    only once it is loaded (light work, or work numpy does as well in a small run)."""
    return bool(_JITTED) and cells >= COMPILED_FROM >> 5


def compiling_pays(cells: int) -> bool:
    """Whether a whole run's work of ``cells`` cells takes compiled code: numba is loaded, or it pays back."""
    return bool(_JITTED) or cells >= CELLS_BEFORE_COMPILING


def load() -> None:
    """Import numba and load a compiled loop now (compiling it the first time on a machine)."""
    compiled(_or_word)(np.zeros(1, np.uint64), np.zeros(1, np.uint64), np.zeros(1, np.int8))


def load_in_background() -> None:
    """``load`` in a background thread, for a run that will use compiled loops: the half second it
    takes then overlaps the reader's first pass over the file."""
    global _loading
    if _JITTED or _loading is not None:
        return

    def load_quietly() -> None:
        try:
            load()
        except Exception:  # noqa: BLE001, S110 - the run's first call raises it again, where it is reported
            pass

    _loading = threading.Thread(target=load_quietly, name="audit-numba", daemon=True)
    _loading.start()
    # A run that ends early (exit 2) must not finalise the interpreter while LLVM loads in this thread: an
    # abort (SIGABRT) at exit, as for any thread left inside C++ code (audit.extract.readahead).
    atexit.register(_loading.join)


def compiled(loop):
    """``loop`` compiled by numba, which is imported on the first call (here, or for ``audit.sequence``'s
    walks)."""
    jitted = _JITTED.get(loop)
    if jitted is None:
        with _JIT_LOCK:
            if (jitted := _JITTED.get(loop)) is None:
                from numba import njit

                jitted = _JITTED[loop] = njit(nogil=True, cache=True)(loop)
    return jitted


# -- Arrow's buffers as numpy, without copies ------------------------------------
def arrow_values(arr: pa.Array) -> np.ndarray:
    """A fixed-width (integer) array's values from its offset; what is under a missing cell is undefined."""
    dtype = np.dtype(arr.type.to_pandas_dtype())
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr) + arr.offset)[arr.offset:]


def arrow_validity(arr: pa.Array) -> np.ndarray:
    """The validity bitmap's bytes (bit ``arr.offset + i`` for cell i); empty when no cell is missing."""
    validity = arr.buffers()[0]
    if validity is None or not arr.null_count:
        return np.zeros(0, dtype=np.uint8)
    return np.frombuffer(validity, dtype=np.uint8)


def arrow_text(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string or large_string array's UTF-8 bytes and its n + 1 offsets into them (from its offset)."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width, count=len(arr) + arr.offset + 1)[arr.offset:]
    return np.frombuffer(arr.buffers()[2] or b"", dtype=np.uint8), offsets


def starts_printable(data: np.ndarray, offsets: np.ndarray) -> bool:
    """Whether every value of text (``arrow_text``'s bytes and offsets) is non-empty and starts with a
    printable ASCII character other than the space: then no value is blank, even once stripped."""
    starts = offsets[:-1]
    if not (offsets[1:] > starts).all():
        return False
    first = data[starts]
    return bool(((first > 32) & (first < 127)).all())


def _bits(validity: np.ndarray, offset: int, n: int) -> np.ndarray:
    """bool (n,): Arrow's validity bitmap from bit ``offset``, least significant bit first."""
    return np.unpackbits(validity, count=offset + n, bitorder="little")[offset:].view(bool)


def _place_cells(values, validity, offset: int, first: int, blank: int, out: np.ndarray) -> None:
    """out[i] = first + values[i], or ``blank`` where the cell is missing (validity bit 0)."""
    if compile_now(len(values)):
        compiled(_place)(values, validity, offset, first, blank, out)
    elif not len(validity):
        np.add(values, first, out=out, casting="unsafe")
    else:
        out[:] = np.where(_bits(validity, offset, len(values)), values.astype(np.int64) + first, blank)


# -- dictionary-encoded columns ------------------------------------------------
def dictionary_indices(indices: pa.Array) -> np.ndarray:
    """An Arrow array of dictionary indices as numpy, -1 where the cell is missing; no copy without nulls."""
    values, validity = arrow_values(indices), arrow_validity(indices)
    if not len(validity):
        return values
    out = np.empty(len(indices), dtype=values.dtype)
    _place_cells(values, validity, indices.offset, 0, _MISSING, out)
    return out


_JOINED_PIECES = 3  # more pieces than this (a CSV chunk's 1 MB blocks) share one unified dictionary


def joined_dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    """A dictionary-encoded column of several pieces as one array, missing cells given a blank value.

    A few pieces (a Parquet chunk's row groups) keep their dictionaries as they are, end to end
    (a value may then appear more than once): one pass over the indices, where concatenating
    would unify the dictionaries (hash every value, rewrite every index) and then fill the
    nulls. Many small pieces (CSV blocks) are unified first, as their dictionaries repeat each
    other. The blank value is last. Code columns have few distinct values, so the indices are
    16-bit when they fit."""
    pieces = [p for p in column.chunks if len(p)] or [pa.array([], column.type)]
    shared = len(pieces) > _JOINED_PIECES
    if shared:
        pieces = pa.chunked_array(pieces).unify_dictionaries().chunks
    own = pieces[:1] if shared else pieces
    dictionaries = [p.dictionary.cast(pa.string()) for p in own] + [pa.array([""], pa.string())]
    size = sum(len(d) for d in dictionaries)
    width = np.int16 if size <= np.iinfo(np.int16).max else np.int32
    out = np.empty(sum(len(p) for p in pieces), dtype=width)
    blank, start, first = size - 1, 0, 0
    for piece in pieces:
        indices = piece.indices
        values = arrow_values(indices)
        stop = start + len(values)
        _place_cells(values, arrow_validity(indices), indices.offset, first, blank, out[start:stop])
        start = stop
        first += 0 if shared else len(piece.dictionary)
    # Unchecked: every index was written above, within the joined dictionary.
    return pa.DictionaryArray.from_arrays(pa.array(out), pa.concat_arrays(dictionaries), safe=False)


def _place(values, validity, offset, first, blank, out):
    # out[i] = first + values[i], or ``blank`` where Arrow's validity bit (offset + i) is 0. Without
    # a branch a cell: most code cells are missing, in no predictable pattern (a mispredicted branch a
    # cell cost 2 ns a cell; this is 0.5). Eight cells a validity byte when the bits start on a byte:
    # a byte all present or all missing (runs of blank positions) skips the bit tests (0.35 ns a cell).
    n = values.shape[0]
    if validity.shape[0] == 0:
        for i in range(n):
            out[i] = first + values[i]
        return
    done = 0
    if offset % 8 == 0:
        base = offset >> 3
        done = (n >> 3) << 3
        for b in range(n >> 3):
            byte = validity[base + b]
            i = b << 3
            if byte == 0xFF:
                for k in range(8):
                    out[i + k] = first + values[i + k]
            elif byte == 0:
                for k in range(8):
                    out[i + k] = blank
            else:
                for k in range(8):
                    out[i + k] = blank + ((byte >> k) & 1) * (first + values[i + k] - blank)
    for i in range(done, n):
        j = i + offset
        present = (validity[j >> 3] >> (j & 7)) & 1
        out[i] = blank + present * (first + values[i] - blank)


def or_cell_bits(acc: np.ndarray, table: np.ndarray, codes: np.ndarray) -> None:
    """``acc[w, i] |= table[codes[i], w]`` for every episode i and word w; code -1 takes the last row.

    ``acc`` is uint64 (words, episodes); ``table`` uint64 (dictionary + 1, words)."""
    for w in range(table.shape[1]):  # one word (64 patterns) is the usual case
        column = np.ascontiguousarray(table[:, w])
        if not column.any():
            continue
        if compile_now(len(codes)):
            compiled(_or_word)(acc[w], column, codes)
        else:  # -1 (missing) takes the last row, as numpy's negative indices do
            acc[w] |= column[codes]


def _or_word(acc, table, codes):
    last = table.shape[0] - 1
    for i in range(codes.shape[0]):
        c = codes[i]
        acc[i] |= table[c if c >= 0 else last]


def line_feeds(data: np.ndarray) -> int:
    """How many bytes of ``data`` (uint8) are line feeds: once numba is loaded, one compiled pass without
    numpy's 16 MB temporary of comparisons."""
    if compiled_loaded(len(data)):
        return int(compiled(_line_feeds)(data))
    return int(np.count_nonzero(data == 10))


def _line_feeds(data):
    count = 0
    for i in range(data.shape[0]):
        count += data[i] == 10
    return count


def bit_set(words: np.ndarray, bit: int) -> np.ndarray:
    """bool (n,): whether ``bit`` (0-63) is set in each of the uint64 ``words``."""
    if compiled_loaded(len(words)):
        out = np.empty(len(words), dtype=bool)
        compiled(_bit_set)(words, np.uint64(bit), out)
        return out
    return (words & (np.uint64(1) << np.uint64(bit))) != 0


def _bit_set(words, bit, out):
    for i in range(words.shape[0]):
        out[i] = (words[i] >> bit) & np.uint64(1)


def place_rows(remap: np.ndarray, codes: np.ndarray, out: np.ndarray, lengths: np.ndarray,
               position: int) -> None:
    """``out[i] = remap[codes[i]]`` (code -1: the last entry), and ``lengths[i] = position + 1`` where that
    is a code (not -1): one position of an episodes' code matrix, compiled (large chunks only)."""
    compiled(_place_rows)(remap, codes, out, lengths, position)


def _place_rows(remap, codes, out, lengths, position):
    last = remap.shape[0] - 1
    for i in range(codes.shape[0]):
        c = codes[i]
        row = remap[c if c >= 0 else last]
        out[i] = row
        if row >= 0:
            lengths[i] = position + 1


# -- episode ids ---------------------------------------------------------------
def text_hashes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of Arrow text values and their lengths in bytes (a missing value is "", length 0)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        arr = values
    else:
        arr = values.cast(pa.large_string())
    data, offsets = arrow_text(arr)
    hashes, lengths = np.empty(len(arr), dtype=np.uint64), np.empty(len(arr), dtype=np.int64)
    compiled(_hash_texts)(data, offsets, arrow_validity(arr), arr.offset, hashes, lengths)
    return hashes, lengths


def _hash_texts(data, offsets, validity, offset, hashes, lengths):
    # Eight bytes at a time into a 64-bit word, each word multiplied in; MurmurHash3's finaliser last.
    for i in range(offsets.shape[0] - 1):
        start, stop = offsets[i], offsets[i + 1]
        j = i + offset
        if validity.shape[0] and not (validity[j >> 3] >> (j & 7)) & 1:
            stop = start
        h = np.uint64(stop - start) * np.uint64(0x9E3779B97F4A7C15)
        word, shift = np.uint64(0), np.uint64(0)
        for k in range(start, stop):
            word |= np.uint64(data[k]) << shift
            shift += np.uint64(8)
            if shift == np.uint64(64):
                h = (h ^ word) * np.uint64(0xFF51AFD7ED558CCD)
                h ^= h >> np.uint64(32)
                word, shift = np.uint64(0), np.uint64(0)
        if shift:
            h = (h ^ word) * np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(32)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
        hashes[i] = h
        lengths[i] = stop - start


class HashIndex:
    """A set of 64-bit hashes, each with the first line it was seen at (open addressing, linear probing).

    A hash's slot is its top bits. 12 bytes a slot, at most 70% of the slots used: 10 million ids
    take 200 MB, and each id costs about one cache miss (40 ns at 10M; inserting in slot order was
    measured no faster, benchmarks/RESULTS.md)."""

    MAX_LOAD = 0.7

    def __init__(self, slots: int = 1 << 16):
        self.keys = np.zeros(slots, dtype=np.uint64)  # 0: an empty slot (a hash of 0 is stored as 1)
        self.lines = np.zeros(slots, dtype=np.uint32)
        self.used = 0

    @classmethod
    def holding(cls, hashes: int) -> HashIndex:
        """An empty index with room for ``hashes`` (at least 65,536 slots) made at once."""
        return cls(max(1 << 16, cls.slots_for(hashes)))

    @classmethod
    def slots_for(cls, hashes: int) -> int:
        """The slots (a power of two) that hold ``hashes`` without growing."""
        slots = 16
        while hashes > cls.MAX_LOAD * slots:
            slots *= 2
        return slots

    def first_lines(self, hashes: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """For each hash, the line it was first seen at, in this call or before (0: first sight here).

        ``lines`` rise within a call; each hash not seen before is remembered with its line."""
        if len(lines) and int(lines.max()) >= 1 << 32:  # internal: four billion lines is no extract
            raise OverflowError("line numbers past 2**32 are not supported")
        slots = max(len(self.keys), self.slots_for(self.used + len(hashes)))
        if slots != len(self.keys):
            keys, old_lines = self.keys, self.lines
            self.keys, self.lines = np.zeros(slots, dtype=np.uint64), np.zeros(slots, dtype=np.uint32)
            present = keys != 0
            compiled(_insert)(keys[present], old_lines[present], self.keys, self.lines,
                               np.empty(self.used, np.uint32), _shift(slots))
        out = np.empty(len(hashes), dtype=np.uint32)
        self.used += compiled(_insert)(hashes, lines.astype(np.uint32), self.keys, self.lines, out,
                                        _shift(len(self.keys)))
        return out.astype(np.int64)


def _insert(hashes, lines, keys, key_lines, out, shift):
    # In call order, so an id twice in one call gets the line it was first seen at.
    size = np.uint64(keys.shape[0])
    added = 0
    for i in range(hashes.shape[0]):
        h = hashes[i]
        if h == 0:
            h = np.uint64(1)
        slot = h >> shift
        while True:
            k = keys[slot]
            if k == 0:
                keys[slot], key_lines[slot] = h, lines[i]
                added += 1
                out[i] = 0
                break
            if k == h:
                out[i] = key_lines[slot]
                break
            slot = slot + np.uint64(1) if slot + np.uint64(1) < size else np.uint64(0)
    return added


# -- code columns read as text (large CSV files) ------------------------------------
_PACKED = 7  # bytes: a value this long or shorter is its own 64-bit key (with its length)


class TextInterner:
    """Text columns as Arrow dictionaries of their own values, through one run-wide table of values.

    pyarrow's CSV parser builds a dictionary for each 1 MB block, which a chunk then has to
    unify. Reading code columns as plain text and interning each cell here in one compiled
    pass costs less (benchmarks/RESULTS.md). A value of up to 7 bytes is its own key (its bytes
    and length in one 64-bit word), so equal keys are equal values; longer values, rare in code
    columns, go through pyarrow. Each column gets a dictionary of the values it holds, in the
    order first seen, with 16-bit indices when they fit. Not thread-safe: one reading thread
    uses it."""

    MAX_LOAD = 0.7

    def __init__(self, slots: int = 1 << 12):
        self._keys = np.zeros(slots, dtype=np.uint64)  # 0: an empty slot (a packed key is never 0)
        self._ids = np.zeros(slots, dtype=np.int32)
        self._local = np.full(slots, -1, dtype=np.int32)  # per value: its index in the column being encoded
        self._first = np.zeros(slots, dtype=np.int64)  # per value added by a call: the cell it was first in
        self._values: list[pa.Array] = [pa.array([""], pa.string())]  # value 0 is "", never hashed
        self._all: pa.Array | None = None
        self._long: dict[str, int] = {}
        self.used = 1

    def encode(self, column: pa.ChunkedArray) -> pa.DictionaryArray:
        """The column (string pieces, no missing cells) as one dictionary-encoded array."""
        pieces = [p if p.type == pa.string() else p.cast(pa.string()) for p in column.chunks if len(p)]
        pieces = [pc.fill_null(p, "") if p.null_count else p for p in pieces]
        for width in (np.int16, np.int32):
            encoded = self._encode(pieces, width)
            if encoded is not None:
                return encoded
        raise OverflowError("a column with more than 2**31 distinct values")  # internal: no code column

    def _encode(self, pieces: list[pa.Array], width) -> pa.DictionaryArray | None:
        """None when the column has more distinct values than ``width`` indexes."""
        out = np.empty(sum(len(p) for p in pieces), dtype=width)
        order = np.empty(min(len(out), int(np.iinfo(width).max)) + 1, dtype=np.int32)  # local -> value
        n_local, base, longs = 0, 0, 0
        intern = compiled(_intern)
        shift, limit = _shift(len(self._keys)), int(self.MAX_LOAD * len(self._keys))
        try:
            for piece in pieces:
                data, offsets = arrow_text(piece)
                start = 0
                while start < len(piece):
                    before = self.used
                    start, self.used, n_local, found = intern(
                        data, offsets, start, self._keys, self._ids, shift, self.used, limit, self._local, order,
                        n_local, out[base:], self._first)
                    longs += found
                    if self.used > before:
                        self._add(piece.take(pa.array(self._first[before:self.used])))
                    if n_local == len(order):
                        return None  # more values than the width holds
                    if start < len(piece):
                        self._grow()  # the table was full
                        shift, limit = _shift(len(self._keys)), int(self.MAX_LOAD * len(self._keys))
                base += len(piece)
            if longs:
                with_long = self._encode_long(pa.chunked_array(pieces, pa.string()), out, order, n_local)
                if with_long is None:
                    return None
                n_local = with_long
            dictionary = self._all_values().take(pa.array(order[:n_local]))
            # Unchecked: every index was written above, within the column's dictionary.
            return pa.DictionaryArray.from_arrays(pa.array(out), dictionary, safe=False)
        finally:
            self._local[order[:n_local]] = -1

    def _encode_long(self, column: pa.ChunkedArray, out: np.ndarray, order: np.ndarray, n_local: int):
        """Values over 7 bytes (marked -1 by the compiled pass): interned by their text, a distinct value
        at a time."""
        cells = np.flatnonzero(out == -1)
        encoded = column.take(pa.array(cells)).combine_chunks().dictionary_encode()
        ids = np.empty(len(encoded.dictionary), dtype=np.int32)
        for i, text in enumerate(encoded.dictionary.to_pylist()):  # a loop over distinct long values
            if (found := self._long.get(text)) is None:
                found = self._long[text] = self.used
                self._add(pa.array([text], pa.string()))
                self.used += 1
                if self.used >= len(self._local):
                    self._grow()
            ids[i] = found
        values = ids[encoded.indices.to_numpy(zero_copy_only=False)]
        new = np.unique(values)
        new = new[self._local[new] < 0]
        if n_local + len(new) >= len(order):
            return None
        self._local[new] = np.arange(n_local, n_local + len(new), dtype=np.int32)
        order[n_local:n_local + len(new)] = new
        out[cells] = self._local[values]
        return n_local + len(new)

    def _add(self, values: pa.Array) -> None:
        self._values.append(values)
        self._all = None

    def _all_values(self) -> pa.Array:
        if self._all is None:
            self._all = pa.concat_arrays(self._values)
            self._values = [self._all]
        return self._all

    def _grow(self) -> None:
        """Twice the slots, every key placed again."""
        slots = 2 * len(self._keys)
        keys, ids = np.zeros(slots, dtype=np.uint64), np.zeros(slots, dtype=np.int32)
        present = self._keys != 0
        compiled(_rehash)(self._keys[present], self._ids[present], keys, ids, _shift(slots))
        self._keys, self._ids = keys, ids
        self._local = np.concatenate([self._local, np.full(slots - len(self._local), -1, dtype=np.int32)])
        self._first = np.zeros(slots, dtype=np.int64)


def _shift(slots: int) -> np.uint64:
    """A hash's (or a key's product's) slot is its top log2(slots) bits: it shifted right by this."""
    return np.uint64(64 - (slots.bit_length() - 1))


def _rehash(old_keys, old_ids, keys, ids, shift):
    mask = np.uint64(keys.shape[0] - 1)
    for i in range(old_keys.shape[0]):
        slot = (old_keys[i] * np.uint64(0x9E3779B97F4A7C15)) >> shift
        while keys[slot] != 0:
            slot = (slot + np.uint64(1)) & mask
        keys[slot], ids[slot] = old_keys[i], old_ids[i]


def _intern(data, offsets, start, keys, ids, shift, used, limit, local, order, n_local, out, first):
    # For cells start.. of one piece: out[i] = the cell's index in the column's dictionary, giving
    # new values ids (used, used + 1, ...) and each value met for the first time in the column the
    # next local index. Stops early, returning where, when the table is full or the local indices
    # run out; cells over _PACKED bytes get -1 and are counted, for the caller.
    mask = np.uint64(keys.shape[0] - 1)
    longs = 0
    blank = local[0]
    size = data.shape[0]
    for i in range(start, offsets.shape[0] - 1):
        a = offsets[i]
        length = offsets[i + 1] - a
        if length == 0:  # "", the commonest code cell: no hashing, no lookup
            if blank < 0:
                if n_local == order.shape[0]:
                    return i, used, n_local, longs
                blank = local[0] = n_local
                order[n_local] = 0
                n_local += 1
            out[i] = blank
            continue
        if length > _PACKED:
            out[i] = -1
            longs += 1
            continue
        if a + 8 <= size:  # seven bytes at once, those past the value masked off: no loop to mispredict
            key = (np.uint64(data[a]) | (np.uint64(data[a + 1]) << np.uint64(8))
                   | (np.uint64(data[a + 2]) << np.uint64(16)) | (np.uint64(data[a + 3]) << np.uint64(24))
                   | (np.uint64(data[a + 4]) << np.uint64(32)) | (np.uint64(data[a + 5]) << np.uint64(40))
                   | (np.uint64(data[a + 6]) << np.uint64(48)))
            key &= (np.uint64(1) << np.uint64(8 * length)) - np.uint64(1)
        else:
            key = np.uint64(0)
            for k in range(length):
                key |= np.uint64(data[a + k]) << np.uint64(8 * k)
        key |= np.uint64(length + 1) << np.uint64(56)
        # Fibonacci hashing: a slot is the top bits of key * 2**64 / phi.
        slot = (key * np.uint64(0x9E3779B97F4A7C15)) >> shift
        while True:
            found = keys[slot]
            if found == key:
                value = ids[slot]
                break
            if found == 0:
                if used >= limit:
                    return i, used, n_local, longs
                keys[slot], ids[slot] = key, used
                first[used] = i
                value = used
                used += 1
                break
            slot = (slot + np.uint64(1)) & mask
        index = local[value]
        if index < 0:
            if n_local == order.shape[0]:
                return i, used, n_local, longs
            index = local[value] = n_local
            order[n_local] = value
            n_local += 1
        out[i] = index
    return offsets.shape[0] - 1, used, n_local, longs
