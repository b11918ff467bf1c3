"""Wiring agents, workflows and tools together: the one place that knows all three.

An agent's `agent` and `workflow` tools, a routing agent's routes and fallback, and a workflow's
`agent` tasks each run another project file as a nested step. The layers below only take callables
(`Delegates` for tools, an agent factory for workflows); this module builds what they call:

- `build_agent(ref, runtime=)`: a `DefaultAgent` with its toolsets, or a `RoutingAgent` with its
  route tools and fallback, on the runtime's model client.
- `ProjectDelegates(runtime)`: asks agents and runs workflows for tools; each nested agent or
  workflow is built on its first call (its config was checked for cycles when the outer one was built).
- `build_project_workflow(...)`: a workflow whose `agent` tasks get agents from `build_agent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oxy.agents.default import DefaultAgent, agent_name_from_file
from oxy.agents.prompt import prompt_for
from oxy.agents.route_select import RoutePreselector, RouteTexts
from oxy.agents.routes import Route, file_kind, resolve_routes
from oxy.agents.routing import RoutingAgent
from oxy.application.cycles import check_no_cycles
from oxy.application.route_tools import route_tools
from oxy.application.runtime import Runtime
from oxy.application.toolsets import agent_toolsets
from oxy.config.agent import DefaultAgentConfig, RoutingAgentConfig
from oxy.config.tools import MemoryTool
from oxy.config.workflow import WorkflowConfig
from oxy.errors import ConfigError, NotSupported, ToolError
from oxy.execution.agent_io import AgentAnswer, AgentRequest
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, step
from oxy.models.embeddings import embedder_for
from oxy.tools.base import Tool
from oxy.tools.memory import LongTermMemory, memory_toolset
from oxy.tools.registry import AskAgent, RunWorkflow
from oxy.tools.workflow_tool import output_text
from oxy.workflows.builder import WorkflowExecutable, build_workflow
from oxy.workflows.journal import Journal

__all__ = [
    "ProjectDelegates",
    "build_agent",
    "build_project_workflow",
    "pick_output",
    "run_agent_step",
    "workflow_task_agent",
]

Agent = DefaultAgent | RoutingAgent

_QUESTION_VARIABLES = ("prompt", "question", "query", "input")


def build_agent(
    ref: str,
    *,
    runtime: Runtime,
    model_name: str | None = None,
    config: DefaultAgentConfig | RoutingAgentConfig | None = None,
    variant: str | None = None,
    variant_key: str | None = None,
) -> Agent:
    """The agent in file `ref` (project-relative): a `DefaultAgent` or, for `type: routing`, a `RoutingAgent`.

    An agent with `variants` runs one of them: `variant` by name, else one picked by weight (by a hash
    of `variant_key`, a thread id, when given); `model_name` overrides the variant's model too."""
    project = runtime.project
    file = project.relative(ref)
    config = config if config is not None else project.agent(file)
    prompt = None
    if isinstance(config, DefaultAgentConfig):
        config, prompt = prompt_for(config, root=runtime.root, file=file, name=variant, key=variant_key)
    elif variant is not None:
        raise ConfigError(f"a routing agent has no variants (asked for {variant!r})", file=file)
    model = runtime.model_client(model_name or config.model, file=file)
    delegates = ProjectDelegates(runtime)
    if isinstance(config, RoutingAgentConfig):
        check_no_cycles(project, file)
        routes, skipped = resolve_routes(config, project=project, file=file)
        fallback = (
            _fallback(project.relative(config.route_fallback), runtime=runtime)
            if config.route_fallback is not None
            else None
        )
        tools = route_tools(routes, runtime=runtime, delegates=delegates)
        return RoutingAgent(
            config,
            file=file,
            root=runtime.root,
            model=model,
            routes=tools,
            skipped=skipped,
            fallback=fallback,
            preselect=_preselector(config, routes, tools, runtime=runtime),
        )
    toolsets = agent_toolsets(
        config.tools, runtime=runtime, file=file, delegates=delegates, permissions=config.permissions
    )
    memory = config.memory
    summarizer = (
        runtime.model_client(memory.summary_model, file=file)
        if memory is not None and memory.summary_model is not None
        else None
    )
    long_term = _long_term(config, runtime=runtime)
    if long_term is not None and not any(isinstance(t, MemoryTool) for t in config.tools):
        toolsets = [*toolsets, memory_toolset(long_term, file=file)]  # `memory: {long_term: true}`
    return DefaultAgent(
        config,
        file=file,
        root=runtime.root,
        model=model,
        toolsets=toolsets,
        prompt=prompt,
        summarizer=summarizer,
        long_term=long_term,
    )


def _long_term(config: DefaultAgentConfig, *, runtime: Runtime) -> LongTermMemory | None:
    """The agent's long-term memory: its `type: memory` tool's, or `memory: {long_term: true}`'s."""
    tool = next((t for t in config.tools if isinstance(t, MemoryTool)), None)
    if tool is None and (config.memory is None or not config.memory.long_term):
        return None
    embed_model, top_k = (tool.embed_model, tool.top_k) if tool is not None else ("local", 5)
    return LongTermMemory(embedder_for(embed_model, models=runtime.project.config.models), top_k=top_k)


