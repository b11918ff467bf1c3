"""`{{ context.<name> }}` for an agent's templates: file contexts are lists of file contents,
semantic_model contexts are the parsed YAML object. Each loads on first use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from oxy.config._paths import confine, confine_glob
from oxy.config.agent import AgentContext, FileContext, SemanticModelContext
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.execution.templates import TemplateOrigin


class ContextView:
    """Attribute access by context name; the files are read only when a template names them."""

    def __init__(self, contexts: Sequence[AgentContext], *, root: Path, file: str) -> None:
        self._contexts = {c.name: c for c in contexts}
        self._root = root
        self._file = file
        self._loaded: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._contexts:
            raise AttributeError(name)
        if name not in self._loaded:
            self._loaded[name] = self._load(self._contexts[name])
        return self._loaded[name]

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Any:
        return iter(self._contexts)

    def _load(self, context: AgentContext) -> Any:
        if isinstance(context, FileContext):
            return [path.read_text() for path in self._files(context)]
        return self._semantic_model(context)

    def _files(self, context: FileContext) -> list[Path]:
        patterns = [context.src] if isinstance(context.src, str) else list(context.src)
        what = f"context {context.name!r}: src"
        paths: list[Path] = []
        for pattern in patterns:
            matched = confine_glob(self._root, pattern, what=what, file=self._file)
            if not matched:
                raise ConfigError(
                    f"context {context.name!r}: src {pattern!r} matches no file under the project root",
                    file=self._file,
                )
            paths.extend(matched)
        return paths

    def _semantic_model(self, context: SemanticModelContext) -> Any:
        path = confine(self._root, context.src, what=f"context {context.name!r}: src", file=self._file)
        try:
            return yaml.safe_load(path.read_text())
        except OSError:
            raise ConfigError(
                f"context {context.name!r}: semantic model {context.src!r} not found", file=self._file
            ) from None
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"context {context.name!r}: {context.src} is not valid YAML: {exc}", file=self._file
            ) from None


async def render_instructions(
    ctx: ExecutionContext,
    template: str,
    *,
    contexts: ContextView,
    tools: Mapping[str, str],
    origin: TemplateOrigin,
    defaults: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
) -> str:
    """An agent's `system_instructions` against its prompt file's `defaults`, then the run's
    variables, then its variant's `values`, `{{ context.* }}` and `{{ tools }}` (name → description);
    off the event loop when they name databases or contexts."""
    variables: dict[str, Any] = {
        **(defaults or {}),
        **ctx.variables,
        **(values or {}),
        "context": contexts,
        "tools": dict(tools),
    }
    return await ctx.runtime.renderer.arender(template, variables, origin=origin)
