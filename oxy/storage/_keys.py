"""API keys: each belongs to a tenant and is stored only as its SHA-256 hash.

A key is `oxy_` followed by 32 random bytes (URL-safe base64); `oxy keys create` prints it once.
Keys live in the store's `api_keys` table (the same database: `$OXY_DATABASE_URL`, else
`<project>/.oxy/oxy.db`; created by migration 0002), so every `oxy serve` replica sharing a database
shares its keys.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa

from oxy.storage._engine import create_engine, database_url, reading, writing
from oxy.storage._errors import NotFound
from oxy.storage._migrate import upgrade
from oxy.storage._schema import api_keys, utcnow

TOKEN_PREFIX = "oxy_"


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    """A key as stored: never the token itself."""

    id: str
    tenant: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(row: sa.Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id, tenant=row.tenant, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at
    )


_COLUMNS: list[sa.Column[Any]] = [
    api_keys.c.id,
    api_keys.c.tenant,
    api_keys.c.name,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
]


class KeyStore:
    """Create, list, revoke and check API keys. Methods block; the server calls them in threads."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str | None = None, *, project_root: Path | None = None) -> KeyStore:
        engine = create_engine(database_url(url, project_root=project_root))
        try:
            with writing(engine) as connection:
                upgrade(connection)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def create(self, *, tenant: str, name: str | None = None) -> tuple[ApiKey, str]:
        """A new key for `tenant`: the stored record and the token, which is not kept anywhere."""
        if not tenant.strip():
            raise ValueError("a key needs a tenant name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(id=secrets.token_hex(6), tenant=tenant, name=name, created_at=utcnow(), revoked_at=None)
        with writing(self._engine) as connection:
            connection.execute(
                api_keys.insert().values(
                    id=key.id, tenant=tenant, name=name, hash=hash_token(token), created_at=key.created_at
                )
            )
        return key, token

    def list_keys(self, *, include_revoked: bool = False) -> list[ApiKey]:
        query = sa.select(*_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with reading(self._engine) as connection:
            return [_key(row) for row in connection.execute(query)]

    def revoke(self, key_id: str) -> ApiKey:
        with writing(self._engine) as connection:
            row = connection.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
                .returning(*_COLUMNS)
            ).first()
        if row is None:
            raise NotFound(f"no active API key {key_id!r}; `oxy keys list` shows them")
        return _key(row)

    def verify(self, token: str) -> ApiKey | None:
        """The active key whose token this is, or None."""
        query = sa.select(*_COLUMNS).where(
            api_keys.c.hash == hash_token(token), api_keys.c.revoked_at.is_(None)
        )
        with reading(self._engine) as connection:
            row = connection.execute(query).first()
        return None if row is None else _key(row)

    def configured(self) -> bool:
        """Whether any key was ever created: from then on, revoked or not, the server needs one."""
        query = sa.select(api_keys.c.id).limit(1)
        with reading(self._engine) as connection:
            return connection.execute(query).first() is not None
