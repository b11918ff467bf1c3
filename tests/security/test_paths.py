"""Paths built from variables, requests and project files stay inside the project (issue 9, item 1).

Each project lies at `tmp_path/home/project`, so `output/../../../outside` is `tmp_path/outside`: every
attack checks that nothing appeared there and that the error names the file, the value and the fix.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy.application.runner import run_file
from oxy.application.runtime import Runtime
from oxy.config import load_project
from oxy.config.validation import validate
from oxy.errors import ConfigError
from oxy.events.sinks import ListSink
from oxy.events.types import Event, ToolResultEvent
from oxy.execution.run import RunResult
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call
from tests.serve.conftest import open_client, settings_for, write_project

FIX = "keep paths inside the project folder"
ESCAPE = "../../../outside/PWNED"

EXPORT = """\
variables:
  customer: {type: string, default: acme}
tasks:
  - name: report
    type: formatter
    template: "Report for {{ customer }}"
    export: {format: txt, path: "output/{{ customer }}.txt"}
"""


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Where an escaping path lands; holds a secret an attack must not read back."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("TOP SECRET")
    return folder


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer, outside: Path) -> Path:
    return make_project(
        tmp_path / "home" / "project",
        {
            "config.yml": f"""
                models:
                  - name: scripted
                    vendor: vllm
                    model_ref: scripted
                    api_url: {server.base_url}
                    max_retries: 0
                databases:
                  - name: local
                    type: duckdb
                    dataset: data/
                """,
            "data/fruit.csv": "name,sales\napple,325\n",
            "workflows/export.workflow.yml": EXPORT,
        },
    )


def make_project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def run(root: Path, file: str, **kwargs: Any) -> tuple[RunResult[Any], list[Event]]:
    runtime = Runtime.for_project(load_project(root))
    sink = ListSink()

    async def main() -> RunResult[Any]:
        return await run_file(root / file, runtime=runtime, sink=sink, **kwargs)

    try:
        return anyio.run(main), sink.events
    finally:
        runtime.close()


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


TENANT_CACHE = """\
variables:
  who: {type: string}
tasks:
  - name: report
    type: formatter
    template: "Private report for {{ who }}"
    cache: {enabled: true, path: "cache/report.txt"}
"""


def test_served_cache_entries_are_kept_per_tenant(project: Path) -> None:
    """One tenant's cached output is never another's: served runs keep a copy per tenant."""
    from oxy.execution.context import Caller

    (project / "workflows" / "tenant.workflow.yml").write_text(TENANT_CACHE)
    outputs = {}
    for tenant in ("acme", "globex", "acme"):
        result, _ = run(
            project,
            "workflows/tenant.workflow.yml",
            variables={"who": tenant},
            caller=Caller(tenant=tenant),
        )
        assert result.error is None, result.error
        outputs.setdefault(tenant, []).append(result.output["report"])  # type: ignore[index]
    assert outputs == {
        "acme": ["Private report for acme", "Private report for acme"],  # the second from acme's cache
        "globex": ["Private report for globex"],
    }
    assert not (project / "cache" / "report.txt").exists()
    assert len(list((project / ".oxy" / "cache").glob("*/cache/report.txt"))) == 2
    # A run on nobody's behalf (`oxy run`) uses the declared path.
    result, _ = run(project, "workflows/tenant.workflow.yml", variables={"who": "me"})
    assert (project / "cache" / "report.txt").read_text() == "Private report for me"


# --- export and cache paths rendered from variables ---------------------------------------------------


def test_export_path_traversal_through_variables_is_refused(project: Path, outside: Path) -> None:
    fine, _ = run(project, "workflows/export.workflow.yml", variables={"customer": "acme"})
    assert fine.status == "ok"
    assert (project / "output" / "acme.txt").read_text() == "Report for acme"

    result, _ = run(project, "workflows/export.workflow.yml", variables={"customer": ESCAPE})
    assert result.status == "error"
    assert str(result.error) == (
        f"workflows/export.workflow.yml:7: export path 'output/{ESCAPE}.txt' is outside the project "
        f"folder; {FIX}"
    )
    assert files_under(outside) == ["secret.txt"]
    assert files_under(project / "output") == ["acme.txt"]


@pytest.mark.parametrize("value", ["acme\nINJECTED LINE", "acme\x00.txt", "acme\r"])
def test_a_control_character_in_an_export_path_is_refused(project: Path, value: str) -> None:
    result, _ = run(project, "workflows/export.workflow.yml", variables={"customer": value})
    assert result.status == "error"
    assert str(result.error) == (
        f"workflows/export.workflow.yml:7: export path {f'output/{value}.txt'!r} holds a control "
        "character (a newline, NUL, ...); paths may not, so remove it from the value"
    )
    assert not (project / "output").exists()


CACHE = """\
variables:
  key: {type: string, default: report}
