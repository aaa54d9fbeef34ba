"""JSON reports written a chunk of findings at a time, byte for byte as ``json_text`` writes the whole
document: a million findings in seconds and in bounded memory, where building the document took
minutes and gigabytes (benchmarks/RESULTS.md).

A finding's JSON object has the same shape every time; only its values change. So its fixed text is
rendered once, by ``json`` itself, around placeholders (``Template``), and the values are made JSON
text in Arrow a column at a time (``json_values``); each object is then the fixed parts and its
values joined.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.jsonfiles import json_text
from audit.report.output import text_array, text_bytes

ITEMS = "\x00items\x00"  # where the document's streamed list goes (``streamed_json``)
_SLOT = re.compile(r'"\\u0000slot(\d+)\\u0000"')  # a placeholder as json writes it
_CONTROL = r"[\x00-\x1f]"  # characters json escapes besides the quote and the backslash
_ROWS = 65_536  # objects built at a time: Arrow's intermediates stay small


def slot(name: str | int) -> str:
    """A placeholder for a value in a ``Template``'s shape."""
    return f"\x00slot{name}\x00"


class Template:
    """A JSON object whose leaves are placeholders (``slot(i)`` for value column i), as ``json.dumps(indent=2,
    ensure_ascii=False)`` writes it inside a list ``depth`` levels deep."""

    def __init__(self, shape: object, depth: int):
        text = json.dumps(shape, indent=2, ensure_ascii=False)
        indent = "\n" + "  " * depth
        parts = _SLOT.split(text)
        # Value texts never hold a line break (json escapes it), so only the fixed parts are indented.
        self.fixed = [part.replace("\n", indent) for part in parts[0::2]]
        self.fixed[0] = indent[1:] + self.fixed[0]
        self.order = [int(i) for i in parts[1::2]]

    def render(self, values: list[pa.Array], first: bool) -> pa.Buffer:
        """The objects of these rows (``values[i]``: column i's JSON texts), each after a comma and a line
        break but the very first of the list (``first``): their text end to end."""
        pieces: list[object] = []
        for i, fixed in enumerate(self.fixed):
            pieces.append(",\n" + fixed if i == 0 else fixed)
            if i < len(self.order):
                pieces.append(values[self.order[i]])
        text = pc.binary_join_element_wise(*pieces, "")
        data = text_bytes(text)
        return data.slice(2) if first else data


def json_values(values: pd.Series) -> pa.Array:
    """Each value as JSON text, as ``json.dumps(ensure_ascii=False)`` writes it (missing values null):
    text escaped in Arrow a column at a time, other values one at a time."""
    if (text := text_array(values)) is not None:
        return json_strings(text)
    if pd.api.types.is_integer_dtype(values) and not values.hasnans:  # a rule's index: Arrow's decimal text
        return pa.array(values.to_numpy()).cast(pa.string())
    plain = values.astype(object).where(values.notna(), None)
    return pa.array([json.dumps(v, ensure_ascii=False) for v in plain], pa.string())


def json_strings(text: pa.Array) -> pa.Array:
    """Arrow text as JSON strings (``json.dumps(ensure_ascii=False)`` of each; missing values null)."""
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    out = pc.binary_join_element_wise('"', escaped, '"', "")
    control = pc.fill_null(pc.match_substring_regex(text, _CONTROL), False)
    if pc.any(control).as_py():  # line breaks, tabs... in a few values: json's own escapes for those
        cells = pc.filter(text, control).to_pylist()
        out = pc.replace_with_mask(out, control, pa.array([json.dumps(v, ensure_ascii=False) for v in cells]))
    return pc.fill_null(out, "null")


def _split(document: dict) -> tuple[str, str, int]:
    """``json_text(document)`` before and after its ``ITEMS`` value, and the indent of that value's line."""
    text = json_text(document)
    placeholder = json.dumps(ITEMS)
    at = text.index(placeholder)
    line = text[text.rfind("\n", 0, at) + 1:at]
    return text[:at], text[at + len(placeholder):], len(line) - len(line.lstrip(" "))


def items_depth(document: dict) -> int:
    """How deep in ``document`` the objects of its ``ITEMS`` list are (a ``Template``'s depth)."""
    return _split(document)[2] // 2 + 1


def streamed_json(document: dict, items: Iterable[bytes | pa.Buffer]) -> Iterator[bytes | pa.Buffer]:
    """``json_text(document)`` in parts, where the value ``ITEMS`` in the document is a list whose objects
    ``items`` gives, already rendered (``Template.render``: the first without its leading comma)."""
    head, tail, indent = _split(document)
    yield head.encode("utf-8")
    empty = True
    for part in items:
        if len(part):
            if empty:
                yield b"[\n"
            empty = False
            yield part
    yield (b"[]" if empty else ("\n" + " " * indent + "]").encode("utf-8")) + tail.encode("utf-8")


def streamed(document: dict, shape: object, frames: Iterable[pd.DataFrame | pa.Table],
             columns) -> Iterator[bytes | pa.Buffer]:
    """``streamed_json`` of ``document`` with a ``shape`` object (``Template``) a row of ``frames`` in its
    ``ITEMS`` list; ``columns(frame)`` gives the value columns (``json_values``) in slot order."""
    return streamed_json(document, rendered(Template(shape, items_depth(document)), frames, columns))


def peek(frames: Iterator[pd.DataFrame]) -> tuple[pd.DataFrame, Iterator[pd.DataFrame]]:
    """The first of some frames (there is at least one: ``Findings.frames``), and all of them again."""
    first = next(frames)
    return first, itertools.chain([first], frames)


def rendered(template: Template, frames: Iterable[pd.DataFrame | pa.Table], columns) -> Iterator[pa.Buffer]:
    """Each frame's rows (a pandas frame's or an Arrow table's) as ``template``'s objects, ``_ROWS`` at a
    time; ``columns(frame)`` gives the value columns (JSON texts, ``json_values``) in slot order."""
    first = True
    for frame in frames:
        for start in range(0, len(frame), _ROWS):
            part = frame.slice(start, _ROWS) if isinstance(frame, pa.Table) else frame.iloc[start:start + _ROWS]
            yield template.render(columns(part), first)
            first = False
