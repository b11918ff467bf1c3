"""Conversation threads and their messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from oxy.models.messages import AssistantMessage, Message, ToolMessage
from oxy.storage._base import StoreBase
from oxy.storage._errors import NotFound
from oxy.storage._records import Thread, ThreadMessage, tool_calls_from_json, tool_calls_to_json
from oxy.storage._schema import messages, threads, utcnow


def _thread(row: sa.Row[Any]) -> Thread:
    return Thread(
        id=row.id,
        tenant=row.tenant,
        agent=row.agent,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _message(row: sa.Row[Any]) -> ThreadMessage:
    return ThreadMessage(
        thread_id=row.thread_id,
        seq=row.seq,
        role=row.role,
        content=row.content,
        tool_calls=tool_calls_from_json(row.tool_calls),
        tool_call_id=row.tool_call_id,
        name=row.name,
        created_at=row.created_at,
    )


def message_row(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.content,
        "tool_calls": tool_calls_to_json(message.tool_calls)
        if isinstance(message, AssistantMessage)
        else None,
        "tool_call_id": message.tool_call_id if isinstance(message, ToolMessage) else None,
        "name": message.name if isinstance(message, ToolMessage) else None,
    }


def new_thread(*, tenant: str, agent: str, title: str | None, thread_id: str | None) -> Thread:
    """A thread as it is first stored: a new id unless given, created and updated now."""
    now = utcnow()
    return Thread(
        id=thread_id or uuid.uuid4().hex,
        tenant=tenant,
        agent=agent,
        title=title,
        created_at=now,
        updated_at=now,
    )


class ThreadMethods(StoreBase):
    def create_thread(
        self, *, tenant: str, agent: str, title: str | None = None, thread_id: str | None = None
    ) -> Thread:
        """Start a conversation with `agent` (its file, e.g. `agents/analyst.agent.yml`)."""
        thread = new_thread(tenant=tenant, agent=agent, title=title, thread_id=thread_id)
        with self._write() as connection:
            connection.execute(threads.insert().values(**asdict(thread)))
        return thread

    def add_messages(self, thread_id: str, batch: Sequence[Message], *, tenant: str) -> list[ThreadMessage]:
        """Append messages to a thread, in order, in one transaction; returns them as stored."""
        now = utcnow()
        with self._write() as connection:
            updated = connection.execute(
                threads.update()
                .where(threads.c.id == thread_id, threads.c.tenant == tenant)
                .values(updated_at=now)
            )
            if updated.rowcount == 0:
                raise NotFound(f"no thread {thread_id!r} for tenant {tenant!r}")
            last = connection.execute(
                sa.select(sa.func.coalesce(sa.func.max(messages.c.seq), 0)).where(
                    messages.c.thread_id == thread_id
                )
            ).scalar_one()
            rows = [
                {"thread_id": thread_id, "seq": last + i, "created_at": now, **message_row(message)}
                for i, message in enumerate(batch, start=1)
            ]
            if rows:
                connection.execute(messages.insert(), rows)
            stored = connection.execute(
                sa.select(messages)
                .where(messages.c.thread_id == thread_id, messages.c.seq > last)
                .order_by(messages.c.seq)
            ).all()
        return [_message(row) for row in stored]

    def get_thread(self, thread_id: str, *, tenant: str) -> Thread | None:
        with self._read() as connection:
            row = connection.execute(
                sa.select(threads).where(threads.c.id == thread_id, threads.c.tenant == tenant)
            ).first()
        return None if row is None else _thread(row)

    def list_threads(self, *, tenant: str, agent: str | None = None, limit: int = 100) -> list[Thread]:
        """The tenant's threads, most recently updated first, optionally with one agent."""
        query = sa.select(threads).where(threads.c.tenant == tenant)
        if agent is not None:
            query = query.where(threads.c.agent == agent)
        query = query.order_by(threads.c.updated_at.desc(), threads.c.id.desc()).limit(limit)
        with self._read() as connection:
            return [_thread(row) for row in connection.execute(query)]

    def thread_summary(self, thread_id: str, *, tenant: str) -> tuple[str, int] | None:
        """The stored summary of the thread's first messages and how many it covers, if any."""
        with self._read() as connection:
            row = connection.execute(
                sa.select(threads.c.summary, threads.c.summary_upto).where(
                    threads.c.id == thread_id, threads.c.tenant == tenant
                )
            ).first()
        if row is None or row.summary is None:
            return None
        return row.summary, int(row.summary_upto)

    def set_thread_summary(self, thread_id: str, summary: str, upto: int, *, tenant: str) -> None:
        """Keep `summary` (of the thread's first `upto` messages) with the thread."""
        with self._write() as connection:
            connection.execute(
                threads.update()
                .where(threads.c.id == thread_id, threads.c.tenant == tenant)
                .values(summary=summary, summary_upto=upto)
            )

    def thread_messages(self, thread_id: str, *, tenant: str) -> list[ThreadMessage]:
        """A thread's messages in order; empty for a thread that is missing or another tenant's."""
        query = (
            sa.select(messages)
            .join(threads, threads.c.id == messages.c.thread_id)
            .where(messages.c.thread_id == thread_id, threads.c.tenant == tenant)
            .order_by(messages.c.seq)
        )
        with self._read() as connection:
            return [_message(row) for row in connection.execute(query)]
