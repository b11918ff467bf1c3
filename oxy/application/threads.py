"""Conversation threads from the command line (`oxy chat`, `oxy run --thread`): in the project's run
store, under the local tenant, so `oxy serve`'s chat page lists them too."""

from __future__ import annotations

from collections.abc import Sequence

from oxy.application.runtime import Runtime
from oxy.errors import ConfigError
from oxy.execution.agent_io import AgentAnswer
from oxy.models.messages import Message, UserMessage
from oxy.storage import LOCAL_TENANT, Thread
from oxy.tools.workspace.processes import TaskInfo
from oxy.tools.workspace.services import close_thread as _stop_tasks

__all__ = ["close_thread", "list_threads", "new_thread", "record_turn", "thread_history"]


def thread_history(runtime: Runtime, thread_id: str, *, agent: str) -> list[Message]:
    """The messages of thread `thread_id`, which must be `agent`'s (a project-relative file)."""
    store = runtime.store()
    thread = store.get_thread(thread_id, tenant=LOCAL_TENANT)
    if thread is None:
        raise ConfigError(
            f"there is no thread {thread_id!r} in this project (oxy chat lists them with /threads)"
        )
    if thread.agent != agent:
        raise ConfigError(f"thread {thread_id!r} is a conversation with {thread.agent}, not {agent}")
    return [m.to_message() for m in store.thread_messages(thread_id, tenant=LOCAL_TENANT)]


def new_thread(runtime: Runtime, *, agent: str, title: str) -> str:
    title = " ".join(title.split())
    thread = runtime.store().create_thread(
        tenant=LOCAL_TENANT, agent=agent, title=title if len(title) <= 80 else title[:79] + "…"
    )
    return thread.id


def record_turn(runtime: Runtime, thread_id: str, prompt: str, answer: AgentAnswer | None) -> None:
    """Keep the question and, when the run answered, what the agent added (its calls and answer)."""
    added: Sequence[Message] = answer.new_messages if answer is not None else ()
    runtime.store().add_messages(thread_id, [UserMessage(content=prompt), *added], tenant=LOCAL_TENANT)


def list_threads(runtime: Runtime, *, agent: str, limit: int = 20) -> list[Thread]:
    return runtime.store().list_threads(tenant=LOCAL_TENANT, agent=agent, limit=limit)


async def close_thread(runtime: Runtime, thread_id: str) -> list[TaskInfo]:
    """The conversation is over: stop the background tasks its runs started (in any workspace the
    runtime keeps). Returns what was stopped."""
    return await _stop_tasks(runtime, thread_id)
