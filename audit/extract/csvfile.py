"""CSV text (any of the usual delimiters and encodings, gzip-compressed or not) as pieces of rows, parsed by
pyarrow; line numbers are the file's.

A first pass (``_scan``) reads the bytes once: lines, the longest line, quotes, whether the text is
UTF-8. A quote-free file is then parsed in 16 MB blocks by two threads (``CsvSource.splittable``),
a large uncompressed one starting while its pass finishes (``CsvSource.open``); any other file is
parsed as one stream. Gzip text that the engine reads itself (the first pass, the 16 MB blocks) is
decompressed by ISA-L (``isal``: three times zlib's speed, without the GIL) when it is installed.
"""

from __future__ import annotations

import codecs
import csv
import io
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from audit.errors import InputFileError, UserError
from audit.extract.source import CODES, TEXT, Source, first_line
from audit.kernels import TextInterner, compiling_pays, line_feeds, load_in_background

try:
    from isal import igzip as _igzip
    from isal.igzip_lib import IsalError as _IsalError
except ImportError:  # pyarrow's zlib decompresses instead
    _igzip, _IsalError = None, OSError
# What reading a file may raise: damaged or truncated compressed data included.
_READ_ERRORS = (OSError, pa.ArrowException, EOFError, _IsalError)

DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
_DELIMITER_NAMES = {"comma": ",", "tab": "\t", "\\t": "\t", "pipe": "|", "semicolon": ";", "space": " "}
_SCAN_BLOCK = 8 << 20
_LINE_WINDOW = 1 << 18  # see _longest_between
_LARGE_TEXT = 256 << 20  # bytes: some two million rows of a HES-wide extract, where compiled loops pay back
_MIN_BLOCK = 1 << 20  # a CSV read block: rows up to this long need no special care
_MAX_BLOCK = 256 << 20  # a line longer than this is not an episode row
_SPLIT_BLOCK = 16 << 20  # text parsed by one thread at a time (quote-free files, see CsvSource.splittable)
_PARSERS = 2  # threads parsing blocks at once (this machine has two cores)
_AHEAD_WHILE_SCANNING = 4  # blocks parsed ahead while the first pass finishes (CsvSource.open)
_MAX_HEADER = 16 << 20


@dataclass
class _Scan:
    utf8: bool
    longest: int  # bytes in the longest line
    lines: int  # newline-terminated lines (plus a last unterminated one)
    splittable: bool  # no quote character, no carriage return but in CR LF: every line is a record


def _scan(stream, check_utf8: bool) -> _Scan:
    """One pass over the bytes: is it UTF-8, how many lines, how long is the longest line (or a bound
    under 512 KB on it: ``_longest_between``)."""
    return _Scanner(check_utf8).read(stream)


def _scan_rest(stream, scanner: _Scanner) -> _Scan:
    """The rest of the first pass (``open``: in the background), then numba loaded for what follows."""
    try:
        return scanner.read(stream)
    finally:
        stream.close()
        load_in_background()  # importing numba holds the GIL, as the pass did: after it


def _unreadable(path: Path, exc: BaseException) -> InputFileError:
    """The one-line error for a file that could not be read (``_READ_ERRORS``)."""
    return InputFileError(path, f"cannot read the file ({first_line(exc)})")


