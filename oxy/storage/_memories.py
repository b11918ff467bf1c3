"""Long-term memories: text with its vector, for one tenant and user; never read across either."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from oxy.storage._base import StoreBase
from oxy.storage._records import Memory
from oxy.storage._schema import memories, utcnow


def _memory(row: sa.Row[Any]) -> Memory:
    return Memory(id=row.id, tenant=row.tenant, user=row.user, text=row.text, created_at=row.created_at)


class MemoryMethods(StoreBase):
    def add_memory(self, *, tenant: str, user: str, text: str, embedder: str, vector: bytes) -> Memory:
        memory = Memory(id=uuid.uuid4().hex, tenant=tenant, user=user, text=text, created_at=utcnow())
        with self._write() as connection:
            connection.execute(
                memories.insert().values(
                    id=memory.id,
                    tenant=tenant,
                    user=user,
                    text=text,
                    embedder=embedder,
                    vector=vector,
                    created_at=memory.created_at,
                )
            )
        return memory

    def list_memories(self, *, tenant: str, user: str | None = None, limit: int = 1000) -> list[Memory]:
        """The tenant's memories (of one user, when given), newest first."""
        query = sa.select(memories).where(memories.c.tenant == tenant)
        if user is not None:
            query = query.where(memories.c.user == user)
        query = query.order_by(memories.c.created_at.desc(), memories.c.id).limit(limit)
        with self._read() as connection:
            return [_memory(row) for row in connection.execute(query)]

    def memory_vectors(self, *, tenant: str, user: str, embedder: str) -> list[tuple[Memory, bytes]]:
        """One user's memories with the vectors `embedder` made (others cannot be compared)."""
        query = sa.select(memories).where(
            memories.c.tenant == tenant, memories.c.user == user, memories.c.embedder == embedder
        )
        with self._read() as connection:
            return [(_memory(row), row.vector) for row in connection.execute(query)]

    def forget_memory(self, memory_id: str, *, tenant: str, user: str | None = None) -> bool:
        """Delete one memory of the tenant (and user, when given); False when there is none."""
        query = memories.delete().where(memories.c.id == memory_id, memories.c.tenant == tenant)
        if user is not None:
            query = query.where(memories.c.user == user)
        with self._write() as connection:
            return connection.execute(query).rowcount > 0
