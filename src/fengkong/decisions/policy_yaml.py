"""YAML that remembers where each value came from, so a policy error names the file and the line.

:func:`load_located` parses with PyYAML's safe loader, but every mapping becomes a :class:`LocatedMap`: a
``dict`` that also knows the line it starts on and the line of each key's value. Duplicate keys (which
plain YAML loaders silently overwrite) are refused with both lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from fengkong.errors import InputError


class PolicyError(InputError):
    """A policy file that does not load: names the file, the line and the problem."""

    def __init__(self, message: str, *, path: str, line: int, where: str = "") -> None:
        self.path = path
        self.line = line
        self.where = where
        location = f"{path}:{line}" + (f" {where}" if where else "")
        super().__init__(message, field=location)


class LocatedMap(dict[str, Any]):
    """A mapping from a YAML file with the line it starts on and the line of each key."""

    line: int
    key_lines: dict[str, int]


class _LocatedLoader(yaml.SafeLoader):
    """The safe loader, building :class:`LocatedMap` for mappings and refusing duplicate keys."""

    source_name = "<policy>"


def _construct_map(loader: _LocatedLoader, node: yaml.MappingNode) -> Iterator[LocatedMap]:
    data = LocatedMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise PolicyError(
                f"keys must be text, got {key!r}",
                path=loader.source_name,
                line=key_node.start_mark.line + 1,
            )
        if key in data:
            raise PolicyError(
                f"duplicate key {key!r} (first on line {data.key_lines[key]})",
                path=loader.source_name,
                line=key_node.start_mark.line + 1,
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = value_node.start_mark.line + 1


_LocatedLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def load_located(text: str, source_name: str) -> LocatedMap:
    """The document in ``text`` (named ``source_name`` in errors); its top level must be a mapping."""
    loader = _LocatedLoader(text)
    loader.source_name = source_name
    try:
        document = loader.get_single_data()
    except PolicyError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise PolicyError(
            f"not valid YAML: {error.problem or error.context}", path=source_name, line=line
        ) from None
    except yaml.YAMLError as error:
        raise PolicyError(f"not valid YAML: {error}", path=source_name, line=1) from None
    finally:
        loader.dispose()
    if not isinstance(document, LocatedMap):
        raise PolicyError("a policy file is a mapping of sections", path=source_name, line=1)
    return document


def read_policy_text(path: Path, bytes_max: int) -> str:
    """The text of a policy file, refused (naming the file) when missing, too large or not UTF-8."""
    name = str(path)
    if not path.is_file():
        raise PolicyError("no such file", path=name, line=0)
    size = path.stat().st_size
    if size > bytes_max:
        raise PolicyError(f"{size} bytes, over policy_file_bytes_max={bytes_max}", path=name, line=0)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError(f"not UTF-8: {error}", path=name, line=0) from None