def _preselector(
    config: RoutingAgentConfig, routes: Sequence[Route], tools: Sequence[Tool], *, runtime: Runtime
) -> RoutePreselector | None:
    """With more routes than `top_k` and an `embed_model` set: embeddings pick the routes offered
    (each route's description and its target's `retrieval.include`/`exclude` prompts)."""
    if len(tools) <= config.top_k or "embed_model" not in config.model_fields_set:
        return None  # Oxy embeds with OpenAI by default; oxy only when asked, so offline stays offline
    texts: list[RouteTexts] = []
    for route, tool in zip(routes, tools, strict=True):
        retrieval = None
        if route.kind == "agent":
            retrieval = runtime.project.agent(route.file).retrieval
        elif route.kind == "workflow":
            retrieval = runtime.project.workflow(route.file).retrieval
        include = (tool.description, *(retrieval.include if retrieval else ()))
        texts.append(RouteTexts(tool.name, include, tuple(retrieval.exclude) if retrieval else ()))
    models = runtime.project.config.models
    embedder = embedder_for(config.embed_model, models=models, key_var="OPENAI_API_KEY", dims=config.n_dims)
    return RoutePreselector(embedder, texts, top_k=config.top_k)


async def run_agent_step(ctx: ExecutionContext, agent: Agent, request: AgentRequest) -> AgentAnswer:
    """Run `agent` as a nested step of `ctx` (`step_type="agent"`)."""
    inner: Executable[AgentRequest, AgentAnswer] = agent
    return await step(inner, name=agent.name, step_type="agent").execute(ctx, request)


class ProjectDelegates:
    """`oxy.tools.registry.Delegates` for one runtime: what agent and workflow tools call."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def ask_agent(self, ref: str) -> AskAgent:
        runtime = self.runtime
        built: list[Agent] = []

        async def ask(ctx: ExecutionContext, prompt: str) -> str:
            if not built:
                built.append(build_agent(ref, runtime=runtime))
            answer = await run_agent_step(ctx, built[0], AgentRequest(prompt=prompt))
            return answer.text

        return ask

    def agent_description(self, ref: str) -> str:
        """The agent's own `description`, or a sentence naming it."""
        config = self.runtime.project.agent(ref)
        name = config.name or agent_name_from_file(ref)
        return config.description.strip() or f"Ask the {name} agent ({ref}) a question; it answers in text."

    def run_workflow(self, ref: str, *, output_task: str | None = None) -> RunWorkflow:
        runtime = self.runtime
        file = runtime.project.relative(ref)
        built: list[WorkflowExecutable] = []

        async def run(ctx: ExecutionContext, variables: dict[str, Any]) -> Any:
            config = runtime.project.workflow(file)
            if not built:
                built.append(build_project_workflow(config, file=file, runtime=runtime))
            # The workflow runs as its own step (`step_type="workflow"`): `(outer, tool, workflow, task, ...)`.
            outputs = await built[0].execute(ctx, variables)
            return pick_output(outputs, config, output_task=output_task, file=file)

        return run

    def workflow_variables(self, ref: str) -> Mapping[str, Any]:
        """The workflow's declared variables (JSON Schemas by name)."""
        return dict(self.runtime.project.workflow(ref).variables or {})

    def workflow_description(self, ref: str) -> str:
        config = self.runtime.project.workflow(ref)
        name = config.name or ref
        return config.description.strip() or f"Run the {name} workflow ({ref}) and return its result."


def build_project_workflow(
    config: WorkflowConfig, *, file: str, runtime: Runtime, journal: Journal | None = None
) -> WorkflowExecutable:
    """`build_workflow` with this runtime's agents for its `agent` tasks."""

    def agents(ref: str, *, file: str) -> DefaultAgent:
        return workflow_task_agent(runtime, ref, file=file)

    return build_workflow(config, file=file, runtime=runtime, agents=agents, journal=journal)


def workflow_task_agent(runtime: Runtime, ref: str, *, file: str) -> DefaultAgent:
    """The agent of a workflow's `agent` task (`file` is the workflow's): a default agent only."""
    rel = runtime.project.relative(ref)
    config = runtime.project.agent(ref)
    if not isinstance(config, DefaultAgentConfig):
        raise NotSupported(f"{file}: agent task: routing agent {rel!r} cannot run as a workflow task yet")
    agent = build_agent(rel, runtime=runtime, config=config)
    assert isinstance(agent, DefaultAgent)
    return agent


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


def _fallback(ref: str, *, runtime: Runtime) -> Executable[AgentRequest, AgentAnswer]:
    """A routing agent's `route_fallback` as an agent: an agent file, or a workflow given the question."""
    if file_kind(ref) == "workflow":
        return _WorkflowFallback(ref, runtime=runtime)
    return _AgentFallback(ref, runtime=runtime)


class _AgentFallback(Executable[AgentRequest, AgentAnswer]):
    def __init__(self, ref: str, *, runtime: Runtime) -> None:
        self._ref = ref
        self._runtime = runtime
        self._agent: Agent | None = None

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        if self._agent is None:
            self._agent = build_agent(self._ref, runtime=self._runtime)
        return await run_agent_step(ctx, self._agent, input)


class _WorkflowFallback(Executable[AgentRequest, AgentAnswer]):
    """The workflow gets the question in its `prompt`/`question`/`query`/`input` variable, or its only one."""

    def __init__(self, ref: str, *, runtime: Runtime) -> None:
        self._ref = ref
        self._delegates = ProjectDelegates(runtime)
        self._run = self._delegates.run_workflow(ref)  # loads the workflow on its first call

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer:
        declared = self._delegates.workflow_variables(self._ref)
        output = await self._run(ctx, _question_variables(declared, input.prompt))
        text = output_text(output, max_rows=ctx.limits.model_rows)
        return AgentAnswer(text=text, messages=(), tool_calls=0)


def _question_variables(declared: Mapping[str, Any], question: str) -> dict[str, Any]:
    for name in _QUESTION_VARIABLES:
        if name in declared:
            return {name: question}
    if len(declared) == 1:
        return {next(iter(declared)): question}
    return {}
