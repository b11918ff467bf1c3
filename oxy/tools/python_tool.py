"""`type: python` tools: a Python function (sync or async) from the project or an installed package.

```yaml
tools:
  - type: python
    function: tools.weather:forecast   # tools/weather.py in the project folder
```
The signature is the arguments' schema, the docstring the description (see `FunctionTool`). A sync
function runs in a worker thread; a result that is not text goes to the model as JSON.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from oxy.config.python_refs import resolve_callable
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import ToolBuild, tool_type

if TYPE_CHECKING:
    from oxy.config.tools import PythonTool

__all__ = ["python_tool"]


def python_tool(
    function: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> Tool:
    """A tool from a plain Python function, sync or async, returning anything JSON can hold."""
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def call(*args: Any, **kwargs: Any) -> str:
            return _text(await function(*args, **kwargs))

    else:

        @functools.wraps(function)
        async def call(*args: Any, **kwargs: Any) -> str:
            run = functools.partial(function, *args, **kwargs)
            return _text(await anyio.to_thread.run_sync(run))

    return FunctionTool(call, name=name or function.__name__, description=description)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


@tool_type("python")
def _build(config: PythonTool, build: ToolBuild) -> Tool:
    function = resolve_callable(config.function, root=build.runtime.root, file=build.file)
    return python_tool(function, name=config.name, description=config.description)
