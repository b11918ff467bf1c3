"""Small pieces shared by agent and workflow files."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from oxy.config._base import StrictModel

__all__ = ["JsonSchemaObject", "RouteRetrievalConfig", "StrList", "Variables"]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


StrList = Annotated[list[str], BeforeValidator(_one_or_many)]
"""A list of strings; a single string is read as a list of one."""

JsonSchemaObject = dict[str, Any]
"""A JSON Schema (draft 7) object, kept as written; oxy reads `type`, `default`, `enum`, `description`."""

Variables = dict[str, JsonSchemaObject]
"""Declared variables, by name, each described by a JSON Schema."""


class RouteRetrievalConfig(StrictModel):
    """Which prompts should (`include`) or should not (`exclude`) retrieve this agent or workflow as a route."""

    include: list[str] = Field(default_factory=list[str])
    exclude: list[str] = Field(default_factory=list[str])
