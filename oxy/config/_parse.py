"""Validate a parsed YAML document as one file kind; errors come back as `ConfigErrors` with positions."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from pydantic import TypeAdapter, ValidationError

from oxy.config._issues import ConfigErrors
from oxy.config._validation_errors import translate_validation_error
from oxy.config._yaml import YamlDocument
from oxy.errors import ConfigError

if TYPE_CHECKING:
    from oxy.config.agent import AgentConfig
    from oxy.config.agent_test import AgentTestFile
    from oxy.config.evals import EvalDataset
    from oxy.config.project import ProjectConfig
    from oxy.config.workflow import WorkflowConfig

__all__ = ["parse_agent", "parse_agent_test", "parse_config", "parse_eval_dataset", "parse_workflow"]

# kind -> (module, root type, what an empty file is missing; None when an empty file is valid).
# Modules import on first use, so running one agent never builds the workflow models.
_KINDS: dict[str, tuple[str, str, str | None]] = {
    "config.yml": ("project", "ProjectConfig", None),
    "agent": ("agent", "AgentConfig", "at least 'model' and 'system_instructions'"),
    "workflow": ("workflow", "WorkflowConfig", "at least 'tasks'"),
    "agent test": ("agent_test", "AgentTestFile", "at least 'cases'"),
    "eval dataset": ("evals", "EvalDataset", "a list of records with 'query' and 'response'"),
}


@cache
def _root(kind: str) -> tuple[Any, TypeAdapter[Any]]:
    module, name, _ = _KINDS[kind]
    root = getattr(importlib.import_module(f"oxy.config.{module}"), name)
    return root, TypeAdapter(root)


def _validate(doc: YamlDocument, kind: str) -> Any:
    needs = _KINDS[kind][2]
    root, adapter = _root(kind)
    data = doc.data
    if data is None and needs is None:
        data = {}
    elif data is None:
        article = "an" if kind[:1] in "aeiou" else "a"
        raise ConfigError(f"the file is empty; {article} {kind} file needs {needs}", file=doc.file, line=1)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise ConfigErrors(translate_validation_error(exc, root, doc, kind=kind)) from None


def parse_config(doc: YamlDocument) -> ProjectConfig:
    return cast("ProjectConfig", _validate(doc, "config.yml"))


def parse_agent(doc: YamlDocument) -> AgentConfig:
    return cast("AgentConfig", _validate(doc, "agent"))


def parse_workflow(doc: YamlDocument) -> WorkflowConfig:
    return cast("WorkflowConfig", _validate(doc, "workflow"))


def parse_agent_test(doc: YamlDocument) -> AgentTestFile:
    return cast("AgentTestFile", _validate(doc, "agent test"))


def parse_eval_dataset(doc: YamlDocument) -> EvalDataset:
    return cast("EvalDataset", _validate(doc, "eval dataset"))
