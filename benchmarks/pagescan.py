"""The skeleton with a Parquet page reader of its own: what decoding the pages ourselves would buy.

``benchmarks/skeleton.py`` decodes with pyarrow and then ORs the shipped rules' pattern bits into each
episode's; pyarrow's decoding alone takes longer than the DuckDB peer's whole query. This variant does the
skeleton's work (the duplicate-id table, the pattern bits, each episode's last procedure) straight from the
file's pages: it finds each column chunk from the file's metadata, decompresses its pages with pyarrow's
codecs, reads each dictionary page once per row group, and decodes the definition levels and the
RLE/bit-packed dictionary indices in compiled code that ORs the bits as it goes: no Arrow arrays of indices
are built. Five tasks share two threads: the ids, and each classification's columns in two halves of the row
groups.

It is a measurement for a design decision, not a reader for the engine: it reads what pyarrow writes for
flat text columns (dictionary pages, data pages v1 and v2, dictionary-encoded or, for the ids, plain values)
and refuses anything else (``Unsupported``). Its results must equal the skeleton's (tests/benchmarks).
"""

from __future__ import annotations

import mmap
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
from numba import njit  # _uleb128, which the compiled passes below call, is compiled at import

from audit.kernels import compiled
from benchmarks import hes
from benchmarks.skeleton import compiled_rules

_CODECS = {"UNCOMPRESSED": None, "ZSTD": "zstd", "SNAPPY": "snappy", "GZIP": "gzip", "BROTLI": "brotli",
           "LZ4_RAW": "lz4_raw"}
_DATA_PAGE, _DICTIONARY_PAGE, _DATA_PAGE_V2 = 0, 2, 3
_PLAIN, _PLAIN_DICTIONARY, _RLE_DICTIONARY = 0, 2, 8


class Unsupported(ValueError):
    """A Parquet file this prototype does not decode (pyarrow would)."""


# ------------------------------------------------------------------ page headers: Thrift's compact protocol
def _varint(buf, i: int) -> tuple[int, int]:
    # _uleb128 below, in Python over the mapped file: a compiled call per page header's varint costs more
    # (0.1 s more at 10M) than reading its few bytes here
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _field(buf, i: int, kind: int):
    if kind in (1, 2):  # booleans live in the field header
        return kind == 1, i
    if kind == 3:
        return buf[i], i + 1
    if kind in (4, 5, 6):  # zigzag varints
        value, i = _varint(buf, i)
        return (value >> 1) ^ -(value & 1), i
    if kind == 7:
        return None, i + 8
    if kind == 8:
        size, i = _varint(buf, i)
        return bytes(buf[i : i + size]), i + size
    if kind in (9, 10):
        header = buf[i]
        i += 1
        size, element = header >> 4, header & 15
        if size == 15:
            size, i = _varint(buf, i)
        items = []
        for _ in range(size):
            item, i = _field(buf, i, element)
            items.append(item)
        return items, i
    if kind == 12:
        return _struct(buf, i)
    raise Unsupported(f"Thrift type {kind} in a page header")


def _struct(buf, i: int) -> tuple[dict, int]:
    """A Thrift compact struct at ``buf[i:]`` (the mapped file) as {field id: value}, and the offset after it."""
    fields, number = {}, 0
    while True:
        header = buf[i]
        i += 1
        if header == 0:
            return fields, i
        delta, kind = header >> 4, header & 15
        if delta:
            number += delta
        else:
            value, i = _varint(buf, i)
            number = (value >> 1) ^ -(value & 1)
        fields[number], i = _field(buf, i, kind)


# ------------------------------------------------------------------------------------------ compiled passes
@njit(cache=True, nogil=True)
def _uleb128(buf, i):
    # a ULEB128 varint at buf[i] (a hybrid run's header): it and the offset after it
    header, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        header |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return header, i
        shift += 7


def _plain_texts(buf, start, count, offsets, data):
    # PLAIN byte arrays: a 4-byte little-endian length before each value
    i, used = start, 0
    for k in range(count):
        size = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)
        i += 4
        data[used : used + size] = buf[i : i + size]
        i += size
        used += size
        offsets[k + 1] = used
    return used


