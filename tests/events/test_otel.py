"""OpenTelemetry spans from the event stream: the GenAI span tree of an agent run with a tool call,
of a workflow, message content only when opted in, and the OTLP JSON file."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from oxy import Runtime, load_project, run_file
from oxy.events.otel import OtlpJsonFileExporter, Tracing, provider_name
from oxy.models.messages import Usage
from oxy.testing import Fail, Reply, ScriptedModel, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"
MODELS = {"smollm2": ("local", "smollm2")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    return root


def agent_run(project: Path, tracing: Tracing, script: Sequence[Reply | Fail]) -> None:
    model = ScriptedModel(list(script), name="smollm2")
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model})

    async def main() -> None:
        async with runtime:
            await run_file(
                project / "agents/analyst.agent.yml",
                runtime=runtime,
                prompt="How many orders?",
                sink=tracing.sink(conversation_id="thread-1"),
            )

    anyio.run(main)
    assert tracing.shutdown()


SCRIPT = [
    Reply(
        tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"}, id="c1")],
        usage=Usage(input_tokens=100, output_tokens=12),
    ),
    Reply(text="There are 240 orders.", usage=Usage(input_tokens=150, output_tokens=6)),
]


def started(span: ReadableSpan) -> tuple[int, int]:
    """Start order; of spans that start together, the enclosing one (it ends later) first."""
    return (span.start_time or 0, -(span.end_time or 0))


def tree(spans: Sequence[ReadableSpan]) -> list[tuple[str, str | None]]:
    """(span name, parent span name), in start order."""
    by_id = {s.context.span_id: s.name for s in spans if s.context is not None}
    ordered = sorted(spans, key=started)
    return [(s.name, by_id.get(s.parent.span_id) if s.parent else None) for s in ordered]


def test_an_agent_run_with_a_tool_call_is_a_genai_span_tree(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    memory = InMemorySpanExporter()
    agent_run(project, Tracing([memory], models=MODELS), SCRIPT)
    spans = memory.get_finished_spans()
    assert tree(spans) == [
        ("invoke_agent analyst", None),
        ("chat smollm2", "invoke_agent analyst"),
        ("execute_tool execute_sql", "invoke_agent analyst"),
        ("execute_sql shop", "execute_tool execute_sql"),
        ("chat smollm2", "invoke_agent analyst"),
    ]
    agent, first_chat, tool, query, second_chat = sorted(spans, key=started)
    assert len({s.context.trace_id for s in spans if s.context}) == 1
    assert dict(agent.attributes or {}) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "analyst",
        "gen_ai.conversation.id": "thread-1",
    }
    assert dict(first_chat.attributes or {}) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "llama_cpp",
        "gen_ai.request.model": "smollm2",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.conversation.id": "thread-1",
    }
    assert (second_chat.attributes or {})["gen_ai.usage.output_tokens"] == 6
    assert dict(tool.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "execute_sql",
        "gen_ai.tool.call.id": "c1",
        "gen_ai.conversation.id": "thread-1",
    }
    assert (query.attributes or {})["db.response.returned_rows"] == 1
    assert "db.query.text" not in (query.attributes or {})  # content is opt-in
    # each span lies within its parent, and the chats do not overlap the tool
    assert agent.start_time <= first_chat.start_time <= (first_chat.end_time or 0) <= (tool.start_time or 0)
    assert (tool.end_time or 0) <= (second_chat.end_time or 0) <= (agent.end_time or 0)
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)


def test_parallel_calls_of_one_tool_keep_their_own_statements(project: Path) -> None:
    memory = InMemorySpanExporter()
    calls = [
        tool_call("execute_sql", {"sql": "select count(*) as n from orders"}, id="c1"),
        tool_call("execute_sql", {"sql": "select * from products"}, id="c2"),
    ]
    agent_run(project, Tracing([memory], models=MODELS), [Reply(tool_calls=calls), Reply(text="Done.")])
    spans = memory.get_finished_spans()
    tools = {
        s.context.span_id: (s.attributes or {})["gen_ai.tool.call.id"]
        for s in spans
        if s.name.startswith("execute_tool") and s.context
    }
    queries = [s for s in spans if s.name == "execute_sql shop"]
    assert len(queries) == 2 and all(q.parent is not None for q in queries)
    owners = {
        tools[q.parent.span_id]: (q.attributes or {})["db.response.returned_rows"]
        for q in queries
        if q.parent
    }
    assert owners == {"c1": 1, "c2": 10}  # each statement under its own call, with its own rows


def test_message_content_is_recorded_only_when_opted_in(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    memory = InMemorySpanExporter()
    agent_run(project, Tracing([memory], models=MODELS), SCRIPT)
    by_name = {s.name: s for s in memory.get_finished_spans()}
    tool = dict(by_name["execute_tool execute_sql"].attributes or {})
    assert json.loads(str(tool["gen_ai.tool.call.arguments"])) == {"sql": "select count(*) as n from orders"}
    assert "240" in str(tool["gen_ai.tool.call.result"])
    assert (by_name["execute_sql shop"].attributes or {})[
        "db.query.text"
    ] == "select count(*) as n from orders"


def test_a_failing_tool_and_a_failed_run_mark_their_spans(project: Path) -> None:
    memory = InMemorySpanExporter()
    script = [
        Reply(tool_calls=[tool_call("execute_sql", {"sql": "select nope from orders"}, id="c1")]),
        Reply(text="That failed."),
    ]
    agent_run(project, Tracing([memory], models=MODELS), script)
    by_name = {s.name: s for s in memory.get_finished_spans()}
    tool = by_name["execute_tool execute_sql"]
    assert (
        tool.status.status_code is StatusCode.ERROR and (tool.attributes or {})["error.type"] == "tool_error"
    )
    assert by_name["execute_sql shop"].status.status_code is StatusCode.ERROR
    assert by_name["invoke_agent analyst"].status.status_code is StatusCode.UNSET  # the agent went on

    memory = InMemorySpanExporter()  # the first was shut down with its tracing
    broken = Tracing([memory], models=MODELS)
    agent_run(project, broken, [Fail(status=400)])  # the model call fails, and the run with it
    (agent,) = memory.get_finished_spans()
    assert agent.name == "invoke_agent analyst" and agent.status.status_code is StatusCode.ERROR


def test_a_workflow_is_invoke_workflow_over_its_tasks(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "trace" / "spans.jsonl"
    tracing = Tracing([OtlpJsonFileExporter(out)], models=MODELS)
    runtime = Runtime.for_project(load_project(project))

    async def main() -> None:
        async with runtime:
            result = await run_file(
                project / "workflows/product_report.workflow.yml", runtime=runtime, sink=tracing.sink()
            )
            assert result.status == "ok"

    anyio.run(main)
    assert tracing.shutdown()
    spans = [
        span
        for line in out.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    # OTLP/JSON: ids in hex (not protobuf's base64), enums as numbers, 64-bit integers as strings
    assert all(
        re.fullmatch(r"[0-9a-f]{32}", s["traceId"]) and re.fullmatch(r"[0-9a-f]{16}", s["spanId"])
        for s in spans
    )
    assert {s["kind"] for s in spans} == {1, 3}  # internal steps, client database calls
    rows = [a["value"] for s in spans for a in s["attributes"] if a["key"] == "db.response.returned_rows"]
    assert rows and all(isinstance(v["intValue"], str) for v in rows)
    ids = {span["spanId"]: span["name"] for span in spans}
    parents = {(span["name"], ids.get(span.get("parentSpanId", ""))) for span in spans}
    assert ("invoke_workflow product_report", None) in parents
    assert ("task best_sellers", "invoke_workflow product_report") in parents
    assert ("execute_sql shop", "task best_sellers") in parents
    assert ("task per_product", "invoke_workflow product_report") in parents
    assert ("loop_iteration 0", "task per_product") in parents
    assert ("task orders", "loop_iteration 0") in parents
    resource = json.loads(out.read_text().splitlines()[0])["resourceSpans"][0]["resource"]
    assert {"key": "service.name", "value": {"stringValue": "oxy"}} in resource["attributes"]
    conversation = {
        a["value"]["stringValue"]
        for span in spans
        for a in span["attributes"]
        if a["key"] == "gen_ai.conversation.id"
    }
    assert len(conversation) == 1  # the run id, when there is no thread


@pytest.mark.parametrize(
    ("vendor", "model_ref", "name"),
    [
        ("openai", "gpt-4o", "openai"),
        ("vllm", "Qwen/Qwen2.5-7B-Instruct", "vllm"),
        ("local", "smollm2", "llama_cpp"),
        ("google", "gemini-2.5-flash", "gcp.gemini"),
        ("litellm", "mistral/mistral-small", "mistral_ai"),
        ("litellm", "anthropic/claude-sonnet-4", "anthropic"),
    ],
)
def test_provider_names_follow_the_conventions(vendor: str, model_ref: str, name: str) -> None:
    assert provider_name(vendor, model_ref) == name
