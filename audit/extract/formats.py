"""Open an extract file (CSV, Parquet or Excel .xlsx) as a stream of raw chunks.

A raw chunk holds the file's own columns (only those asked for) as text, code
and attribute columns dictionary-encoded (Arrow dictionaries in pandas, one per
column and chunk), dates kept as dates where the format has them,
with each row's line number (CSV line, sheet row, or Parquet row number) and,
for rows the format itself could not read (a CSV row with the wrong number of
fields), the reason. Blank rows are dropped and counted. The libraries do the
parsing: pyarrow for CSV and Parquet, openpyxl for .xlsx.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from audit.errors import InputFileError, UserError
from audit.extract.readahead import read_ahead
from audit.kernels import TextInterner, compiling_pays, joined_dictionary, line_feeds, load_in_background

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
_TEXT = pa.string()
_CODES = pa.dictionary(pa.int32(), pa.string())
_MAX_HEADER = 16 << 20
_HEADER_SEARCH_ROWS = 20  # .xlsx: title rows above the header are skipped


@dataclass
class RawChunk:
    """Rows as read: the asked-for columns, each row's line number, and why a row could not be read."""

    frame: pd.DataFrame
    lines: np.ndarray  # int64
    defects: np.ndarray | None  # object: "" or the reason the format could not read the row; None: no row has one


