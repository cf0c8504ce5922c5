"""YAML that remembers where each value came from, so errors can name file, line and field.

``load_yaml(text)`` returns plain dicts/lists/scalars (``Located*`` subclasses) plus a ``Source``
that maps a field path such as ``("scenarios", 2, "steps", 0, "expect")`` to its line, and renders a
snippet with a caret (model: tavern's BadSchemaError, design.md "Principles").

Scenario files are standard YAML: ``yaml.safe_load``, an editor or yamllint read the same data. The marks come
from PyYAML's public API (the composed nodes' ``start_mark``, through constructors registered with
``add_constructor``). Two things standard YAML reads differently from what an author may mean get a file:line
error that says how to quote them: an unquoted ``${...}`` inside ``{ }`` or ``[ ]`` (YAML ends the value at
``{``) and an unquoted timestamp (YAML makes it a date; a scenario sends text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class LocatedDict(dict):
    """A mapping with the (line, column) of each key, 1-based."""

    marks: dict
    start: tuple[int, int]


class LocatedList(list):
    """A sequence with the (line, column) of each item, 1-based."""

    marks: list
    start: tuple[int, int]


MAX_DEPTH = 64            # a scenario nests about 8 deep; PyYAML's composer recurses per level
MAX_NODES = 20_000        # values once aliases are expanded; the largest catalogue file has about 420


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry the marks of their children, bounded in
    nesting depth and in alias expansion (either would otherwise hang or overflow the stack)."""

    _depth = 0

    def compose_node(self, parent, index):
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_expansion(node)
        return node


def _check_expansion(root) -> None:
    """Count nodes as if every alias were copied out, in linear time (shared nodes counted once)."""
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) \
            else node.value if isinstance(node, yaml.SequenceNode) else []
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        sizes[id(node)] = 1 + sum(sizes.get(id(child), 1) for child in children)
        if sizes[id(node)] > MAX_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"aliases expand to more than {MAX_NODES} values (an alias bomb?)",
                node.start_mark)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    out = LocatedDict()
    out.marks, out.start = {}, _mark(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.marks[key] = _mark(key_node)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    out.marks, out.start = [_mark(child) for child in node.value], _mark(node)
    return out


class Refused(yaml.MarkedYAMLError):
    """Standard YAML that the scenario format does not accept as written; the message says how to write it."""

    def __init__(self, message: str, mark):
        super().__init__(problem=message, problem_mark=mark)


def _refuse_timestamp(loader: _Loader, node: yaml.ScalarNode):
    """Values a scenario sends are text: an unquoted date would become a datetime (as in every YAML tool), which
    no SNAP field holds and JSON cannot send, so the file says how to quote it instead."""
    raise Refused(f'{node.value} is a YAML timestamp; a scenario sends text: quote it, "{node.value}"',
                  node.start_mark)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _refuse_timestamp)


# What an author used to write unquoted inside { } or [ ]: standard YAML ends a plain value at "{", so
# `{partnerReferenceNo: ${ref}}` reads as "$" followed by a mapping. The value as meant: plain characters and
# whole ${...} up to the next , ] } (for the hint that shows it quoted).
_MEANT = re.compile(r"(?:\$\{[^}\n]*\}|[^,\[\]{}\n#])*")


def _unquoted_expressions(text: str) -> list:
    """Every ``${...}`` written unquoted in flow context, as (mark, the value as meant).

    PyYAML's public scanner gives each plain value and where it ends; one that ends in "$" right before "{"
    was an expression cut in two. Scanning stops past MAX_DEPTH open brackets (the scanner's cost per token
    grows with them)."""
    found, depth = [], 0
    if "${" not in text:
        return found
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, (yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)):
                depth += 1
                if depth > MAX_DEPTH:
                    break
            elif isinstance(token, (yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)):
                depth -= 1
            elif isinstance(token, yaml.ScalarToken) and token.plain and token.value.endswith("$") \
                    and text[token.end_mark.index:token.end_mark.index + 1] == "{":
                found.append((token.start_mark, _MEANT.match(text, token.start_mark.index).group().strip()))
    except yaml.YAMLError:          # the scanner stops at the file's error; what it read before counts
        pass
    return found


def _quoted(value: str) -> str:
    return f'"{value}"' if '"' not in value and "\\" not in value else "'" + value.replace("'", "''") + "'"


def format_path(path: tuple) -> str:
    """``("scenarios", 2, "steps", 0, "expect")`` -> ``scenarios[2].steps[0].expect``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(file)"


@dataclass
class Source:
    """The text of one YAML file and its parsed, located data."""

    path: Path
    text: str
    data: object = None
    lines: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.lines = self.text.splitlines()

    def locate(self, path: tuple) -> tuple[int, int]:
        """Line and column of the deepest part of ``path`` that exists in the file.

        Parts that are not in the data (e.g. a pydantic union tag, or a missing field) are skipped,
        so a missing field points at its parent mapping.
        """
        node, where = self.data, (1, 1)
        if isinstance(node, (LocatedDict, LocatedList)):
            where = node.start
        for part in path:
            if isinstance(node, LocatedDict) and part in node:
                where, node = node.marks[part], node[part]
            elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
                where, node = node.marks[part], node[part]
            # else: not in the data; keep the last location found
        return where

    def snippet(self, line: int, column: int = 1, context: int = 2) -> str:
        """A few numbered lines around ``line`` with a caret under ``column``."""
        if not self.lines:
            return ""
        line = max(1, min(line, len(self.lines)))
        first, last = max(1, line - context), min(len(self.lines), line + context)
        width = len(str(last))
        out = []
        for n in range(first, last + 1):
            marker = ">" if n == line else " "
            out.append(f"{marker} {n:>{width}} | {self.lines[n - 1]}")
            if n == line:
                out.append(f"  {' ' * width} | {' ' * max(0, column - 1)}^")
        return "\n".join(out)


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def load_yaml(path: Path, text: str | None = None) -> Source:
    """Parse ``path`` (or ``text``); raise YamlSyntaxError with the problem's line on bad YAML."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    source = Source(Path(path), text)
    try:
        source.data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except Refused as exc:
        mark = exc.problem_mark
        raise YamlSyntaxError(exc.problem, mark.line + 1, mark.column + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        cuts = _unquoted_expressions(text)     # the whole file: the message names every line to quote
        if cuts and cuts[0][0].line + 1 <= line:
            (at, meant), others = cuts[0], sorted({m.line + 1 for m, _ in cuts[1:]} - {cuts[0][0].line + 1})
            also = f"; the same on line{'s' * (len(others) > 1)} {', '.join(map(str, others))}" if others else ""
            raise YamlSyntaxError(f"an expression inside {{ }} or [ ] must be quoted in YAML: write {_quoted(meant)} "
                                  f"(unquoted, YAML ends the value at \"{{\"){also}", at.line + 1, at.column + 1) \
                from None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlSyntaxError(f"not valid YAML: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"not valid YAML: {exc}", 1, 1) from None
    except RecursionError:           # a last resort; compose_node bounds the depth first
        raise YamlSyntaxError(f"not valid YAML: nested deeper than {MAX_DEPTH} levels", 1, 1) from None
    return source
