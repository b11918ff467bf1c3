"""Runs waiting for a person, durably, and the background tasks agents started.

An input request is stored `pending` before the run announces it, with what the run needs to go on
in another process (its agent, thread, user, variant and the conversation up to the call that asked):
a server that restarted can resume the run when the answer comes. Answering is a compare-and-set on
`pending`, so two answers (or an answer and the timeout) cannot both win. An approval for "always" is
kept as the request's `grant_key`, which later calls of the thread match.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import Discriminator, TypeAdapter

from oxy.models.messages import Message
from oxy.storage._base import StoreBase
from oxy.storage._schema import input_requests, utcnow, workspace_tasks

InputStatus = Literal["pending", "answered", "expired", "cancelled"]

_TRANSCRIPT: TypeAdapter[list[Message]] = TypeAdapter(list[Annotated[Message, Discriminator("role")]])


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequestRecord:
    """A stored request for input, and how it was answered (`answer`: approved, always, text, note)."""

    id: str
    run_id: str
    tenant: str
    thread_id: str | None
    target: str
    user: str | None
    variant: str | None
    kind: str
    tool: str
    what: str
    why: str
    rule: str | None
    subject: str | None
    options: tuple[str, ...]
    call_id: str | None
    transcript: tuple[Message, ...]
    status: InputStatus
    answer: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime | None

    def public(self) -> dict[str, Any]:
        """What an API client sees of it (not the transcript)."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "input_kind": self.kind,
            "tool": self.tool,
            "what": self.what,
            "why": self.why,
            "rule": self.rule,
            "options": list(self.options),
            "status": self.status,
            "answer": self.answer,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskRecord:
    """A background task as stored: `process` is the oxy process that started it, on `host`."""

    task_id: str
    root: str
    owner: str
    tenant: str | None
    command: str
    pid: int
    host: str
    process: int
    started_at: datetime
    stopped_at: datetime | None
    exit_code: int | None


