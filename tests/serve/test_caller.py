"""A served run's tools see who asked: the tenant of the key, the thread, the OpenAI `user`; and the
project's run store through `ctx.runtime`."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio

MODULE = '''
import anyio

from oxy.execution.context import ExecutionContext


async def whoami(ctx: ExecutionContext) -> str:
    """Who is asking."""
    store = await anyio.to_thread.run_sync(ctx.runtime.store)
    c = ctx.caller
    return f"tenant={c.tenant} user={c.user} thread={c.thread_id} store={type(store).__name__}"
'''

AGENT = """\
model: scripted
system_instructions: Help.
tools:
  - type: python
    function: {module}:whoami
"""


async def test_tools_see_the_caller_and_the_run_store(
    tmp_path: Path, project: Path, model: ScriptedModelServer
) -> None:
    module = f"caller_tools_{tmp_path.name.replace('-', '_')}"
    (project / f"{module}.py").write_text(MODULE)
    (project / "agents" / "who.agent.yml").write_text(AGENT.format(module=module))
    model.set_script(
        [Reply(tool_calls=[tool_call("whoami", {}, id="a")]), Reply(text="Known.")] * 2,
    )
    async for client in open_client(create_app(settings_for(project))):
        run = (
            await client.post("/api/agents/who/runs", json={"prompt": "Who am I?", "stream": False})
        ).json()
        assert run["status"] == "ok", run
        assert model.requests[1].messages[-1].content == (
            f"tenant=local user=None thread={run['thread_id']} store=Store"
        )
        body = {"model": "who", "messages": [{"role": "user", "content": "Who?"}], "user": "ada"}  # type: ignore[dict-item]
        completion = await client.post("/v1/chat/completions", json=body)
        assert completion.status_code == 200, completion.text
        assert model.requests[3].messages[-1].content == "tenant=local user=ada thread=None store=Store"