def _in_background(work: Callable[[], object], name: str) -> Future:
    """``work()`` run in a thread of its own: its result or exception in the future."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class _Scanner:
    """``_scan`` a block at a time: ``result`` says what the blocks fed so far show."""

    def __init__(self, check_utf8: bool):
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.utf8, self.longest, self.lines, self.current = check_utf8, 0, 0, 0
        self.splittable, self.after_cr = True, False

    def feed(self, block: bytes) -> None:
        arr = np.frombuffer(block, dtype=np.uint8)
        has_cr = b"\r" in block
        self.splittable = self.splittable and b'"' not in block
        if self.splittable and (has_cr or self.after_cr):
            # A carriage return only in CR LF (Windows line ends, perhaps across two blocks) ends lines
            # where LF does.
            cr = arr == 13
            paired = np.count_nonzero(cr[:-1] & (arr[1:] == 10)) + int(cr[-1])
            self.splittable = (block[0] == 10 or not self.after_cr) and np.count_nonzero(cr) == paired
        self.after_cr = block[-1] == 13
        if self.utf8 and not block.isascii():
            try:
                self.decoder.decode(block)
            except UnicodeDecodeError:
                self.utf8 = False
        self.lines += _line_feeds(block, len(block))
        ends = b"\n\r" if has_cr else b"\n"  # a lone CR ends a line for the parser too
        first = min((i for end in ends if (i := block.find(end)) >= 0), default=-1)
        if first < 0:
            self.current += len(block)
            return
        last = max(block.rfind(end) for end in ends)
        self.longest = max(self.longest, self.current + first + 1, _longest_between(block, first, last, ends))
        self.current = len(block) - last - 1

    def read(self, stream) -> _Scan:
        """Feed the rest of ``stream``, ``_SCAN_BLOCK`` bytes at a time: the ``result``."""
        while block := stream.read(_SCAN_BLOCK):
            self.feed(block)
        return self.result()

    def result(self) -> _Scan:
        utf8 = self.utf8
        if utf8:
            try:
                codecs.getincrementaldecoder("utf-8")().decode(self.decoder.getstate()[0], final=True)
            except UnicodeDecodeError:
                utf8 = False
        return _Scan(utf8, max(self.longest, self.current), self.lines + (1 if self.current else 0),
                     bool(self.splittable and not self.after_cr))


def _longest_between(block: bytes, first: int, last: int, ends: bytes) -> int:
    """The longest line between two line ends of a block, or a bound under 2 * _LINE_WINDOW on it.

    A line that long would hold a whole window of ``_LINE_WINDOW`` bytes with no line end in it; when
    every window has one (a quick search each), nothing is measured line by line."""
    if last - first <= 2 * _LINE_WINDOW:
        return last - first
    if all(any(block.find(end, at, at + _LINE_WINDOW) >= 0 for end in ends)
           for at in range(first + 1, last - _LINE_WINDOW + 1, _LINE_WINDOW)):
        return 2 * _LINE_WINDOW
    arr = np.frombuffer(block, dtype=np.uint8, count=last + 1)[first:]
    is_end = (arr == 10) | (arr == 13) if len(ends) > 1 else arr == 10
    return int(np.diff(np.flatnonzero(is_end)).max())


def parse_delimiter(value: str) -> str:
    """A ``--delimiter`` value: one character, or tab/comma/pipe/semicolon by name."""
    value = _DELIMITER_NAMES.get(value.lower(), value) if len(value) != 1 else value
    if len(value) != 1 or value in '\r\n"':
        raise UserError(f"--delimiter {value!r}: give one character, or tab, comma, pipe or semicolon")
    return value


def _encoding_name(value: str, path: Path) -> str:
    try:
        name = codecs.lookup(value).name
    except LookupError:
        raise InputFileError(path, f"unknown encoding {value!r} (e.g. utf-8, cp1252)") from None
    if name.startswith(("utf-16", "utf-32")):
        raise InputFileError(path, f"{value} text is not supported: save the file as UTF-8")
    return "utf8" if name in ("utf-8", "utf-8-sig") else name


@dataclass
class CsvSource(Source):
    """Delimited text, optionally gzip-compressed; delimiter and encoding detected unless given."""

    compression: str | None = None
    encoding: str = "utf8"  # as pyarrow names it
    delimiter: str = ","
    skip_rows: int = 0  # blank lines before the header
    block_size: int = _MIN_BLOCK
    splittable: bool = False  # see _Scan: parsed in blocks on two threads
    _id_index: int = 0
    utf8_checked: bool = False  # every byte found to be UTF-8 by the first pass (no --encoding given)
    _given_encoding: str | None = None  # --encoding
    _verdict: Future | None = None  # the first pass, finishing in the background (a large file: ``open``)

    @classmethod
    def open(cls, path: Path, encoding: str | None, delimiter: str | None) -> CsvSource:
        with open(path, "rb") as f:
            magic = f.read(4)
        compression = "gzip" if magic.startswith(b"\x1f\x8b") else None
        if compression is None and magic.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputFileError(path, "UTF-16 text is not supported: save the file as UTF-8 (or CSV UTF-8)")
        source = cls(path, [], compression=compression)
        source._given_encoding = encoding
        stream = source._decompressed()
        try:
            if compression is not None or path.stat().st_size < _LARGE_TEXT:
                scan = _scan(stream, check_utf8=encoding is None)
            else:
                scanner = _Scanner(check_utf8=encoding is None)
                prefix = stream.read(_SCAN_BLOCK)
                scanner.feed(prefix)
                guess = scanner.result()
                if guess.splittable and (encoding is not None or prefix.isascii()):
                    # A large file that starts as plain text: its first blocks are parsed while the rest
                    # of the pass runs in the background; nothing is handed on before it confirms the
                    # guess (``_settle``).
                    estimate = guess.lines * path.stat().st_size // max(1, len(prefix)) + 1
                    source._apply(replace(guess, lines=estimate), encoding)
                    source._verdict = _in_background(partial(_scan_rest, stream, scanner), "audit-scan")
                    stream = None  # the background pass reads on, and closes it
                    source._read_header(delimiter)
                    return source
                scan = scanner.read(stream)
        except _READ_ERRORS as exc:
            raise _unreadable(path, exc) from None
        finally:
            if stream is not None:
                stream.close()
        if path.stat().st_size >= _LARGE_TEXT:
            # numba loads while the first blocks are parsed: importing it holds the GIL most of the time,
            # as the first pass does, while pyarrow's parser lets go of it.
            load_in_background()
        source._apply(scan, encoding)
        source._read_header(delimiter)
        return source

    def _apply(self, scan: _Scan, encoding: str | None) -> None:
        """What the first pass found: the encoding, the rows, whether blocks split, the parser's block size."""
        if encoding is not None:
            self.encoding = _encoding_name(encoding, self.path)
        elif not scan.utf8:
            self.encoding = "cp1252"
            self.notes.append(
                f"{self.path.name} is not UTF-8: read as Windows-1252 (give --encoding if it is not)"
            )
        self.rows = scan.lines  # the header's line included: an upper bound (the id index's size, notes)
        self.utf8_checked = encoding is None and scan.utf8
        self.splittable = scan.splittable
        expand = 1 if self.encoding == "utf8" else 3  # transcoded to UTF-8: up to 3 bytes a character
        if scan.longest * expand > _MAX_BLOCK:
            raise InputFileError(
                self.path, f"a line is {scan.longest >> 20} MB long: not an extract of episode rows"
            )
        self.block_size = max(_MIN_BLOCK, scan.longest * expand + 1)

    def _settle(self) -> bool:
        """Wait for the first pass running in the background and apply what it found (the exact line count
        too): whether the guesses made from the file's first block (encoding, splitting, block size) hold."""
        verdict, self._verdict = self._verdict, None
        if verdict is None:
            return True
        try:
            scan = verdict.result()
        except _READ_ERRORS as exc:
            raise _unreadable(self.path, exc) from None
        guessed = (self.encoding, self.utf8_checked, self.splittable, self.block_size)
        self._apply(scan, self._given_encoding)
        return (self.encoding, self.utf8_checked, self.splittable, self.block_size) == guessed

    def _stream(self):
        """The file's text as a pyarrow stream (decompressed by pyarrow), for pyarrow's parser to read."""
        try:
            return pa.input_stream(str(self.path), compression=self.compression)
        except (OSError, pa.ArrowException) as exc:
            raise _unreadable(self.path, exc) from None

    def _decompressed(self):
        """The file's text for this module's own reads (``read(n)`` only): gzip through ISA-L when it is
        installed (10M episodes: 1.5 s to decompress instead of 4.6, twice a run: the pass, the blocks)."""
        if self.compression != "gzip" or _igzip is None:
            return self._stream()
        try:
            return _igzip.open(self.path, "rb")
        except OSError as exc:
            raise _unreadable(self.path, exc) from None

    def _read_header(self, delimiter: str | None) -> None:
        """The first non-blank line is the header; the delimiter is detected from it unless given."""
        raw = b""
        with self._stream() as stream:
            try:
                while True:
                    block = stream.read(1 << 16)
                    raw += block
                    if len(raw) > _MAX_HEADER:
                        raise InputFileError(self.path, "no header row in the first 16 MB")
                    lines = raw.splitlines(keepends=True)
                    blank = 0
                    while blank < len(lines) and not lines[blank].strip(b"\r\n\t \xef\xbb\xbf"):
                        blank += 1
                    if blank < len(lines) and (lines[blank].endswith((b"\n", b"\r")) or not block):
                        break
                    if not block:
                        raise InputFileError(self.path, "the file is empty (no header row)")
            except _READ_ERRORS as exc:
                raise _unreadable(self.path, exc) from None
        self.skip_rows = blank
        codec = "utf-8-sig" if self.encoding == "utf8" else self.encoding
        text = lines[blank].decode(codec, errors="replace").rstrip("\r\n")
        self.delimiter = parse_delimiter(delimiter) if delimiter else _sniff_delimiter(text)
        try:
            header = pacsv.read_csv(
                io.BytesIO(text.encode("utf-8") + b"\n"),
                read_options=pacsv.ReadOptions(use_threads=False),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter),
            )
        except pa.ArrowException as exc:
            raise InputFileError(
                self.path, f"cannot read the header row ({first_line(exc)})", line=blank + 1
            ) from None
        self.header = [str(n) for n in header.column_names]
        if len(self.header) == 1:
            others = [name for d, name in DELIMITERS.items() if d != self.delimiter and d in text]
            if others:
                used = DELIMITERS.get(self.delimiter, repr(self.delimiter))
                self.header_note = (
                    f"the header is one column with the delimiter {used}; "
                    f"is the delimiter {' or '.join(others)}? (--delimiter)"
                )

    def _text_interner(self, short_columns: int) -> TextInterner | None:
        # pyarrow's per-block dictionaries cost more than plain text interned in compiled code, once
        # numba is loaded (a large file: audit.kernels).
        if short_columns and compiling_pays((self.rows or 0) * short_columns):
            return TextInterner()
        return None

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        self._id_index = self.header.index(id_column) if id_column in self.header else -1
        if self.splittable:
            if (yield from self._blocks_in_parallel(columns, dictionary)):
                return
            # The first pass overturned a guess from the first block: nothing was handed on; start again.
            if self.splittable:
                yield from self._blocks_in_parallel(columns, dictionary)
                return
        stream = self._stream()
        placed = 0
        for piece in self._parse(stream, columns, dictionary, self.skip_rows + 1, header=True):
            placed += len(piece[1])
            yield piece
        records = self.skip_rows + 1 + placed
        if self.rows > records:
            self.notes.append(
                f"{self.path.name} has {self.rows} lines but {records} records: some "
                "quoted values hold line breaks, so line numbers after them count records"
            )

    def _blocks_in_parallel(self, columns, dictionary):
        """Quote-free text whose lines end in LF or CR LF: every line is a record, so the text is cut after
        line feeds into blocks that two threads parse at once (pyarrow's streaming parser uses one).
        Returns False, having handed on nothing, when the first pass finishing in the background finds
        that the file is not what its first block suggested (``_settle``)."""
        from concurrent.futures import ThreadPoolExecutor

        def parse(block: tuple[int, bytes]) -> list:
            line, data = block  # the number of the block's first line, its bytes
            return list(self._parse(pa.BufferReader(pa.py_buffer(data)), columns, dictionary, line - 1,
                                    header=False))

        stream = self._decompressed()
        with ThreadPoolExecutor(max_workers=_PARSERS, thread_name_prefix="audit-csv") as pool:
            ahead: deque = deque()
            try:
                for block in _line_blocks(stream, self.skip_rows + 1, _SPLIT_BLOCK):
                    ahead.append(pool.submit(parse, block))
                    if self._verdict is not None:  # the first pass still running: parse on, up to a point
                        if not self._verdict.done() and len(ahead) < _AHEAD_WHILE_SCANNING:
                            continue
                        if not self._settle():
                            return False
                    if len(ahead) > _PARSERS:
                        yield from ahead.popleft().result()
                if not self._settle():
                    return False
                while ahead:
                    yield from ahead.popleft().result()
                return True
            except _READ_ERRORS as exc:
                raise _unreadable(self.path, exc) from None
            finally:
                for future in ahead:
                    future.cancel()
                stream.close()

    def _parse(self, stream, columns, dictionary, last: int, header: bool):
        """Parse CSV text from ``stream`` whose first record follows line ``last`` of the file (the header's
        when ``header``, which is then in the stream; else the records start at once)."""
        invalid: list[tuple[int, int, str]] = []
        offset = 0 if header else last  # pyarrow numbers the rows of what it was given

        def on_invalid(row) -> str:
            number = row.number + offset if row.number is not None else 0
            invalid.append((number, row.actual_columns, row.text))
            return "skip"

        types = {c: (CODES if c in dictionary else TEXT) for c in columns}
        # pyarrow reads some 30 blocks ahead of the parser, so blocks stay small (1 MB, or the longest line):
        # memory is bounded by them, and pyarrow parses 1 MB blocks with a quarter less CPU than 4 MB ones.
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    use_threads=False, block_size=self.block_size, encoding=self.encoding,
                    **({"skip_rows": self.skip_rows} if header else {"column_names": self.header}),
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=columns,
                    column_types=types,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    # Text the first pass found to be UTF-8 is not checked again, cell by cell (13% of the parse).
                    check_utf8=not self.utf8_checked,
                ),
            )
            while True:
                try:
                    batch = next(reader)
                except StopIteration:
                    break
                k = batch.num_rows
                # Rows the handler skipped are numbered by pyarrow; valid rows take the other lines in order.
                pending = sorted(n for n, _, _ in invalid if n > last)
                candidates = np.arange(last + 1, last + 1 + k + len(pending), dtype=np.int64)
                lines = candidates[~np.isin(candidates, pending)][:k] if pending else candidates
                if k:
                    last = int(lines[-1])
                here = [r for r in invalid if r[0] <= last] if k else []
                invalid[:] = [r for r in invalid if r[0] > last] if k else invalid
                yield self._with_ragged(pa.Table.from_batches([batch]), lines, here, columns)
            if invalid:
                empty = pa.table({c: pa.array([], type=types[c]) for c in columns})
                yield self._with_ragged(empty, np.empty(0, dtype=np.int64), invalid, columns)
        except pa.ArrowInvalid as exc:
            raise InputFileError(self.path, self._parse_problem(str(exc), last)) from None
        except UnicodeDecodeError as exc:
            raise InputFileError(
                self.path,
                f"byte 0x{exc.object[exc.start]:02x} is not {self.encoding} text "
                "(give the file's encoding with --encoding)",
            ) from None
        except _READ_ERRORS as exc:
            raise InputFileError(
                self.path, f"cannot read the file after line {last} ({first_line(exc)})"
            ) from None
        finally:
            stream.close()

    def _parse_problem(self, message: str, last: int) -> str:
        if "straddl" in message:
            return (
                f"a record after line {last} does not end within {self.block_size >> 20} MB: "
                "an unclosed quote?"
            )
        if "UTF8" in message or "UTF-8" in message:
            return (
                f"not valid UTF-8 text after line {last}: give the file's encoding with --encoding "
                "(e.g. cp1252)"
            )
        return f"cannot parse CSV after line {last} ({first_line(message)})"

    def _with_ragged(self, table: pa.Table, lines: np.ndarray, ragged: list, columns: list[str]):
        """Add rows with the wrong number of fields, as rows holding only their episode id, in line order."""
        if not ragged:
            return table, lines, None
        defects = np.full(len(lines), "", dtype=object)
        expected = len(self.header)
        ids = [self._ragged_id(text, n) for _, n, text in ragged]
        reasons = [
            f"ragged row: {n} field{'s' if n != 1 else ''}, expected {expected}"
            + (" (wrong delimiter?)" if n == 1 and expected > 1 else "")
            for _, n, _ in ragged
        ]
        extra = pa.table(
            {
                c: pa.array(
                    ids if self.header.index(c) == self._id_index else [""] * len(ragged),
                    type=table.schema.field(c).type,
                )
                for c in columns
            }
        )
        table = pa.concat_tables([table, extra.select(table.column_names)])
        lines = np.concatenate([lines, np.array([n for n, _, _ in ragged], dtype=np.int64)])
        defects = np.concatenate([defects, np.array(reasons, dtype=object)])
        order = np.argsort(lines, kind="stable")
        return table.take(pa.array(order)), lines[order], defects[order]

    def _ragged_id(self, text: str, fields: int) -> str:
        if self._id_index < 0:
            return ""
        if fields == 1 and any(d in text for d in DELIMITERS if d != self.delimiter):
            return ""  # the whole row read as one field (another delimiter?): no id to show
        try:
            fields = next(csv.reader([text], delimiter=self.delimiter), [])
        except csv.Error:
            return ""
        return fields[self._id_index].strip() if self._id_index < len(fields) else ""


