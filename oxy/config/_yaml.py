"""YAML loading that remembers where every key and value sits, so errors can name a line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oxy.errors import ConfigError

try:  # libyaml is several times faster; fall back to the pure-Python parser where it is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

__all__ = ["DataPath", "Position", "YamlDocument", "format_path", "load_yaml", "parse_yaml"]

DataPath = tuple[str | int, ...]
"""Where a value sits in a document: mapping keys and list indexes, outermost first."""


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column of a node."""

    line: int
    column: int


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data, and the position of each key and value by data path."""

    file: str
    """The file as errors name it: relative to the project root."""
    data: Any
    values: dict[DataPath, Position] = field(default_factory=dict[DataPath, Position], repr=False)
    keys: dict[DataPath, Position] = field(default_factory=dict[DataPath, Position], repr=False)

    def position(self, path: DataPath, *, at_key: bool = False) -> Position | None:
        """Where `path` is written; the nearest enclosing node that exists when `path` itself does not."""
        if at_key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def error(self, message: str, path: DataPath = (), *, at_key: bool = False) -> ConfigError:
        """A `ConfigError` located at `path` in this file."""
        pos = self.position(path, at_key=at_key)
        return ConfigError(
            message,
            file=self.file,
            line=None if pos is None else pos.line,
            column=None if pos is None else pos.column,
            key=format_path(path) or None,
        )


def format_path(path: DataPath) -> str:
    """`('tasks', 2, 'database')` -> `tasks[2].database`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: Path, *, file: str) -> YamlDocument:
    """Read and parse the YAML file at `path`; errors name it `file`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=file) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"file is not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", file=file) from None
    return parse_yaml(text, file=file)


def parse_yaml(text: str, *, file: str) -> YamlDocument:
    """Parse one YAML document; an empty document is `None`. Raises `ConfigError` for broken YAML."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(file=file, data=None)
        _check_expansion(node, file=file)
        doc = YamlDocument(file=file, data=loader.construct_document(node))
        _index(node, (), doc, set())
        return doc
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


MAX_EXPANDED_NODES = 100_000
"""Values a document may hold once its aliases are expanded: a 'billion laughs' document of nested
aliases is tiny to parse but expands (in JSON, an API response, a template) to gigabytes."""
MAX_EXPANDED_CHARS = 20_000_000
"""Characters of text a document may hold once its aliases are expanded (a long string repeated by
aliases weighs its length each time)."""


def _check_expansion(root: yaml.Node, *, file: str) -> None:
    """Refuse a document whose aliases expand past `MAX_EXPANDED_NODES` (counted without expanding)."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # children before parents, each node once: an alias is a shared node
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in sizes:
            continue
        sizes[id(node)] = 0
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    chars: dict[int, int] = {}
    for node in order:
        total = 1 + sum(sizes.get(id(child), 0) for child in _children(node))
        text = (len(str(node.value)) if isinstance(node, yaml.ScalarNode) else 0) + sum(
            chars.get(id(child), 0) for child in _children(node)
        )
        sizes[id(node)], chars[id(node)] = total, text
        if total > MAX_EXPANDED_NODES or text > MAX_EXPANDED_CHARS:
            what = (
                f"more than {MAX_EXPANDED_NODES:,} values"
                if total > MAX_EXPANDED_NODES
                else f"more than {MAX_EXPANDED_CHARS:,} characters"
            )
            raise ConfigError(
                f"the document expands to {what} through its aliases (`*name`); write the values out, "
                "or use fewer nested aliases",
                file=file,
                line=node.start_mark.line + 1,
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_HINTS = (
    (
        "mapping values are not allowed",
        "check this line's indentation against the line above (a key indented deeper than its siblings), "
        "or quote a value that contains ': '",
    ),
    ("did not find expected key", "check this line's indentation: it should line up with the keys above it"),
    (
        "expected '-' indicator",
        "check this line's indentation: it should line up with the list items above it",
    ),
    ("cannot start any token", "YAML indents with spaces, not tabs; quote a value that starts with @ or `"),
)


def _yaml_error(exc: yaml.MarkedYAMLError, file: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
    hint = next((hint for needle, hint in _HINTS if needle in problem), None)
    if hint:
        problem = f"{problem} — {hint}"
    return ConfigError(
        f"invalid YAML: {problem}",
        file=file,
        line=None if mark is None else mark.line + 1,
        column=None if mark is None else mark.column + 1,
    )


def _index(node: yaml.Node, path: DataPath, doc: YamlDocument, seen_nodes: set[int]) -> None:
    doc.values[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in seen_nodes:  # an alias (`*name`): its anchor was indexed already, and may contain itself
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = _scalar_key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"duplicate key {key!r} (first written at line {seen[key]}); keep one",
                    file=doc.file,
                    line=line,
                    column=key_node.start_mark.column + 1,
                    key=format_path((*path, key)),
                )
            seen[key] = line
            child = (*path, key)
            doc.keys[child] = Position(line, key_node.start_mark.column + 1)
            _index(value_node, child, doc, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), doc, seen_nodes)


def _scalar_key(node: yaml.ScalarNode) -> str:
    """The key as it appears in the constructed data (`1:` becomes 1 there; paths keep it as text)."""
    return str(node.value)
