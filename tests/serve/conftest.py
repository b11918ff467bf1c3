"""A small project whose model is the scripted HTTP server, and `oxy serve`'s app on top of it.

`client` talks to the app in-process through `httpx.ASGITransport` (the app's lifespan runs
around it); `live` starts a real uvicorn on 127.0.0.1 for what needs sockets.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oxy.serve import ServeSettings, create_app
from oxy.testing import ScriptedModelServer

QUICKSTART_DATA = Path(__file__).resolve().parents[2] / "projects" / "quickstart" / "data"

CONFIG = """\
models:
  - name: scripted
    vendor: vllm
    model_ref: scripted
    api_url: {base_url}
databases:
  - name: shop
    type: duckdb
    dataset: data/
"""

CHAT_AGENT = """\
description: Chats.
model: scripted
system_instructions: You are a helpful assistant.
"""

ANALYST_AGENT = """\
description: Answers with SQL.
model: scripted
system_instructions: You answer questions about the shop with SQL.
tools:
  - name: execute_sql
    type: execute_sql
    database: shop
"""

WORKFLOW = """\
description: Counts orders over a minimum.
variables:
  minimum:
    type: integer
    default: 0
    description: Orders with more than this many items.
tasks:
  - name: count
    type: execute_sql
    database: shop
    sql_query: select count(*) as n from orders where {{ minimum }} >= 0
"""


def write_project(root: Path, base_url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(QUICKSTART_DATA, root / "data")
    (root / "config.yml").write_text(CONFIG.format(base_url=base_url))
    (root / "agents").mkdir()
    (root / "agents" / "chat.agent.yml").write_text(CHAT_AGENT)
    (root / "agents" / "analyst.agent.yml").write_text(ANALYST_AGENT)
    (root / "workflows").mkdir()
    (root / "workflows" / "orders.workflow.yml").write_text(WORKFLOW)
    return root


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, model: ScriptedModelServer) -> Path:
    return write_project(tmp_path / "project", model.base_url)


def settings_for(project: Path, **overrides: Any) -> ServeSettings:
    return ServeSettings(project=project, **overrides)


async def open_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


@pytest.fixture
async def client(project: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(create_app(settings_for(project))):
        yield c