def _line_blocks(stream, skip_lines: int, size: int) -> Iterator[tuple[int, object]]:
    """(number of its first line, its bytes): blocks of about ``size`` bytes of whole lines, after
    ``skip_lines`` lines. A seekable stream (a file that is not compressed) is read once, each block
    where the last ended; others are read on from where the last block's whole lines stopped."""
    if isinstance(stream, pa.NativeFile) and stream.seekable():  # (ISA-L's gzip file seeks by reading again)
        yield from _seekable_line_blocks(stream, skip_lines, size)
        return
    if (skipped := _skip_lines(stream, skip_lines, size)) is None:
        return
    rest, line = skipped[1], 1 + skip_lines
    while True:
        data = stream.read(size)
        if not data:
            break
        data = rest + data if rest else data
        end = data.rfind(b"\n")
        if end < 0:  # a line longer than a block: read on
            rest = data
            continue
        rest = data[end + 1:]
        yield line, memoryview(data)[:end + 1]  # a view: the block's bytes are not copied again
        line += _line_feeds(data, end + 1)
    if rest:
        yield line, memoryview(rest)


def _seekable_line_blocks(stream, skip_lines: int, size: int) -> Iterator[tuple[int, pa.Buffer]]:
    if (skipped := _skip_lines(stream, skip_lines, 1 << 16)) is None:
        return
    position, line = skipped[0], 1 + skip_lines
    while True:
        stream.seek(position)
        block = stream.read_buffer(size)
        if not len(block):
            return
        end = len(block)
        if len(block) == size:  # not the end of the file: the block ends after its last line feed
            end = _after_last_line_feed(block)
            if end == 0:  # a line longer than a block
                size *= 2
                continue
        yield line, block.slice(0, end)  # no copy of the block's bytes
        line += _line_feeds(block, end)
        position += end


