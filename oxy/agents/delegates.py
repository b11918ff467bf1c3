"""Running another agent or workflow as a nested step of this one: what agent/workflow tools,
routes and a routing agent's fallback call.

A nested agent is built on its first call (its config was loaded and checked for cycles when the
outer agent was built) and runs as a step, so its events carry `(outer, tool, inner, ...)` sources.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxy.agents.default import AgentRequest, DefaultAgent, agent_name_from_file
from oxy.agents.react import AgentAnswer
from oxy.config.agent import RoutingAgentConfig
from oxy.config.workflow import WorkflowConfig
from oxy.errors import NotSupported, ToolError
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, step
from oxy.runtime import Runtime
from oxy.tools.agent_tool import AskAgent
from oxy.tools.workflow_tool import RunWorkflow

if TYPE_CHECKING:
    from oxy.agents.routing import RoutingAgent

__all__ = [
    "agent_asker",
    "agent_description",
    "build_agent",
    "pick_output",
    "run_agent_step",
    "workflow_description",
    "workflow_runner",
    "workflow_variables",
]


def build_agent(ref: str, *, runtime: Runtime, model_name: str | None = None) -> DefaultAgent | RoutingAgent:
    """The agent in file `ref` (project-relative): a `DefaultAgent` or, for `type: routing`, a `RoutingAgent`."""
    from oxy.agents.routing import RoutingAgent

    file = runtime.project.relative(ref)
    config = runtime.project.agent(file)
    if isinstance(config, RoutingAgentConfig):
        return RoutingAgent(config, file=file, runtime=runtime, model_name=model_name)
    return DefaultAgent(config, file=file, runtime=runtime, model_name=model_name)


def agent_asker(ref: str, *, runtime: Runtime) -> AskAgent:
    """Ask the agent in `ref` a question as a nested step; the agent is built on the first call."""
    built: list[DefaultAgent | RoutingAgent] = []

    async def ask(ctx: ExecutionContext, prompt: str) -> str:
        answer = await run_agent_step(ctx, _agent(), AgentRequest(prompt=prompt))
        return answer.text

    def _agent() -> DefaultAgent | RoutingAgent:
        if not built:
            built.append(build_agent(ref, runtime=runtime))
        return built[0]

    return ask


async def run_agent_step(
    ctx: ExecutionContext, agent: DefaultAgent | RoutingAgent, request: AgentRequest
) -> AgentAnswer:
    inner: Executable[AgentRequest, AgentAnswer] = agent
    return await step(inner, name=agent.name, step_type="agent").execute(ctx, request)


def agent_description(ref: str, *, runtime: Runtime) -> str:
    """The agent's own `description`, or a sentence naming it."""
    config = runtime.project.agent(ref)
    name = config.name or agent_name_from_file(ref)
    return config.description.strip() or f"Ask the {name} agent ({ref}) a question; it answers in text."


def workflow_runner(ref: str, *, runtime: Runtime, output_task: str | None = None) -> RunWorkflow:
    """Run the workflow in `ref` as a nested step; returns `output_task`'s output (default: the last task's)."""
    file = runtime.project.relative(ref)
    built: list[Executable[Any, Any]] = []

    async def run(ctx: ExecutionContext, variables: dict[str, Any]) -> Any:
        config = runtime.project.workflow(file)
        if not built:
            built.append(_build_workflow(config, file=file, runtime=runtime))
        # The workflow runs as its own step (`step_type="workflow"`): `(outer, tool, workflow, task, ...)`.
        outputs = await built[0].execute(ctx, variables)
        return pick_output(outputs, config, output_task=output_task, file=file)

    return run


def workflow_variables(ref: str, *, runtime: Runtime) -> Mapping[str, Any]:
    """The workflow's declared variables (JSON Schemas by name)."""
    return dict(runtime.project.workflow(ref).variables or {})


def workflow_description(ref: str, *, runtime: Runtime) -> str:
    config = runtime.project.workflow(ref)
    name = config.name or ref
    return config.description.strip() or f"Run the {name} workflow ({ref}) and return its result."


def pick_output(outputs: Any, config: WorkflowConfig, *, output_task: str | None, file: str) -> Any:
    """`output_task`'s output, or the last task's."""
    if not isinstance(outputs, Mapping):
        return outputs
    by_name: Mapping[str, Any] = outputs  # pyright: ignore[reportUnknownVariableType]
    if output_task is not None:
        if output_task not in by_name:
            known = ", ".join(repr(k) for k in by_name) or "none"
            raise ToolError(f"{file}: output_task_ref {output_task!r} is not a task that ran; tasks: {known}")
        return by_name[output_task]
    last = config.tasks[-1].name if config.tasks else None
    if last is not None and last in by_name:
        return by_name[last]
    return list(by_name.values())[-1] if by_name else None


def _build_workflow(config: WorkflowConfig, *, file: str, runtime: Runtime) -> Executable[Any, Any]:
    module = importlib.import_module("oxy.workflows")
    build = getattr(module, "build_workflow", None)
    if build is None:
        raise NotSupported(f"{file}: running workflows is not supported in this version of oxy yet")
    executable: Executable[Any, Any] = build(config, file=file, runtime=runtime)
    return executable
