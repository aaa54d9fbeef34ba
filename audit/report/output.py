"""Where a report goes: a file, or standard output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console

from audit.engine import TITLES
from audit.kernels import arrow_text
from audit.report.safety import neutralise_frame


def found_titles(findings: pd.DataFrame) -> pd.Series:
    """Each finding's found codes with their titles (given reference tables), else blank."""
    return findings[TITLES] if TITLES in findings.columns else pd.Series("", index=findings.index, dtype=object)


def extract_path(result) -> str:
    """The extract's path for a report that points at it (SARIF, GitHub annotations): relative to the working
    folder when it is inside it (a CI job's checkout), with forward slashes; else as given."""
    given = result.path or result.source
    path = Path(given)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def write_text(text: str, output: Path | None) -> None:
    """UTF-8 text to ``output``, or to standard output when None."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(output).write_text(text, encoding="utf-8", newline="\n")


def write_csv_frame(frame: pd.DataFrame, output: Path | None) -> None:
    """A frame as CSV (no index, newline line ends), formula-looking text neutralised for spreadsheets."""
    write_csv_frames([frame], output)


def write_csv_frames(frames: Iterable[pd.DataFrame], output: Path | None) -> None:
    """Frames of the same columns as one CSV, written as they come (the header from the first)."""
    def parts():
        first = True
        for frame in frames:
            frame = neutralise_frame(frame)
            body = csv_parts(frame)
            if body is None:  # a column neither text nor whole numbers (the comparison's rates): pandas writes it
                yield frame.to_csv(index=False, header=first, lineterminator="\n").encode("utf-8")
            else:
                header = next(body)
                if first:
                    yield header
                yield from body
            first = False
    write_bytes(parts(), output)


_NEEDS_QUOTES = r'[,"\r\n]'
_CSV_ROWS = 65_536  # rows built at a time: Arrow's intermediates stay small whatever the number of findings


def csv_parts(frame: pd.DataFrame) -> Iterator | None:
    """Text and whole-number columns as CSV, a header and then a line a row (LF): a value is quoted only
    when it holds a comma, a quote or a line break, its quotes doubled (pandas' ``to_csv``, also quoting a
    lone CR), built in Arrow a column at a time: a million findings in a fraction of a second where
    ``to_csv`` took seconds. The header, then each batch of rows as bytes-like parts, the rows where
    Arrow built them (no copy); None when some column is of another type."""
    kinds = []
    for name in frame.columns:
        s = frame[name]
        if pd.api.types.is_integer_dtype(s) and not s.hasnans:
            kinds.append("int")
        elif s.dtype != object and pd.api.types.is_string_dtype(s):
            kinds.append("str")
        elif s.dtype == object and pd.api.types.infer_dtype(s) in ("string", "empty"):
            kinds.append("object")
        else:
            return None
    if not kinds:
        return None
    return _csv_batches(frame, kinds)


def _csv_batches(frame: pd.DataFrame, kinds: list[str]) -> Iterator:
    lone = len(kinds) == 1
    names = _csv_cells(pa.array([str(c) for c in frame.columns], pa.string()), lone)
    yield (",".join(names.to_pylist()) + "\n").encode("utf-8")
    for start in range(0, len(frame), _CSV_ROWS):
        part = frame.iloc[start:start + _CSV_ROWS]
        columns = []
        for (_, s), kind in zip(part.items(), kinds):
            if kind == "int":
                arr = pa.array(s.to_numpy()).cast(pa.string())
            else:
                arr = _strings(s)
            columns.append(_csv_cells(pc.fill_null(arr, ""), lone))
        rows = pc.binary_join_element_wise(pc.binary_join_element_wise(*columns, ","), "", "\n")  # row + LF
        yield text_bytes(rows)


def text_array(s: pd.Series) -> pa.Array | None:
    """A column holding only text (missing values null) as one Arrow string array; None when it holds
    anything else, or text Arrow cannot hold."""
    if pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
        return None
    try:
        text = _strings(s)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def _strings(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow strings: Arrow-backed text as it is held, other text through its objects."""
    arrow_backed = s.dtype != object and pd.api.types.is_string_dtype(s)
    return pa.array(s.array if arrow_backed else s.to_numpy(dtype=object), pa.string(), from_pandas=True)


def _csv_cells(values: pa.Array, lone: bool) -> pa.Array:
    """Each value as a CSV field; with ``lone`` (a one-column file) an empty value is written "" (as the
    csv module does), so that its line is not blank."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if lone:
        needs = pc.or_(pc.match_substring_regex(values, _NEEDS_QUOTES), pc.equal(pc.binary_length(values), 0))
    elif not _has_quote_bytes(values):  # the usual column (ids, codes, dates): nothing to quote, no regex
        return values
    else:
        needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


def _has_quote_bytes(values: pa.Array) -> bool:
    """Whether some value holds a byte of ``_NEEDS_QUOTES`` (in UTF-8 these bytes are never part of another
    character): a look at the data buffer at once."""
    text = text_bytes(values).to_pybytes()
    return any(byte in text for byte in (b",", b'"', b"\r", b"\n"))  # each a memchr over the bytes


def text_bytes(text: pa.Array) -> pa.Buffer:
    """A string array's values end to end: its data buffer between the first and last offsets, not copied."""
    _, offsets = arrow_text(text)
    data = text.buffers()[2]
    return pa.py_buffer(b"") if data is None else data.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def write_console(render: Callable[[Console], None], output: Path | None) -> None:
    """A rich rendering to the terminal (with colour), or to ``output`` as plain text 140 columns wide."""
    if output is None:
        render(Console(highlight=False))
        return
    with open(output, "w", encoding="utf-8") as f:
        render(Console(file=f, width=140, no_color=True, highlight=False))


def write_bytes(data, output: Path | None) -> None:
    """Binary data (Parquet, XLSX; or bytes-like parts, written in turn) to ``output``, or to standard
    output."""
    parts = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    if output is None:
        sys.stdout.flush()
        for part in parts:
            sys.stdout.buffer.write(part)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as f:
            for part in parts:
                f.write(part)