def _skip_lines(stream, lines: int, size: int) -> tuple[int, bytes] | None:
    """Read past the first ``lines`` lines (the header, and blank lines above it), ``size`` bytes at a time:
    (the stream offset after them, the bytes read beyond it); None when the stream ends first."""
    data, at = b"", 0
    while lines:
        more = stream.read(size)
        if not more:
            return None
        data += more
        while lines and (end := data.find(b"\n", at)) >= 0:
            at, lines = end + 1, lines - 1
    return at, data[at:]


def _after_last_line_feed(block) -> int:
    """The offset after the last line feed of a block (0 when there is none), looked for from its end."""
    data = np.frombuffer(block, dtype=np.uint8)
    window = 1 << 16
    while True:
        tail = data[-window:]
        found = np.flatnonzero(tail == 10)
        if len(found):
            return len(data) - len(tail) + int(found[-1]) + 1
        if len(tail) == len(data):
            return 0
        window *= 4


def _line_feeds(block, end: int) -> int:
    # Counted with numpy, or compiled once numba is loaded: both several times as fast as bytes.count.
    return line_feeds(np.frombuffer(block, dtype=np.uint8, count=end))


def _sniff_delimiter(header: str) -> str:
    """The candidate that splits the header into the most columns (comma when none splits it)."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        try:
            fields = len(next(csv.reader([header], delimiter=delimiter), []))
        except csv.Error:
            continue
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best