def _hybrid(buf, start, end, width, count, out):
    # Parquet's RLE/bit-packed hybrid: a varint header, then a repeated value (even header) or groups of
    # eight values packed least significant bit first (odd header)
    i, k = start, 0
    mask = (1 << width) - 1
    while k < count and i < end:
        header, i = _uleb128(buf, i)
        if header & 1:
            groups = header >> 1
            bit = 0
            for _ in range(min(groups * 8, count - k)):
                at = i + (bit >> 3)
                got = 8 - (bit & 7)
                value = buf[at] >> (bit & 7)
                while got < width:
                    at += 1
                    value |= buf[at] << got
                    got += 8
                out[k] = value & mask
                k += 1
                bit += width
            i += groups * width
        else:
            run = header >> 1
            value = 0
            for j in range((width + 7) // 8):
                value |= buf[i + j] << (8 * j)
            i += (width + 7) // 8
            for _ in range(min(run, count - k)):
                out[k] = value
                k += 1
    return k


def _present_rows(buf, start, end, count, rows):
    # Definition levels of a flat optional column (bit width 1), run by run: a run of missing cells (most
    # of a code column past its first positions) is skipped whole. Fills rows[:present].
    i, r, present = start, 0, 0
    while r < count and i < end:
        header, i = _uleb128(buf, i)
        if header & 1:
            groups = header >> 1
            for g in range(groups):
                byte = buf[i + g]
                for b in range(8):
                    row = r + g * 8 + b
                    if row < count and (byte >> b) & 1:
                        rows[present] = row
                        present += 1
            i += groups
            r += groups * 8
        else:
            run = header >> 1
            if buf[i]:
                for k in range(min(run, count - r)):
                    rows[present] = r + k
                    present += 1
            i += 1
            r += run
    return present


def _or_cells(rows, indices, present, first, table, is_code, acc, lengths, position, track):
    for k in range(present):
        row = first + rows[k]
        acc[row] |= table[indices[k]]
        if track and is_code[indices[k]]:
            lengths[row] = position + 1


def _hash_plain(buf, start, count, out):
    # PLAIN byte arrays hashed where they lie (FNV-1a over the bytes, MurmurHash3's finaliser last); returns
    # the offset after them
    i = start
    for k in range(count):
        size = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)
        i += 4
        h = np.uint64(size) * np.uint64(0x9E3779B97F4A7C15)
        for b in range(size):
            h = (h ^ np.uint64(buf[i + b])) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
        out[k] = h
        i += size
    return i


# ------------------------------------------------------------------------------------------------- reading
class _Pages:
    """A column chunk's pages, decompressed, as (page type, values or rows in it, its bytes, where its values
    start after the definition levels, its encoding)."""

    def __init__(self, file: mmap.mmap, whole: np.ndarray, chunk, optional: bool):
        self.file, self.whole, self.chunk, self.optional = file, whole, chunk, optional
        if chunk.compression not in _CODECS:
            raise Unsupported(f"{chunk.path_in_schema}: compression {chunk.compression}")
        self.codec = _CODECS[chunk.compression]

    def _inflate(self, payload: np.ndarray, size: int) -> np.ndarray:
        if self.codec is None or size == 0:
            return payload
        return np.frombuffer(pa.decompress(payload, size, codec=self.codec, asbytes=False), dtype=np.uint8)

    def __iter__(self):
        chunk = self.chunk
        starts = [o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o]
        i = min(starts)
        end = i + chunk.total_compressed_size
        while i < end:
            header, i = _struct(self.file, i)
            kind, size, stored = header[1], header[2], header[3]
            payload = self.whole[i : i + stored]
            i += stored
            if kind == _DICTIONARY_PAGE:
                yield kind, header[7][1], self._inflate(payload, size), 0, 0
            elif kind == _DATA_PAGE:
                page = header[5]
                buf = self._inflate(payload, size)
                levels = 0
                if self.optional:
                    levels = 4 + (int(buf[0]) | int(buf[1]) << 8 | int(buf[2]) << 16 | int(buf[3]) << 24)
                yield kind, page[1], buf, levels, page[2]
            elif kind == _DATA_PAGE_V2:
                page = header[8]
                levels = page[5] + page.get(6, 0)  # v2: levels stored uncompressed, without a length prefix
                values = payload[levels:]
                if page.get(7, True):
                    values = self._inflate(values, size - levels)
                yield _DATA_PAGE_V2, page[3], np.concatenate([payload[:levels], values]), levels, page[4]
            # index pages and others carry no values


