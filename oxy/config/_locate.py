"""Walk a pydantic error `loc` through the model types, to find the data path and the model at each step.

pydantic's `loc` mixes data keys with the tags of union members (`('tasks', 0, 'execute_sql', 'sql')`);
the walk separates them, so an error can be placed on a YAML node and worded with the right model's keys.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag

from oxy.config._yaml import DataPath

__all__ = ["Located", "field_keys", "locate", "member_tags"]

_DISCRIMINATORS = ("type", "vendor")


@dataclass(frozen=True)
class Located:
    path: DataPath
    """The data path: keys and indexes only."""
    owner: type[BaseModel] | None
    """The model whose key is `path[-1]` (for unknown and missing keys)."""
    siblings: tuple[tuple[str, type[BaseModel]], ...]
    """When `owner` was picked from a tagged union: every member by tag (for 'belongs to' hints)."""
    union_tags: tuple[str, ...]
    """When the walk ended on a tagged union: its tags (for missing or unknown `type`)."""
    branch: tuple[DataPath, str] | None
    """When the walk went through a plain union: where it was and which member the error is about."""


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> list[Any] | None:
    if get_origin(tp) in (Union, types.UnionType):
        return [arg for arg in get_args(tp) if arg is not type(None)]
    return None


def _tag_of(member: Any) -> str | None:
    if get_origin(member) is Annotated:
        for meta in get_args(member)[1:]:
            if isinstance(meta, Tag):
                return meta.tag
    model = _strip(member)
    if isinstance(model, type) and issubclass(model, BaseModel):
        for name in _DISCRIMINATORS:
            info = model.model_fields.get(name)
            if info is not None and get_origin(info.annotation) is Literal:
                values = get_args(info.annotation)
                if len(values) == 1 and isinstance(values[0], str):
                    return values[0]
    return None


def member_tags(tp: Any) -> list[tuple[str, Any]]:
    """The tagged members of a union type, `(tag, member type)`; empty for a plain union."""
    members = _union_members(_strip(tp)) or []
    tags = [(_tag_of(m), _strip(m)) for m in members]
    return [(tag, m) for tag, m in tags if tag is not None] if all(t for t, _ in tags) else []


def field_keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts, as written in files (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> Any | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _label_of(member: Any) -> str:
    tp = _strip(member)
    return tp.__name__ if isinstance(tp, type) else repr(tp)


def locate(root: Any, loc: Sequence[str | int]) -> Located:
    """Walk `loc` from the type `root`."""
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    siblings: tuple[tuple[str, type[BaseModel]], ...] = ()
    pending_siblings: tuple[tuple[str, type[BaseModel]], ...] = ()
    branch: tuple[DataPath, str] | None = None
    tp: Any = root
    i = 0
    while True:
        tp = _strip(tp)
        members = _union_members(tp)
        if members is not None and len(members) == 1:
            tp = members[0]
            continue
        if i >= len(loc):
            break
        item = loc[i]
        if members is not None:
            tagged = member_tags(tp)
            chosen = next((m for tag, m in tagged if tag == item), None)
            if chosen is not None:
                pending_siblings = tuple((tag, m) for tag, m in tagged if isinstance(m, type))
                tp = chosen
            else:
                pending_siblings = ()
                if branch is None:
                    branch = (tuple(path), str(item))
                tp = next((m for m in members if _label_of(m) == item), Any)
            i += 1
            continue
        path.append(item)
        i += 1
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner, siblings = tp, pending_siblings
            pending_siblings = ()
            tp = _field(tp, str(item)) or Any
            continue
        origin, args = get_origin(tp), get_args(tp)
        if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
            tp = args[1]
        elif origin is not None and isinstance(origin, type) and issubclass(origin, Sequence) and args:
            tp = args[0]
        else:
            tp = Any
    end_members = _union_members(_strip(tp))
    union_tags = tuple(tag for tag, _ in member_tags(tp)) if end_members else ()
    return Located(tuple(path), owner, siblings, union_tags, branch)
