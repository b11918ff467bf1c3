"""One way in for every entry point (CLI, HTTP, MCP, tests, embedding): run a project file.

`run_file` looks at what the file is (`.sql`, `*.agent.yml`, a workflow), builds the matching
executable through the application's wiring, runs it with the caller in its context, streams its
events to `sink`, and returns the whole run as a `RunResult`: its id, status, output and, for an
agent, the full `AgentAnswer` (every message, tool call count and token usage) in `result.answer`.

```python
runtime = Runtime.for_project(load_project(root), tools=[lookup_order])
result = await run_file(root / "agents/support.agent.yml", runtime=runtime, prompt="Where is order 7?")
print(result.answer.text if result.answer else result.error)
```
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oxy.agents.default import DefaultAgent
from oxy.agents.prompt import prompt_for
from oxy.application.runtime import Runtime
from oxy.application.wiring import build_agent, workflow_task_agent
from oxy.config import load_agent, parse_sql_file
from oxy.config.agent import DefaultAgentConfig
from oxy.errors import ConfigError
from oxy.events.sinks import EventSink
from oxy.execution.agent_io import AgentAnswer, AgentRequest
from oxy.execution.context import Caller, ExecutionContext
from oxy.execution.executable import fn, step
from oxy.execution.input import InputChannel
from oxy.execution.run import RunResult, run_executable
from oxy.execution.sql import ExecuteSql, SqlRequest
from oxy.execution.templates import TemplateOrigin
from oxy.models.messages import Message

if TYPE_CHECKING:
    from oxy.config import AgentConfig, Project
    from oxy.workflows.journal import TaskOutputStore

__all__ = [
    "AGENT_SUFFIX",
    "WORKFLOW_SUFFIXES",
    "relative_name",
    "run_agent_file",
    "run_file",
    "run_sql_file",
    "unused_sql_variables",
]

WORKFLOW_SUFFIXES = (".workflow.yml", ".procedure.yml", ".automation.yml")
AGENT_SUFFIX = ".agent.yml"


def relative_name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


async def run_file(
    path: Path,
    *,
    runtime: Runtime,
    prompt: str | None = None,
    history: Sequence[Message] = (),
    variables: Mapping[str, Any] | None = None,
    database: str | None = None,
    model: str | None = None,
    sink: EventSink | None = None,
    run_id: str | None = None,
    caller: Caller | None = None,
    retry: bool = False,
    retry_from: str | None = None,
    task_outputs: TaskOutputStore | None = None,
    variant: str | None = None,
    input_channel: InputChannel | None = None,
    resume: Sequence[Message] = (),
) -> RunResult[Any]:
    """Run the project file at `path`: a SQL file, an agent (with `prompt`, after `history`) or a workflow.

    A workflow's `variables` are checked against its JSON Schemas; `retry` resumes its last failed
    run and `retry_from` re-runs its last run from that task on (both ignored for other files);
    `task_outputs` records its tasks' outputs somewhere other than the project's run store. An agent
    with `variants` runs `variant` (by name), else one picked by weight, per thread when the caller
    has one. `input_channel` answers when the run asks a person (approvals, questions); `resume`
    continues an agent run that paused (see `AgentRequest.resume`).
    """
    name = path.name
    if name.endswith(".sql"):
        return await run_sql_file(
            path,
            runtime=runtime,
            variables=variables,
            database=database,
            sink=sink,
            run_id=run_id,
            caller=caller,
        )
    if name.endswith(AGENT_SUFFIX):
        return await run_agent_file(
            path,
            runtime=runtime,
            prompt=prompt,
            history=history,
            model=model,
            sink=sink,
            run_id=run_id,
            caller=caller,
            variant=variant,
            input_channel=input_channel,
            resume=resume,
        )
    if name.endswith(WORKFLOW_SUFFIXES):
        # lazy: workflow machinery loads for workflow runs only
        from oxy.workflows.run import run_workflow_file

        def agents(ref: str, *, file: str) -> DefaultAgent:
            return workflow_task_agent(runtime, ref, file=file)

        return await run_workflow_file(
            path,
            runtime=runtime,
            agents=agents,
            variables=variables,
            sink=sink,
            run_id=run_id,
            retry=retry,
            retry_from=retry_from,
            store=task_outputs,
            caller=caller,
            input_channel=input_channel,
        )
    raise ConfigError(
        "oxy run takes a .sql file, an *.agent.yml or a *.workflow.yml / *.procedure.yml / *.automation.yml file",
        file=relative_name(path, runtime.root),
    )


async def run_sql_file(
    path: Path,
    *,
    runtime: Runtime,
    variables: Mapping[str, Any] | None = None,
    database: str | None = None,
    sink: EventSink | None = None,
    run_id: str | None = None,
    caller: Caller | None = None,
) -> RunResult[Any]:
    """Render and run a SQL file against `database`, its front matter's, or the project default."""

    rel = relative_name(path, runtime.root)
    sql_file = parse_sql_file(path, file=rel)
    db_name = database or sql_file.database or runtime.default_database(file=rel)
    runtime.database_config(db_name, file=rel)  # a clear error before anything runs
    text = path.read_text(encoding="utf-8")
    body_line = text[: len(text) - len(sql_file.sql)].count("\n") + 1
    request = SqlRequest(
        sql=sql_file.sql,
        database=db_name,
        variables=dict(variables or {}),
        origin=TemplateOrigin(file=rel, line=body_line),
    )
    return await run_executable(
        ExecuteSql(), request, target=rel, sink=sink, runtime=runtime, caller=caller, run_id=run_id
    )