class _Scan:
    """One thread's task: the ids of every row group (the duplicate-id table), or some row groups' code columns
    of one classification (the pattern bits into ``nonzero``, and each episode's last procedure). Tasks of one
    classification share its vocabulary under ``lock``."""

    def __init__(self, path, parquet, kind, columns, rules, groups=None, nonzero=None, lock=None):
        self.path, self.kind, self.columns, self.rules = path, kind, columns, rules
        self.nonzero, self.lock = nonzero, lock or threading.Lock()
        self.metadata = parquet.metadata
        self.groups = range(self.metadata.num_row_groups) if groups is None else groups
        schema = parquet.schema
        self.where = {schema.column(i).name: i for i in range(len(schema))}
        self.optional = {name: schema.column(i).max_definition_level > 0 for name, i in self.where.items()}
        for name, i in self.where.items():
            nested = schema.column(i).max_repetition_level or schema.column(i).max_definition_level > 1
            if nested and name in (hes.ID_COLUMN, *columns):
                raise Unsupported(f"{name}: a nested column")

    def run(self) -> dict:
        from audit.kernels import HashIndex

        total = self.metadata.num_rows
        self.bits_sum, self.procedures, self.repeated = np.uint64(0), 0, 0
        if self.kind is None:
            self.seen = HashIndex.holding(total)
            blank = np.empty(1, dtype=np.uint64)
            compiled(_hash_plain)(np.zeros(4, dtype=np.uint8), 0, 1, blank)  # a missing id hashes as a blank one
            self.blank = blank[0]
        with open(self.path, "rb") as fh:  # the map outlives the file object; it closes once no page views it
            self.file = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.whole = np.frombuffer(self.file, dtype=np.uint8)
        firsts = np.cumsum([0] + [self.metadata.row_group(g).num_rows for g in range(self.metadata.num_row_groups)])
        for g in self.groups:
            group = self.metadata.row_group(g)
            n = group.num_rows
            rows, values = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
            if self.kind is None:
                self._group_ids(group, int(firsts[g]), rows, values)
            else:
                self._group_codes(group, g, int(firsts[g]), rows, values)
        return {"bits_sum": self.bits_sum, "procedures": self.procedures, "repeated_ids": self.repeated}

    def _pages(self, group, name: str) -> _Pages:
        return _Pages(self.file, self.whole, group.column(self.where[name]), self.optional[name])

    def _group_ids(self, group, first, rows, values):
        hashes = np.full(group.num_rows, self.blank, dtype=np.uint64)
        self._ids(self._pages(group, hes.ID_COLUMN), rows, values, hashes)
        lines = np.arange(first + 1, first + group.num_rows + 1)
        self.repeated += int(np.count_nonzero(self.seen.first_lines(hashes, lines)))

    def _group_codes(self, group, g, first, rows, values):
        from audit.codes import Kind, Status

        n = group.num_rows
        dictionaries, pages = [], []
        for name in self.columns:
            dictionary, column_pages = None, []
            for kind, count, buf, levels, encoding in self._pages(group, name):
                if kind == _DICTIONARY_PAGE:
                    dictionary = self._texts(buf, 0, count)
                elif encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY) and dictionary is not None:
                    column_pages.append((buf, levels, count, kind))
                else:  # plain values: pyarrow's fallback once a chunk's dictionary grows past its limit
                    raise Unsupported(f"{name}: a page of encoding {encoding} in row group {g}")
            dictionaries.append(dictionary if dictionary is not None else pa.array([], pa.string()))
            pages.append(column_pages)
        # each row group's dictionaries looked up in the run's vocabulary at once, as the skeleton does
        vocabulary = self.rules.vocabulary[self.kind]
        with self.lock:
            found = vocabulary.rows(pa.concat_arrays(dictionaries))
            empty = np.append(vocabulary.values.status, Status.EMPTY)[found] == Status.EMPTY
            table = np.where(empty, np.uint64(0), self.rules.value_bits[self.kind].get()[:, 0][found])
        is_code = (~empty).view(np.uint8)
        acc, lengths = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int32)
        start = 0
        for position, column_pages in enumerate(pages):
            stop = start + len(dictionaries[position])
            row = 0
            for buf, levels, count, kind in column_pages:
                present = self._present(buf, levels, count, kind, rows, self.optional[self.columns[position]])
                if present:
                    compiled(_hybrid)(buf, levels + 1, len(buf), buf[levels], present, values)
                    compiled(_or_cells)(rows, values, present, row, table[start:stop], is_code[start:stop],
                                       acc, lengths, position, self.kind is Kind.PROCEDURE)
                row += count
            if row != n:
                raise Unsupported(f"{self.columns[position]}: {row} rows in row group {g}, expected {n}")
            start = stop
        self.nonzero[first : first + n] = acc != 0
        self.bits_sum += acc.sum(dtype=np.uint64)
        self.procedures += int(lengths.sum())

    def _texts(self, buf, start, count) -> pa.Array:
        offsets, data = np.zeros(count + 1, dtype=np.int32), np.empty(len(buf), dtype=np.uint8)
        used = compiled(_plain_texts)(buf, start, count, offsets, data)
        return pa.Array.from_buffers(pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data[:used])])

    def _present(self, buf, levels, count, kind, rows, optional) -> int:
        if not optional:
            rows[:count] = np.arange(count)
            return count
        start = 4 if kind == _DATA_PAGE else 0  # v1 prefixes its levels with their length
        return compiled(_present_rows)(buf, start, levels, count, rows)

    def _ids(self, pages, rows, values, hashes):
        """Each row's id hash (a missing id hashed as blank), from dictionary or plain pages."""
        dictionary, row = None, 0
        for kind, count, buf, levels, encoding in pages:
            if kind == _DICTIONARY_PAGE:
                dictionary = np.empty(count, dtype=np.uint64)
                compiled(_hash_plain)(buf, 0, count, dictionary)
                continue
            present = self._present(buf, levels, count, kind, rows, pages.optional)
            at = row + rows[:present]
            if present and encoding in (_PLAIN_DICTIONARY, _RLE_DICTIONARY):
                compiled(_hybrid)(buf, levels + 1, len(buf), buf[levels], present, values)
                hashes[at] = dictionary[values[:present]]
            elif present and encoding == _PLAIN:
                plain = np.empty(present, dtype=np.uint64)
                compiled(_hash_plain)(buf, levels, present, plain)
                hashes[at] = plain
            elif present:
                raise Unsupported(f"{hes.ID_COLUMN}: a page of encoding {encoding}")
            row += count


