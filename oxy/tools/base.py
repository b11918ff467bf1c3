"""The tool seam: what a model can call, and how a typed Python function becomes one.

A `Tool` has a name, a description, a JSON Schema for its arguments and one async method. Most
tools are written as typed functions and wrapped by `FunctionTool`: the argument schema is
generated from the signature (pydantic), arguments are validated against it before the call,
and a bad argument comes back to the model as a readable error it can correct.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.models.messages import ToolDefinition


class Tool(ABC):
    """Something a model can call by name with JSON arguments; returns the text the model sees."""

    name: str
    description: str

    @abstractmethod
    def parameters(self) -> Mapping[str, Any]:
        """The JSON Schema (an object) of the arguments."""

    @abstractmethod
    async def call(self, ctx: ExecutionContext, arguments: str) -> str:
        """Run with `arguments` (the JSON text the model wrote). Raise `ToolError` (or any `OxyError`)
        to hand the model an error it can act on."""

    def definition(self) -> ToolDefinition:
        return ToolDefinition(name=self.name, description=self.description, parameters=self.parameters())


def json_arguments(arguments: str) -> dict[str, Any]:
    """The JSON object a model wrote as a tool's arguments (empty text is `{}`); anything else is a
    `ToolError` telling the model what to send."""
    try:
        raw: Any = json.loads(arguments or "{}")
    except ValueError as exc:
        raise ToolError(f"The arguments are not valid JSON ({exc}); send a JSON object.") from None
    if not isinstance(raw, dict):
        raise ToolError(f"The arguments must be a JSON object, got {type(raw).__name__}.")
    return {str(k): v for k, v in raw.items()}  # pyright: ignore[reportUnknownVariableType]


ToolFunction = Callable[..., Awaitable[str]]


class FunctionTool(Tool):
    """A tool made from `async def f(ctx, *, a: int, b: str = "x") -> str`; `ctx` is optional."""

    def __init__(
        self,
        function: ToolFunction,
        *,
        name: str | None = None,
        description: str | None = None,
        arguments_grammar: Callable[[], str | None] | None = None,
    ) -> None:
        self._function = function
        self._arguments_grammar = arguments_grammar
        self.name = name or function.__name__
        self.description = description if description is not None else inspect.getdoc(function) or ""
        self._args_model, self._takes_ctx = _arguments_model(function, self.name)
        self._schema = _clean_schema(self._args_model.model_json_schema())

    def parameters(self) -> Mapping[str, Any]:
        return self._schema

    def definition(self) -> ToolDefinition:
        return ToolDefinition(
            name=self.name,
            description=self.description,
            parameters=self._schema,
            arguments_grammar=self._arguments_grammar,
        )

    async def call(self, ctx: ExecutionContext, arguments: str) -> str:
        raw = json_arguments(arguments)
        try:
            parsed = self._args_model.model_validate(raw)
        except ValidationError as exc:
            raise ToolError(f"Invalid arguments for {self.name}: {_summarise(exc)}") from None
        kwargs = {field: getattr(parsed, field) for field in type(parsed).model_fields}
        if self._takes_ctx:
            return await self._function(ctx, **kwargs)
        return await self._function(**kwargs)


def _arguments_model(function: ToolFunction, name: str) -> tuple[type[BaseModel], bool]:
    signature = inspect.signature(function)
    hints = get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    takes_ctx = False
    for index, param in enumerate(signature.parameters.values()):
        if index == 0 and hints.get(param.name) is ExecutionContext:
            takes_ctx = True
            continue
        annotation = hints.get(param.name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (annotation, default)
    model = create_model(  # pyright: ignore[reportCallIssue, reportUnknownVariableType]
        f"{name}_arguments",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model, takes_ctx  # pyright: ignore[reportUnknownVariableType]


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles: models don't need them and they cost prompt tokens."""
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)  # pyright: ignore[reportUnknownMemberType]
    schema.setdefault("properties", {})
    return schema


def _summarise(exc: ValidationError) -> str:
    parts: list[str] = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
