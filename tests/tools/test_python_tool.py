"""`type: python` tools: a function from the project folder, declared in YAML, run through `oxy run`."""

from __future__ import annotations

import getpass
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.events.types import ToolResultEvent, event_from_json
from oxy.testing import Reply, ScriptedModelServer, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

MODULE = '''
import asyncio

from oxy.execution.context import ExecutionContext


def stock(product: str, *, warehouse: str = "main") -> dict:
    """How many of a product are in stock."""
    return {"product": product, "warehouse": warehouse, "units": 12}


async def whoami(ctx: ExecutionContext) -> str:
    """Who is asking."""
    await asyncio.sleep(0)
    return f"user={ctx.caller.user}"

NOT_CALLABLE = 3
'''


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> tuple[Path, str]:
    """The quickstart project with a Python module of its own (named per test: modules are cached)."""
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    config = root / "config.yml"
    config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
    module = f"shop_tools_{tmp_path.name.replace('-', '_')}"
    (root / f"{module}.py").write_text(MODULE)
    return root, module


def write_agent(root: Path, tools: str) -> Path:
    agent = root / "agents" / "helper.agent.yml"
    agent.write_text(
        'model: vllm\nsystem_instructions: "Help with the tools {{ tools }}"\ntools:\n'
        + textwrap.indent(tools, "  ")
    )
    return agent


def test_python_functions_declared_in_yaml_are_tools(
    project: tuple[Path, str], server: ScriptedModelServer
) -> None:
    root, module = project
    agent = write_agent(
        root,
        f"- type: python\n  function: {module}:stock\n"
        f"- type: python\n  function: {module}:whoami\n  name: who\n  description: Say who asks.\n",
    )
    server.set_script(
        [
            Reply(
                tool_calls=[
                    tool_call("stock", {"product": "beans"}, id="a"),
                    tool_call("who", {}, id="b"),
                ]
            ),
            Reply(text="12 units."),
        ]
    )
    result = CliRunner().invoke(cli, ["run", str(agent), "Stock?", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    results = {
        e.call_id: e.content
        for e in map(event_from_json, result.stdout.splitlines())
        if isinstance(e, ToolResultEvent)
    }
    assert results == {
        "a": '{"product": "beans", "warehouse": "main", "units": 12}',
        "b": f"user={getpass.getuser()}",  # the CLI runs as the OS user
    }
    tools = {t.name: (t.description, dict(t.parameters)) for t in server.requests[0].tools}
    assert tools["stock"] == (
        "How many of a product are in stock.",
        {
            "type": "object",
            "properties": {
                "product": {"type": "string"},
                "warehouse": {"type": "string", "default": "main"},
            },
            "required": ["product"],
            "additionalProperties": False,
        },
    )
    assert tools["who"][0] == "Say who asks."
    assert "stock" in server.requests[0].messages[0].content  # `{{ tools }}` names them


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("no_such_module:f", "function 'no_such_module:f': no module named 'no_such_module'"),
        ("{module}:stok", "has no attribute 'stok'; did you mean 'stock'?"),
        ("{module}:NOT_CALLABLE", "names a value of type int, not a function; name a callable"),
    ],
)
def test_validate_names_the_file_and_line_of_a_bad_function(
    project: tuple[Path, str], function: str, message: str
) -> None:
    root, module = project
    write_agent(root, f"- type: python\n  function: {function.format(module=module)}\n")
    result = CliRunner().invoke(cli, ["validate", "--project", str(root)])
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("agents/helper.agent.yml"))
    assert line.startswith("agents/helper.agent.yml:5:15: function ") and message in line, result.output