def pagescan(path: str) -> dict:
    """Run the skeleton's work from the file's pages: rows read, episodes with some pattern bit, the sum of
    their bit words (a checksum), repeated ids, and the cells up to each episode's last procedure."""
    import pyarrow.parquet as pq

    from audit.codes import Kind

    if hes.detect_format(path) != "parquet":
        raise ValueError(f"{path}: the page scan reads Parquet only")
    rules = compiled_rules()
    # five tasks on two threads: the ids (their hashing and the id table take about what either
    # classification's columns do), and each classification's columns in two halves of the row groups
    parquet = pq.ParquetFile(path)
    groups = parquet.metadata.num_row_groups
    halves = (range(groups // 2), range(groups // 2, groups))
    nonzero = {kind: np.zeros(parquet.metadata.num_rows, dtype=bool) for kind in Kind}
    locks = {kind: threading.Lock() for kind in Kind}
    scans = [_Scan(path, parquet, None, [], rules)] + [
        _Scan(path, parquet, kind, columns, rules, half, nonzero[kind], locks[kind])
        for kind, columns in ((Kind.DIAGNOSIS, hes.DIAG_COLUMNS), (Kind.PROCEDURE, hes.OPERTN_COLUMNS))
        for half in halves
    ]
    with ThreadPoolExecutor(2) as pool:
        ids, *codes = pool.map(_Scan.run, scans)
    return {"rows": len(nonzero[Kind.DIAGNOSIS]),
            "episodes_with_bits": int(np.count_nonzero(nonzero[Kind.DIAGNOSIS] | nonzero[Kind.PROCEDURE])),
            "bits_sum": int(sum((c["bits_sum"] for c in codes), np.uint64(0))),
            "repeated_ids": ids["repeated_ids"], "procedures": sum(c["procedures"] for c in codes)}
