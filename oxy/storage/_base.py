"""What every part of `Store` shares: the engine, this process's owner id, transactions."""

from __future__ import annotations

from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from oxy.storage._engine import reading, writing
from oxy.storage._owners import Owner


class StoreBase:
    def __init__(self, engine: sa.Engine, owner: Owner) -> None:
        self._engine = engine
        self._owner = owner

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return reading(self._engine)

    def _write(self) -> AbstractContextManager[sa.Connection]:
        return writing(self._engine)

    def _upsert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that can say `on_conflict_do_update` on either backend."""
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