def unused_sql_variables(path: Path, variables: Mapping[str, Any], *, runtime: Runtime) -> list[str]:
    """One message per variable given for the SQL file at `path` that its template never reads
    (`-v lmit=2` for `{{ limit }}`), with the closest name it does read."""
    rel = relative_name(path, runtime.root)
    sql = parse_sql_file(path, file=rel).sql
    read = runtime.renderer.undeclared_variables(sql) - set(runtime.renderer.globals)
    messages: list[str] = []
    for name in variables:
        if name in read:
            continue
        close = difflib.get_close_matches(name, sorted(read), n=1)
        if close:
            hint = f" — did you mean {close[0]!r}?"
        elif read:
            hint = f"; it reads: {', '.join(sorted(read))}"
        else:
            hint = "; it reads no variables"
        messages.append(f"{rel}: variable {name!r} is not used by the query{hint}")
    return messages


_AGENT_CONFIGS: dict[Path, tuple[Project, int, int, AgentConfig]] = {}


def _agent_config(path: Path, project: Project) -> AgentConfig:
    """`load_agent(path, project)`, cached per file while its mtime and size stay the same.

    A server runs the same agent file thousands of times; parsing and checking it again each run
    cost about as much as the rest of the request. An edited file (new mtime or size) is loaded
    afresh, so an edit still applies to the next run. Configs are frozen pydantic models.
    """

    try:
        stat = path.stat()
    except OSError:
        return load_agent(path, project)  # says what is wrong, as a ConfigError
    cached = _AGENT_CONFIGS.get(path)
    if cached is not None and cached[0] is project and cached[1:3] == (stat.st_mtime_ns, stat.st_size):
        return cached[3]
    config = load_agent(path, project)
    _AGENT_CONFIGS[path] = (project, stat.st_mtime_ns, stat.st_size, config)
    return config


def agent_prompt_info(
    path: Path, *, runtime: Runtime, key: str | None = None, variant: str | None = None
) -> dict[str, Any] | None:
    """What `run_started` will record about the prompt of the agent at `path` (None for a routing
    agent): its variant `variant` by name, else picked by `key` (a thread id) or at random; pass
    `info["variant"]` on to the run so that it uses the same one."""
    config = _agent_config(path.resolve(), runtime.project)
    if not isinstance(config, DefaultAgentConfig):
        return None
    rel = relative_name(path, runtime.root)
    return prompt_for(config, root=runtime.root, file=rel, name=variant, key=key)[1].info


async def run_agent_file(
    path: Path,
    *,
    runtime: Runtime,
    prompt: str | None,
    model: str | None = None,
    history: Sequence[Message] = (),
    sink: EventSink | None = None,
    run_id: str | None = None,
    caller: Caller | None = None,
    variant: str | None = None,
    input_channel: InputChannel | None = None,
    resume: Sequence[Message] = (),
) -> RunResult[Any]:
    """Ask the agent at `path` a question. The run's output (and its `run_finished` event) is the
    answer's text; `result.answer` is the whole `AgentAnswer`. `run_started` records the prompt the
    agent used (and its variant: `variant` by name, else by weight, sticky per thread)."""
    rel = relative_name(path, runtime.root)
    if not prompt:
        raise ConfigError("an agent needs a question: oxy run " + rel + ' "your question"')
    config = _agent_config(path.resolve(), runtime.project)
    thread = caller.thread_id if caller is not None else None
    agent = build_agent(
        rel, runtime=runtime, model_name=model, config=config, variant=variant, variant_key=thread
    )
    answers: list[AgentAnswer] = []

    async def answer(ctx: ExecutionContext, request: AgentRequest) -> str:
        answers.append(await agent.execute(ctx, request))
        return answers[-1].text

    executable = step(fn(answer), name=agent.name, step_type="agent")
    request = AgentRequest(prompt=prompt, history=tuple(history), resume=tuple(resume))
    result = await run_executable(
        executable,
        request,
        target=rel,
        sink=sink,
        runtime=runtime,
        caller=caller,
        run_id=run_id,
        prompt=agent.prompt.info if isinstance(agent, DefaultAgent) else None,
        input_channel=input_channel,
    )
    return dataclasses.replace(result, answer=answers[-1]) if answers and result.status == "ok" else result