@dataclass
class Source(ABC):
    """An opened extract: its header, and its rows as raw chunks (see ``chunks``)."""

    path: Path
    header: list[str]
    header_note: str = ""  # a hint for messages about missing columns (blank header cells...)
    notes: list[str] = field(default_factory=list)  # said in the run's summary
    blank_rows: int = 0  # rows with nothing in any asked-for column, skipped (not episodes)
    rows: int | None = None  # rows in the file (at most), when known up front: Parquet's count, CSV's lines

    def chunks(
        self, columns: list[str], dictionary: list[str], chunk_rows: int, id_column: str,
        short: list[str] = (),
    ) -> Iterator[RawChunk]:
        """Rows ``chunk_rows`` at a time; ``dictionary`` columns are dictionary-encoded (codes), the
        ``short`` ones among them (one code a cell) perhaps through a ``TextInterner``."""
        self.blank_rows = 0
        interner = self._text_interner(len(short))  # one per read: a run-wide table of the values
        interned = set(short) if interner is not None else set()
        dictionary = [c for c in dictionary if c not in interned]
        pieces = _rechunk(self._pieces(columns, dictionary, chunk_rows, id_column), chunk_rows)
        for chunk, read in read_ahead((_raw_chunk(*piece, interner, interned), len(piece[1]))
                                      for piece in pieces):
            self.blank_rows += read - len(chunk.lines)
            if len(chunk.lines):
                yield chunk

    @abstractmethod
    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        """(Arrow table, line numbers, defects) pieces of any size, in file order; ``dictionary`` columns
        dictionary-encoded. Defects as ``RawChunk.defects`` (None: no row of the piece has one)."""

    def _text_interner(self, short_columns: int) -> TextInterner | None:
        """An interner when the short columns are better read as text and interned a chunk at a time."""
        return None


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    header_hint: Callable[[list[str]], bool] | None = None,
) -> Source:
    """Open ``path`` by its content (not its name): Parquet, .xlsx, or (gzip-compressed) CSV text."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not an extract file")
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise InputFileError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not magic:
        raise InputFileError(path, "the file is empty")
    if magic.startswith(b"PAR1"):
        return ParquetSource.open(path)
    if magic.startswith(b"PK\x03\x04"):
        return XlsxSource.open(path, sheet, header_hint)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(path, "an old-style Excel .xls workbook: save it as .xlsx or CSV")
    return CsvSource.open(path, encoding, delimiter)


# -- CSV ----------------------------------------------------------------------------------------


@dataclass
class _Scan:
    utf8: bool
    longest: int  # bytes in the longest line
    lines: int  # newline-terminated lines (plus a last unterminated one)
    splittable: bool  # no quote character, no carriage return but in CR LF: every line is a record


def _scan(stream, check_utf8: bool) -> _Scan:
    """One pass over the bytes: is it UTF-8, how many lines, how long is the longest line (or a bound
    under 512 KB on it: ``_longest_between``)."""
    scanner = _Scanner(check_utf8)
    while block := stream.read(_SCAN_BLOCK):
        scanner.feed(block)
    return scanner.result()


def _scan_rest(stream, scanner: _Scanner) -> _Scan:
    """The rest of the first pass (``open``: in the background), then numba loaded for what follows."""
    try:
        while block := stream.read(_SCAN_BLOCK):
            scanner.feed(block)
        return scanner.result()
    finally:
        stream.close()
        load_in_background()  # importing numba holds the GIL, as the pass did: after it


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
        stream = source._stream()
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
                while block := stream.read(_SCAN_BLOCK):
                    scanner.feed(block)
                scan = scanner.result()
        except (OSError, pa.ArrowException, EOFError) as exc:
            raise InputFileError(path, f"cannot read the file ({_first_line(exc)})") from None
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
        except (OSError, pa.ArrowException, EOFError) as exc:
            raise InputFileError(self.path, f"cannot read the file ({_first_line(exc)})") from None
        guessed = (self.encoding, self.utf8_checked, self.splittable, self.block_size)
        self._apply(scan, self._given_encoding)
        return (self.encoding, self.utf8_checked, self.splittable, self.block_size) == guessed

    def _stream(self):
        try:
            return pa.input_stream(str(self.path), compression=self.compression)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(self.path, f"cannot read the file ({_first_line(exc)})") from None

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
            except (OSError, pa.ArrowException, EOFError) as exc:
                raise InputFileError(self.path, f"cannot read the file ({_first_line(exc)})") from None
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
                self.path, f"cannot read the header row ({_first_line(exc)})", line=blank + 1
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
            first_line, data = block
            return list(self._parse(pa.BufferReader(pa.py_buffer(data)), columns, dictionary, first_line - 1,
                                    header=False))

        stream = self._stream()
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
            except (OSError, pa.ArrowException, EOFError) as exc:
                raise InputFileError(self.path, f"cannot read the file ({_first_line(exc)})") from None
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

        types = {c: (_CODES if c in dictionary else _TEXT) for c in columns}
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
        except (OSError, pa.ArrowException, EOFError) as exc:
            raise InputFileError(
                self.path, f"cannot read the file after line {last} ({_first_line(exc)})"
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
        return f"cannot parse CSV after line {last} ({_first_line(message)})"

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
    if stream.seekable():
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


# -- Parquet ------------------------------------------------------------------------------------


@dataclass
class ParquetSource(Source):
    """A Parquet file, read a row group batch at a time; line numbers are 1-based row numbers."""

    schema: pa.Schema | None = None

    @classmethod
    def open(cls, path: Path) -> ParquetSource:
        try:
            file = pq.ParquetFile(path)
            schema = file.schema_arrow
            names = schema.names
        except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: damaged names (UTF-8)
            raise InputFileError(path, f"not a readable Parquet file ({_first_line(exc)})") from None
        rows = file.metadata.num_rows
        if compiling_pays(rows * len(names)):
            load_in_background()  # a large file: numba loads while the first row groups are decoded
        return cls(path, [str(n) for n in names], rows=rows, schema=schema)

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        first = 1
        try:
            schema = self.schema
            strings = [
                c
                for c in dictionary
                if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)
            ]
            pf = pq.ParquetFile(self.path, read_dictionary=strings)  # codes stay dictionary-encoded
            for batch in pf.iter_batches(batch_size=_batch_rows(pf.metadata, chunk_rows), columns=columns):
                n = batch.num_rows
                table = pa.table(
                    {c: _parquet_text(batch.column(c), c, c in dictionary, self.path) for c in columns}
                )
                yield table, np.arange(first, first + n, dtype=np.int64), None
                first += n
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputFileError(
                self.path, f"cannot read Parquet data after row {first - 1} ({_first_line(exc)})"
            ) from None


def _batch_rows(metadata: pq.FileMetaData, chunk_rows: int) -> int:
    """Rows a Parquet batch: at most the largest row group's, so that a batch seldom holds the end of one
    group and the start of the next (pyarrow would then decode the group's dictionaries twice: 15% more
    CPU at 10M)."""
    largest = max((metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)), default=0)
    return max(1, min(chunk_rows, largest or chunk_rows))


def _parquet_text(col: pa.Array, name: str, codes: bool, path: Path) -> pa.Array:
    """A Parquet column as text (dates kept as timestamps): ids and codes may be stored as numbers."""
    t = col.type
    if pa.types.is_dictionary(t):
        if pa.types.is_string(t.value_type) and codes:
            return col if t == _CODES else col.cast(_CODES)
        col, t = col.dictionary_decode(), t.value_type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        if pa.types.is_timestamp(t) and t.tz is not None:
            col = pc.local_timestamp(col)
        return col.cast(pa.timestamp("us"))
    if codes and pa.types.is_integer(t):  # few distinct numbers (sex, age): each made text once
        numbers = col.dictionary_encode()
        return pa.DictionaryArray.from_arrays(numbers.indices, numbers.dictionary.cast(_TEXT))
    if (
        pa.types.is_null(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
    ):
        try:
            text = col.cast(_TEXT)
        except pa.ArrowInvalid as exc:
            raise InputFileError(
                path, f"cannot read its values as text ({_first_line(exc)})", column=name
            ) from None
        return text.dictionary_encode().cast(_CODES) if codes else text
    raise InputFileError(path, f"has type {t}: expected text, numbers or dates", column=name)


# -- Excel .xlsx --------------------------------------------------------------------------------


@dataclass
class XlsxSource(Source):
    """The first sheet (or ``--sheet``) of an .xlsx workbook; line numbers are the sheet's row numbers."""

    sheet: str = ""
    header_row: int = 1

    @classmethod
    def open(cls, path: Path, sheet: str | None, header_hint) -> XlsxSource:
        wb = _open_workbook(path)
        try:
            ws = _worksheet(wb, sheet, path)
            name = ws.title
            rows = _xlsx_call(
                path, lambda: list(ws.iter_rows(min_row=1, max_row=_HEADER_SEARCH_ROWS, values_only=True))
            )
        finally:
            wb.close()
        filled = [
            (i + 1, [_cell_text(v).strip() for v in row])
            for i, row in enumerate(rows)
            if any(_cell_text(v).strip() for v in row)
        ]
        if not filled:
            raise InputFileError(path, f"sheet {name!r} is empty")
        chosen = next(((r, names) for r, names in filled if header_hint and header_hint(names)), filled[0])
        row, names = chosen
        blank = [_column_letter(i) for i, n in enumerate(names) if not n]
        source = cls(path, names, sheet=name, header_row=row)
        if blank:
            shown = ", ".join(blank[:6]) + (", ..." if len(blank) > 6 else "")
            source.header_note = (
                f"the header (sheet {name!r} row {row}) has blank cells in columns {shown}: "
                "merged header cells? Each column needs its own name in one header row"
            )
        return source

    def _pieces(self, columns, dictionary, chunk_rows, id_column):
        index = {c: self.header.index(c) for c in columns}
        wb = _open_workbook(self.path)
        try:
            ws = _worksheet(wb, self.sheet, self.path)
            rows = ws.iter_rows(min_row=self.header_row + 1, values_only=True)
            line = self.header_row
            while True:
                block = _xlsx_call(self.path, lambda: list(itertools.islice(rows, chunk_rows)))
                if not block:
                    break
                n = len(block)
                data = {}
                for c, j in index.items():  # per column: openpyxl hands over Python values cell by cell
                    values = [_cell_text(r[j]) if j < len(r) else "" for r in block]
                    arr = pa.array(values, type=_TEXT)
                    data[c] = arr.dictionary_encode().cast(_CODES) if c in dictionary else arr
                yield pa.table(data), np.arange(line + 1, line + 1 + n, dtype=np.int64), None
                line += n
        finally:
            wb.close()


