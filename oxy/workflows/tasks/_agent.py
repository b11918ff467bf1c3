"""`agent`: ask an agent (`agent_ref`) the rendered `prompt`; its final answer is the output.

With `consistency_run: N` the agent answers N times and a judge picks the answer the others agree
with most (`{{ task.value }}`, `{{ task.score }}`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxy.config.workflow import AgentTask
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, fn, retry, step
from oxy.runtime import runtime_of
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import Origins, render_value

if TYPE_CHECKING:
    from oxy.agents.default import DefaultAgent
    from oxy.config._yaml import DataPath
    from oxy.workflows.builder import Builder


class AgentTaskRunner(Task):
    config: AgentTask

    def __init__(
        self, config: AgentTask, *, builder: Builder, file: str, origins: Origins, at: DataPath
    ) -> None:
        super().__init__(config, file=file, origins=origins, at=at)
        self._builder = builder
        self._agent: DefaultAgent | None = None
        self._ask: Executable[str, str] | None = None
        self.text_output = config.consistency_run <= 1

    def agent(self) -> DefaultAgent:
        if self._agent is None:
            self._agent = self._builder.agent(self.config.agent_ref, file=self.file)
        return self._agent

    def _asker(self) -> Executable[str, str]:
        if self._ask is None:
            agent = self.agent()

            async def answer(ctx: ExecutionContext, prompt: str) -> str:
                from oxy.agents.default import AgentRequest

                return (await agent.execute(ctx, AgentRequest(prompt=prompt))).text

            self._ask = retry(
                step(fn(answer), name=agent.name, step_type="agent"), attempts=max(1, self.config.retry)
            )
        return self._ask

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        config = self.config
        renderer = runtime_of(ctx).renderer
        prompt = renderer.render(config.prompt, ctx.variables, origin=self.origins.of((*self.at, "prompt")))
        if config.variables:
            extra: dict[str, Any] = render_value(
                renderer, config.variables, ctx.variables, origin=self.origins.of((*self.at, "variables"))
            )
            ctx = ctx.with_variables(extra)
        ask = self._asker()
        if config.consistency_run <= 1:
            return TaskOutcome(output=await ask.execute(ctx, prompt))
        from oxy.agents.models import model_client
        from oxy.workflows.tasks._consistency import most_consistent

        runtime = runtime_of(ctx)
        agent = self.agent()
        judge_prompt = config.consistency_prompt or runtime.project.workflow(self.file).consistency_prompt
        result = await most_consistent(
            ctx,
            ask,
            prompt,
            runs=config.consistency_run,
            judge=model_client(runtime, agent.config.model, file=agent.file),
            judge_prompt=judge_prompt,
        )
        return TaskOutcome(output=result)