tasks:
  - name: report
    type: formatter
    template: "fresh output"
    cache: {enabled: true, path: "cache/{{ key }}.txt"}
"""


def test_cache_path_traversal_neither_reads_nor_overwrites_a_file_outside(
    project: Path, outside: Path
) -> None:
    (project / "workflows" / "cache.workflow.yml").write_text(CACHE)
    escape = "../../../outside/secret"
    result, _ = run(project, "workflows/cache.workflow.yml", variables={"key": escape})
    assert result.status == "error"
    assert result.output is None
    assert str(result.error) == (
        f"workflows/cache.workflow.yml:7: cache path 'cache/{escape}.txt' is outside the project folder; {FIX}"
    )
    assert (outside / "secret.txt").read_text() == "TOP SECRET"
    assert files_under(outside) == ["secret.txt"]


def test_an_export_folder_that_links_outside_is_refused(project: Path, outside: Path) -> None:
    (project / "output").symlink_to(outside, target_is_directory=True)
    result, _ = run(project, "workflows/export.workflow.yml", variables={"customer": "acme"})
    assert result.status == "error"
    assert str(result.error) == (
        "workflows/export.workflow.yml:7: export path 'output/acme.txt' leads outside the project folder "
        f"through a symbolic link; {FIX}"
    )
    assert files_under(outside) == ["secret.txt"]


def test_a_templated_sql_file_outside_is_refused(project: Path, outside: Path) -> None:
    (outside / "steal.sql").write_text("select 'stolen' as loot")
    (project / "workflows" / "sql.workflow.yml").write_text(
        textwrap.dedent(
            """\
            variables:
              name: {type: string}
            tasks:
              - name: q
                type: execute_sql
                database: local
                sql_file: "queries/{{ name }}.sql"
            """
        )
    )
    result, _ = run(project, "workflows/sql.workflow.yml", variables={"name": "../../../outside/steal"})
    assert result.status == "error"
    assert str(result.error) == (
        "workflows/sql.workflow.yml:7: sql_file 'queries/../../../outside/steal.sql' is outside the "
        f"project folder; {FIX}"
    )


# --- the same export attack from a request and from a model ----------------------------------------


@pytest.mark.anyio
async def test_export_traversal_over_http_is_refused(tmp_path: Path, outside: Path) -> None:
    root = write_project(tmp_path / "home" / "project", "http://127.0.0.1:9/v1")
    (root / "workflows" / "export.workflow.yml").write_text(EXPORT)
    async for client in open_client(create_app(settings_for(root))):
        response = await client.post(
            "/api/workflows/export/runs", json={"variables": {"customer": ESCAPE}, "stream": False}
        )
        body = response.json()
        assert (body["status"], body["output"]) == ("error", None)
        assert body["error"] == (
            f"workflows/export.workflow.yml:7: export path 'output/{ESCAPE}.txt' is outside the project "
            f"folder; {FIX}"
        )
    assert files_under(outside) == ["secret.txt"]
    assert not (root / "output").exists()


@pytest.mark.anyio
async def test_a_model_calling_the_workflow_as_a_tool_cannot_export_outside(
    project: Path, outside: Path, server: ScriptedModelServer
) -> None:
    make_project(
        project,
        {
            "agents/manager.agent.yml": """
                model: scripted
                system_instructions: You write reports.
                tools:
                  - name: export
                    type: workflow
                    workflow_ref: workflows/export.workflow.yml
                    description: Export a customer's report.
                    variables:
                      customer: {type: string}
                """
        },
    )
    server.set_script(
        [
            Reply(tool_calls=[tool_call("export", {"customer": ESCAPE}, id="m1")]),
            Reply(text="I could not export it."),
        ]
    )
    runtime = Runtime.for_project(load_project(project))
    sink = ListSink()
    try:
        result = await run_file(
            project / "agents/manager.agent.yml", runtime=runtime, prompt="Export it", sink=sink
        )
    finally:
        runtime.close()
    assert (result.status, result.output) == ("ok", "I could not export it.")
    failed = next(e for e in sink.events if isinstance(e, ToolResultEvent))
    assert failed.is_error
    assert failed.content == (
        f"Error: workflows/export.workflow.yml:7: export path 'output/{ESCAPE}.txt' is outside the "
        f"project folder; {FIX}"
    )
    assert files_under(outside) == ["secret.txt"]


# --- context, semantic model, refs and datasets named in project files -----------------------------


def agent(context: str) -> str:
    return f"""
        model: scripted
        system_instructions: "Know this: {{{{ context.docs }}}}"
        context:
{textwrap.indent(textwrap.dedent(context), " " * 10)}
        """


def test_a_context_file_that_links_outside_is_refused(
    project: Path, outside: Path, server: ScriptedModelServer
) -> None:
    (project / "docs").mkdir()
    (project / "docs" / "intro.md").write_text("intro")
    (project / "docs" / "notes.md").symlink_to(outside / "secret.txt")
    make_project(project, {"agents/a.agent.yml": agent("- {name: docs, type: file, src: [docs/*.md]}")})
    with pytest.raises(ConfigError) as error:
        load_project(project).agent("agents/a.agent.yml")
    assert str(error.value) == (
        "agents/a.agent.yml:4:36: context src 'docs/*.md' matches 'docs/notes.md', a link that leads "
        f"outside the project folder; {FIX}"
    )
    assert server.requests == []


def test_a_context_file_linked_while_serving_is_refused_when_read(
    project: Path, outside: Path, server: ScriptedModelServer
) -> None:
    """The link appears after the agent was loaded and checked (a server keeps it): the read is checked too."""
    (project / "docs").mkdir()
    (project / "docs" / "intro.md").write_text("intro")
    make_project(project, {"agents/a.agent.yml": agent("- {name: docs, type: file, src: [docs/*.md]}")})
    runtime = Runtime.for_project(load_project(project))
    server.set_script([Reply(text="hi")])

    async def ask() -> RunResult[Any]:
        return await run_file(project / "agents/a.agent.yml", runtime=runtime, prompt="hi")

    try:
        assert anyio.run(ask).status == "ok"
        (project / "docs" / "notes.md").symlink_to(outside / "secret.txt")
        result = anyio.run(ask)
    finally:
        runtime.close()
    assert result.status == "error"
    assert str(result.error) == (
        "agents/a.agent.yml: context 'docs': src 'docs/*.md' matches 'docs/notes.md', a link that leads "
        f"outside the project folder; {FIX}"
    )
    assert len(server.requests) == 1
    assert "TOP SECRET" not in repr(server.requests)


def test_an_absolute_context_src_is_a_config_error(project: Path, outside: Path) -> None:
    src = str(outside / "*.txt")
    make_project(project, {"agents/a.agent.yml": agent(f"- {{name: docs, type: file, src: ['{src}']}}")})
    with pytest.raises(ConfigError) as error:
        load_project(project).agent("agents/a.agent.yml")
    assert str(error.value) == (
        f"agents/a.agent.yml:4:36: context src {src!r} is outside the project folder; {FIX}"
    )


def test_a_semantic_model_src_outside_is_refused(project: Path, server: ScriptedModelServer) -> None:
    (project.parent / "x.yml").write_text("secret: TOP SECRET\n")
    make_project(
        project, {"agents/a.agent.yml": agent("- {name: docs, type: semantic_model, src: ../x.yml}")}
    )
    with pytest.raises(ConfigError) as error:
        run(project, "agents/a.agent.yml", prompt="hi")
    assert str(error.value) == (
        f"agents/a.agent.yml:4:45: semantic model src '../x.yml' is outside the project folder; {FIX}"
    )
    assert server.requests == []


@pytest.mark.parametrize(
    ("task", "column"),
    [
        ("{name: a, type: agent, agent_ref: ../../x.agent.yml, prompt: hi}", 39),
        ("{name: w, type: workflow, src: ../../x.workflow.yml}", 36),
    ],
)
def test_agent_and_workflow_refs_outside_are_refused(
    project: Path, server: ScriptedModelServer, task: str, column: int
) -> None:
    home = project.parent.parent
    (home / "x.agent.yml").write_text("model: scripted\nsystem_instructions: I am outside.\n")
    (home / "x.workflow.yml").write_text("tasks:\n  - {name: t, type: formatter, template: outside}\n")
    (project / "workflows" / "refs.workflow.yml").write_text(f"tasks:\n  - {task}\n")
    ref = "../../x.agent.yml" if "agent_ref" in task else "../../x.workflow.yml"
    key = "agent_ref" if "agent_ref" in task else "src"
    with pytest.raises(ConfigError) as error:
        run(project, "workflows/refs.workflow.yml")
    assert str(error.value) == (
        f"workflows/refs.workflow.yml:2:{column}: {key} {ref!r} is outside the project folder; {FIX}"
    )
    assert server.requests == []


def test_a_dataset_folder_outside_is_refused(project: Path, outside: Path) -> None:
    (outside / "loot.csv").write_text("secret\nTOP SECRET\n")
    config = (project / "config.yml").read_text().replace("dataset: data/", "dataset: ../../outside/")
    (project / "config.yml").write_text(config)
    with pytest.raises(ConfigError) as error:
        load_project(project)
    assert str(error.value) == (
        f"config.yml:10:14: database 'local': dataset '../../outside/' is outside the project folder; {FIX}"
    )


def test_a_dataset_file_that_links_outside_is_refused(project: Path, outside: Path) -> None:
    (outside / "loot.csv").write_text("secret\nTOP SECRET\n")
    (project / "data" / "loot.csv").symlink_to(outside / "loot.csv")
    (project / "loot.sql").write_text("select * from loot")
    result, _ = run(project, "loot.sql")
    assert result.status == "error"
    assert str(result.error) == (
        "config.yml: database 'local': dataset file 'data/loot.csv' leads outside the project folder "
        f"through a symbolic link; {FIX}"
    )


# --- `oxy validate` reports static paths that leave the project ------------------------------------


def test_validate_reports_every_static_path_that_leaves_the_project(tmp_path: Path) -> None:
    root = make_project(
        tmp_path / "project",
        {
            "config.yml": """
                models:
                  - {name: m, vendor: openai, model_ref: gpt-4o, key_var: OPENAI_API_KEY}
                databases:
                  - {name: d, type: duckdb, dataset: ../data/}
                  - {name: f, type: duckdb, path: /etc/x.duckdb}
                  - {name: s, type: sqlite, path: ../s.db}
                """,
            "agents/a.agent.yml": """
                model: m
                system_instructions: hi
                context:
                  - {name: files, type: file, src: ["../*.md"]}
                  - {name: model, type: semantic_model, src: ../x.yml}
                """,
            "workflows/w.workflow.yml": """
                tasks:
                  - name: q
                    type: execute_sql
                    database: d
                    sql_file: ../q.sql
                    export: {format: txt, path: ../out.txt}
                    cache: {enabled: true, path: "/tmp/cache.txt"}
                  - {name: a, type: agent, agent_ref: ../x.agent.yml, prompt: hi}
                  - {name: w, type: workflow, src: ../../x.workflow.yml}
                  - name: fine
                    type: formatter
                    template: hi
                    export: {format: txt, path: "out/{{ name }}.txt"}
                """,
        },
    )
    report = validate(root)
    assert report.lines() == [
        f"agents/a.agent.yml:4:37: context src '../*.md' is outside the project folder; {FIX}",
        f"agents/a.agent.yml:5:46: semantic model src '../x.yml' is outside the project folder; {FIX}",
        f"config.yml:4:38: database 'd': dataset '../data/' is outside the project folder; {FIX}",
        f"config.yml:5:35: database 'f': path '/etc/x.duckdb' is outside the project folder; {FIX}",
        f"config.yml:6:35: database 's': path '../s.db' is outside the project folder; {FIX}",
        f"workflows/w.workflow.yml:5:15: sql_file '../q.sql' is outside the project folder; {FIX}",
        f"workflows/w.workflow.yml:6:33: export path '../out.txt' is outside the project folder; {FIX}",
        f"workflows/w.workflow.yml:7:34: cache path '/tmp/cache.txt' is outside the project folder; {FIX}",
        f"workflows/w.workflow.yml:8:39: agent_ref '../x.agent.yml' is outside the project folder; {FIX}",
        f"workflows/w.workflow.yml:9:36: src '../../x.workflow.yml' is outside the project folder; {FIX}",
    ]


def test_validate_reports_a_static_path_that_links_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = make_project(
        tmp_path / "project",
        {
            "config.yml": "models: []\n",
            "workflows/w.workflow.yml": """
                tasks:
                  - name: t
                    type: formatter
                    template: hi
                    export: {format: txt, path: out/report.txt}
                """,
        },
    )
    (root / "out").symlink_to(outside, target_is_directory=True)
    assert validate(root).lines() == [
        "workflows/w.workflow.yml:5:33: export path 'out/report.txt' leads outside the project folder "
        f"through a symbolic link; {FIX}"
    ]


def test_the_oxy_compat_examples_still_load_and_validate(oxy_compat: Path) -> None:
    for name in ("demo_project", "examples"):
        report = validate(oxy_compat / name)
        assert not [e for e in report.errors if "outside the project folder" in e.message]
        load_project(oxy_compat / name)


STATE_EXPORT = """\
variables:
  name: {type: string}