def _open_workbook(path: Path):
    import openpyxl

    return _xlsx_call(path, lambda: openpyxl.load_workbook(path, read_only=True, data_only=True))


def _xlsx_call(path: Path, fn):
    """Call into openpyxl; whatever it raises on a damaged workbook becomes one clear message.

    A damaged .xlsx can fail anywhere below openpyxl (zipfile, zlib, XML parsers, its
    own readers) with almost any exception type, so every exception from the call is
    taken to mean an unreadable workbook; ``fn`` is only ever a thin call into openpyxl.
    """
    try:
        return fn()
    except InputFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        raise InputFileError(
            path, f"not a readable .xlsx workbook ({type(exc).__name__}: {_first_line(exc)})"
        ) from None


def _worksheet(wb, sheet: str | None, path: Path):
    if sheet is None or sheet == "":
        return wb.worksheets[0]
    if sheet in wb.sheetnames:
        return wb[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(wb.sheetnames):
        return wb.worksheets[int(sheet) - 1]
    raise InputFileError(path, f"no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})")


def _cell_text(value) -> str:
    """A cell as extract text: whole numbers without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# -- shared -------------------------------------------------------------------------------------


def _rechunk(pieces, chunk_rows: int):
    """Pieces of any size as chunks of exactly ``chunk_rows`` rows (the last may be shorter)."""
    buffer: list[tuple[pa.Table, np.ndarray, np.ndarray]] = []
    size = 0
    for piece in pieces:
        if piece[0].num_rows == 0 and not len(piece[1]):
            continue
        buffer.append(piece)
        size += piece[0].num_rows
        while size >= chunk_rows:
            table = pa.concat_tables([p[0] for p in buffer])
            lines = np.concatenate([p[1] for p in buffer])
            defects = joined_defects([p[2] for p in buffer], [len(p[1]) for p in buffer])
            yield table.slice(0, chunk_rows), lines[:chunk_rows], defect_rows(defects, slice(0, chunk_rows))
            rest = table.num_rows - chunk_rows
            tail = slice(chunk_rows, None)
            buffer = [(table.slice(chunk_rows), lines[tail], defect_rows(defects, tail))] if rest else []
            size = rest
    if size:
        yield (
            pa.concat_tables([p[0] for p in buffer]),
            np.concatenate([p[1] for p in buffer]),
            joined_defects([p[2] for p in buffer], [len(p[1]) for p in buffer]),
        )


def joined_defects(parts: list[np.ndarray | None], rows: list[int]) -> np.ndarray | None:
    """Pieces' defects (``RawChunk.defects``) end to end: None while no piece has one."""
    if all(p is None for p in parts):
        return None
    return np.concatenate([np.full(n, "", dtype=object) if p is None else p for p, n in zip(parts, rows)])


def defect_rows(defects: np.ndarray | None, rows) -> np.ndarray | None:
    """Some rows' defects (``RawChunk.defects``; ``rows`` a slice or a mask): None stays None."""
    return None if defects is None else defects[rows]


def _raw_chunk(table: pa.Table, lines: np.ndarray, defects: np.ndarray | None, interner: TextInterner | None = None,
               interned: set[str] = frozenset()) -> RawChunk:
    """Rows with nothing in them dropped (worked out in Arrow), then to pandas with missing text blank;
    ``interned`` text columns dictionary-encoded by ``interner``."""
    blank = np.ones(len(lines), dtype=bool) if defects is None else defects == ""
    for col in table.columns:  # a loop over columns, each computed for every row at once
        if not blank.any():
            break  # a row is blank only if every column is: once no candidate is left, stop looking
        if blank.sum() < len(blank) // 8:  # few candidates left: look at those rows only
            candidates = np.flatnonzero(blank)
            col = col.take(pa.array(candidates))
            blank[candidates] = _blank_cells(col)
            continue
        blank &= _blank_cells(col)
    keep = ~blank
    if not keep.all():
        table, lines, defects = table.filter(pa.array(keep)), lines[keep], defect_rows(defects, keep)
    frame = pd.DataFrame(
        {name: _to_pandas(col, interner if name in interned else None)
         for name, col in zip(table.column_names, table.columns)}, copy=False
    )
    return RawChunk(frame, lines, defects)


def _to_pandas(col: pa.ChunkedArray, interner: TextInterner | None = None) -> pd.Series:
    """A column for pandas: dictionaries stay Arrow dictionaries (one, missing cells blank), text given an
    ``interner`` becomes one, other missing text is "", dates datetime64."""
    if interner is not None:
        return pd.Series(pd.arrays.ArrowExtensionArray(interner.encode(col)))
    if pa.types.is_dictionary(col.type):
        return pd.Series(pd.arrays.ArrowExtensionArray(joined_dictionary(col)))
    if col.null_count and not pa.types.is_timestamp(col.type):
        col = pc.fill_null(col, "")
    return col.to_pandas()


def _blank_cells(col) -> np.ndarray:
    """bool per cell: nothing in it (null, or only white space)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        empty = pc.equal(pc.utf8_trim_whitespace(col.dictionary), "").to_numpy(zero_copy_only=False)
        indices = pc.fill_null(col.indices, 0).to_numpy(zero_copy_only=False)
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        return ~valid | (empty[np.where(valid, indices, 0)] if len(empty) else np.ones(len(col), dtype=bool))
    if pa.types.is_timestamp(col.type):
        return col.is_null().to_numpy(zero_copy_only=False)
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True).to_numpy(zero_copy_only=False)


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
