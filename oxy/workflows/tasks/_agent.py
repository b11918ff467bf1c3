"""`agent`: ask an agent (`agent_ref`) the rendered `prompt`; its final answer is the output.

With `consistency_run: N` the agent answers N times and a judge picks the answer the others agree
with most (`{{ task.value }}`, `{{ task.score }}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxy.config.workflow import AgentTask
from oxy.execution.agent_io import AgentRequest
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, fn, retry, step
from oxy.workflows._registry import TaskBuilder, WorkflowAgent, task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import Origins, arender_value
from oxy.workflows.tasks._consistency import most_consistent

if TYPE_CHECKING:
    from oxy.config._yaml import DataPath


@task_type("agent")
class AgentTaskRunner(Task):
    config: AgentTask

    def __init__(
        self, config: AgentTask, *, builder: TaskBuilder, file: str, origins: Origins, at: DataPath
    ) -> None:
        super().__init__(config, builder=builder, file=file, origins=origins, at=at)
        self._builder = builder
        self._agent: WorkflowAgent | None = None
        self._ask: Executable[str, str] | None = None
        self.text_output = config.consistency_run <= 1

    def agent(self) -> WorkflowAgent:
        if self._agent is None:
            self._agent = self._builder.agent(self.config.agent_ref, file=self.file)
        return self._agent

    def _asker(self) -> Executable[str, str]:
        if self._ask is None:
            agent = self.agent()

            async def answer(ctx: ExecutionContext, prompt: str) -> str:
                return (await agent.execute(ctx, AgentRequest(prompt=prompt))).text

            self._ask = retry(
                step(fn(answer), name=agent.name, step_type="agent"), attempts=max(1, self.config.retry)
            )
        return self._ask

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        config = self.config
        ctx = ctx.unstreamed()  # each answer shows when its task finishes: nobody reads it token by token
        renderer = ctx.runtime.renderer
        prompt = await renderer.arender(
            config.prompt, ctx.variables, origin=self.origins.of((*self.at, "prompt"))
        )
        if config.variables:
            extra: dict[str, Any] = await arender_value(
                renderer, config.variables, ctx.variables, origin=self.origins.of((*self.at, "variables"))
            )
            ctx = ctx.with_variables(extra)
        ask = self._asker()
        if config.consistency_run <= 1:
            return TaskOutcome(output=await ask.execute(ctx, prompt))

        agent = self.agent()
        judge_prompt = config.consistency_prompt or ctx.runtime.project.workflow(self.file).consistency_prompt
        result = await most_consistent(
            ctx,
            ask,
            prompt,
            runs=config.consistency_run,
            judge=agent.model,
            judge_prompt=judge_prompt,
        )
        return TaskOutcome(output=result)