def _request(row: sa.Row[Any]) -> InputRequestRecord:
    return InputRequestRecord(
        id=row.id,
        run_id=row.run_id,
        tenant=row.tenant,
        thread_id=row.thread_id,
        target=row.target,
        user=row.user,
        variant=row.variant,
        kind=row.kind,
        tool=row.tool,
        what=row.what,
        why=row.why,
        rule=row.rule,
        subject=row.subject,
        options=tuple(row.options or ()),
        call_id=row.call_id,
        transcript=tuple(_TRANSCRIPT.validate_python(row.transcript or [])),
        status=row.status,
        answer=row.answer,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class PauseMethods(StoreBase):
    def open_input_request(
        self,
        *,
        id: str,
        run_id: str,
        tenant: str,
        thread_id: str | None,
        target: str,
        user: str | None,
        variant: str | None,
        kind: str,
        tool: str,
        what: str,
        why: str,
        rule: str | None,
        subject: str | None,
        options: Sequence[str],
        call_id: str | None,
        transcript: Sequence[Message],
        expires_at: datetime | None,
    ) -> None:
        with self._write() as connection:
            connection.execute(
                input_requests.insert().values(
                    id=id,
                    run_id=run_id,
                    tenant=tenant,
                    thread_id=thread_id,
                    target=target,
                    user=user,
                    variant=variant,
                    kind=kind,
                    tool=tool,
                    what=what,
                    why=why,
                    rule=rule,
                    subject=subject,
                    options=list(options),
                    call_id=call_id,
                    transcript=_TRANSCRIPT.dump_python(list(transcript), mode="json"),
                    status="pending",
                    created_at=utcnow(),
                    expires_at=expires_at,
                )
            )

    def get_input_request(self, request_id: str, *, tenant: str) -> InputRequestRecord | None:
        query = sa.select(input_requests).where(
            input_requests.c.id == request_id, input_requests.c.tenant == tenant
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _request(row)

    def input_requests(
        self, *, tenant: str, run_id: str | None = None, status: InputStatus | None = None
    ) -> list[InputRequestRecord]:
        """The tenant's input requests (of one run, in one status, when given), oldest first."""
        query = sa.select(input_requests).where(input_requests.c.tenant == tenant)
        if run_id is not None:
            query = query.where(input_requests.c.run_id == run_id)
        if status is not None:
            query = query.where(input_requests.c.status == status)
        with self._read() as connection:
            rows = connection.execute(query.order_by(input_requests.c.created_at, input_requests.c.id))
            return [_request(row) for row in rows]

    def close_input_request(
        self,
        request_id: str,
        *,
        tenant: str,
        status: InputStatus,
        answer: dict[str, Any] | None = None,
        grant_key: str | None = None,
        others_note: str | None = None,
    ) -> bool:
        """Record how a pending request ended; False when it is not pending (any more). With
        `others_note`, the run's other pending requests are cancelled with that note in the same
        transaction (a resume claims the paused turn: a second answer finds nothing pending)."""
        query = (
            input_requests.update()
            .where(
                input_requests.c.id == request_id,
                input_requests.c.tenant == tenant,
                input_requests.c.status == "pending",
            )
            .values(status=status, answer=answer, grant_key=grant_key, answered_at=utcnow())
            .returning(input_requests.c.run_id)
        )
        with self._write() as connection:
            run_id = connection.execute(query).scalar()
            if run_id is None:
                return False
            if others_note is not None:
                connection.execute(
                    input_requests.update()
                    .where(
                        input_requests.c.run_id == run_id,
                        input_requests.c.tenant == tenant,
                        input_requests.c.status == "pending",
                    )
                    .values(
                        status="cancelled",
                        answer={"approved": False, "note": others_note},
                        answered_at=utcnow(),
                    )
                )
            return True

    def input_answer(
        self, request_id: str, *, tenant: str
    ) -> tuple[InputStatus, dict[str, Any] | None] | None:
        """A request's status and answer only (what a waiting run polls)."""
        query = sa.select(input_requests.c.status, input_requests.c.answer).where(
            input_requests.c.id == request_id, input_requests.c.tenant == tenant
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.status, row.answer)

    def reopen_input_request(self, request_id: str, *, tenant: str) -> bool:
        """Put an answered request back to pending (its answer could not be acted on)."""
        query = (
            input_requests.update()
            .where(
                input_requests.c.id == request_id,
                input_requests.c.tenant == tenant,
                input_requests.c.status == "answered",
            )
            .values(status="pending", answer=None, grant_key=None, answered_at=None)
        )
        with self._write() as connection:
            return connection.execute(query).rowcount > 0

    def thread_grants(self, thread_id: str, *, tenant: str) -> set[str]:
        """What a person approved "always" in the thread (`grant_key`s)."""
        query = sa.select(input_requests.c.grant_key).where(
            input_requests.c.thread_id == thread_id,
            input_requests.c.tenant == tenant,
            input_requests.c.grant_key.is_not(None),
        )
        with self._read() as connection:
            return {row.grant_key for row in connection.execute(query)}

    def record_task(
        self, *, task_id: str, owner: str, tenant: str | None, command: str, pid: int, root: str
    ) -> None:
        with self._write() as connection:
            connection.execute(
                workspace_tasks.insert().values(
                    id=uuid.uuid4().hex,
                    task_id=task_id,
                    root=root,
                    owner=owner,
                    tenant=tenant,
                    command=command,
                    pid=pid,
                    host=socket.gethostname(),
                    process=os.getpid(),
                    started_at=utcnow(),
                )
            )

    def finish_task(self, *, task_id: str, root: str, exit_code: int | None) -> None:
        """Mark this process's task `task_id` of `root` stopped."""
        query = (
            workspace_tasks.update()
            .where(
                workspace_tasks.c.task_id == task_id,
                workspace_tasks.c.root == root,
                workspace_tasks.c.process == os.getpid(),
                workspace_tasks.c.host == socket.gethostname(),
                workspace_tasks.c.stopped_at.is_(None),
            )
            .values(stopped_at=utcnow(), exit_code=exit_code)
        )
        with self._write() as connection:
            connection.execute(query)

    def list_tasks(self, *, owner: str | None = None, limit: int = 200) -> list[TaskRecord]:
        """Background tasks (of one thread or run, when given), newest first."""
        query = sa.select(workspace_tasks)
        if owner is not None:
            query = query.where(workspace_tasks.c.owner == owner)
        query = query.order_by(workspace_tasks.c.started_at.desc()).limit(limit)
        with self._read() as connection:
            return [
                TaskRecord(
                    task_id=row.task_id,
                    root=row.root,
                    owner=row.owner,
                    tenant=row.tenant,
                    command=row.command,
                    pid=row.pid,
                    host=row.host,
                    process=row.process,
                    started_at=row.started_at,
                    stopped_at=row.stopped_at,
                    exit_code=row.exit_code,
                )
                for row in connection.execute(query)
            ]
