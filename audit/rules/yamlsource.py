"""Safe YAML that remembers where each mapping and key was written.

Rule files are data: they are parsed with PyYAML's ``SafeLoader`` (no tags, no
object construction), and every mapping keeps the line of itself and of each
key so that validation errors can name ``file:line``. With libyaml, its C parser
reads them (ten times as fast: the shipped rules in 0.02 s instead of 0.2); a file
it rejects is read again by the Python parser, whose messages the tests pin.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from audit.errors import RuleFileError


class LineMap(dict):
    """A YAML mapping that knows its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that knows its own line and each item's line (1-based)."""

    line: int = 0
    item_lines: list

    def line_of(self, i: int) -> int:
        return self.item_lines[i] if i < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry line numbers; duplicate keys are errors."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same, with libyaml's parser when PyYAML has it."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    out = LineMap()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    return loader.construct_scalar(node)


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    # Dates stay text: the rule validator parses them and can then name the line.
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)


def load_yaml(path: Path):
    """Parse one YAML file into LineMap/LineList values; syntax errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(path, None, f"cannot read rule file: {exc}") from None
    try:
        return yaml.load(text, Loader=_FastLoader)  # a SafeLoader (or CSafeLoader) subclass: data only
    except yaml.YAMLError:
        pass  # read again below, for the Python parser's message
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass: data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context
        if exc.context and exc.context_mark and exc.problem:  # e.g. an unclosed [ or { further up
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise RuleFileError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(path, None, f"invalid YAML: {exc}") from None