tasks:
  - name: report
    type: formatter
    template: "overwritten"
    export: {format: txt, path: "{{ name }}"}
"""

PREFIX_EXPORT = """\
variables:
  name: {type: string}
tasks:
  - name: report
    type: formatter
    template: "overwritten"
    export: {format: txt, path: "output/{{ name }}.txt"}
"""


def test_a_rendered_path_cannot_reach_oxys_state_or_leave_its_folder(project: Path) -> None:
    (project / "workflows" / "state.workflow.yml").write_text(STATE_EXPORT)
    (project / "workflows" / "prefix.workflow.yml").write_text(PREFIX_EXPORT)
    (project / "agents").mkdir(exist_ok=True)
    (project / "agents" / "a.agent.yml").write_text("model: scripted\nsystem_instructions: keep me\n")
    result, _ = run(project, "workflows/state.workflow.yml", variables={"name": ".oxy/oxy.db"})
    assert result.error is not None and "is inside .oxy/, oxy's own state" in str(result.error)
    result, _ = run(project, "workflows/prefix.workflow.yml", variables={"name": "../agents/a.agent.yml#"})
    assert result.error is not None and "leaves 'output', the folder its template names" in str(result.error)
    assert (
        project / "agents" / "a.agent.yml"
    ).read_text() == "model: scripted\nsystem_instructions: keep me\n"
