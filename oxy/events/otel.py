"""OpenTelemetry traces of runs, after the GenAI semantic conventions, built from the event stream.

`OtelSink` turns one run's events into spans: `invoke_workflow {name}` and `invoke_agent {name}` for
workflow and agent steps, `{type} {name}` for other steps (tasks, loop iterations), `chat {model}`
for each model call (from the end of the previous model call, tool result or step start in the same
agent, to its usage event), `execute_tool {tool}` from a tool call to its result, and
`execute_sql {database}` from a statement to its rows (the database conventions' attributes). Each span is
timed by its events' own timestamps, so the spans are exact even though the sink sees events later.

Message content (tool arguments and results, answers, SQL text) is recorded only when
`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is true, as in OpenTelemetry's own GenAI
instrumentations. This module imports the OpenTelemetry SDK (the `otel` extra); nothing imports it
unless tracing is switched on.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from oxy.errors import ConfigError
from oxy.events.sinks import EventSink
from oxy.events.types import (
    ErrorEvent,
    Event,
    RunFinished,
    RunStarted,
    Source,
    SqlEvent,
    StepFinished,
    StepStarted,
    TableEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)

__all__ = [
    "OtelSink",
    "OtlpJsonFileExporter",
    "Tracing",
    "capture_content",
    "exporters",
    "otlp_json",
    "tracer_provider",
]

# The GenAI semantic conventions' attribute names (stable strings; the Python constants are still
# in the incubating package).
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FINISH_REASONS = "gen_ai.response.finish_reasons"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
CONVERSATION = "gen_ai.conversation.id"
AGENT_NAME = "gen_ai.agent.name"
WORKFLOW_NAME = "gen_ai.workflow.name"
OUTPUT_MESSAGES = "gen_ai.output.messages"

_PROVIDERS = {
    "google": "gcp.gemini",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "mistral": "mistral_ai",
}
_CONTENT_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def capture_content() -> bool:
    """Whether spans may carry message content (the standard opt-in variable is true)."""
    return os.environ.get(_CONTENT_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def provider_name(vendor: str, model_ref: str) -> str:
    """`gen_ai.provider.name` for a config.yml model: its vendor, or for litellm the model's prefix."""
    if vendor == "litellm" and "/" in model_ref:
        vendor = model_ref.split("/", 1)[0]
    if vendor == "local":
        return "llama_cpp"
    return _PROVIDERS.get(vendor, vendor)


def _ns(ts: float) -> int:
    return int(ts * 1e9)


@dataclass
class _Tool:
    """An open tool call: the source its steps run at, its span, and the statement it is running
    (statements name their call: parallel calls of one tool share a source)."""

    at: Source
    span: Span
    query: Span | None = None


@dataclass
class _Agent:
    """The chat state of one agent step: where its next model call starts, and its text so far."""

    since: float
    text: list[str] = field(default_factory=list[str])


class OtelSink(EventSink):
    """The spans of one run. `models` maps config.yml model names to `(vendor, model_ref)`;
    `conversation_id` is the thread (default: the run id)."""

    streams_text = False

    def __init__(
        self,
        tracer: trace.Tracer,
        *,
        models: Mapping[str, tuple[str, str]] | None = None,
        conversation_id: str | None = None,
        content: bool | None = None,
    ) -> None:
        self._tracer = tracer
        self._models = dict(models or {})
        self._conversation = conversation_id
        self._content = capture_content() if content is None else content
        self._steps: dict[Source, Span] = {}
        self._tools: dict[str, _Tool] = {}
        """Open tool calls by call id, in the order they were made."""
        self._agents: dict[Source, _Agent] = {}
        self._queries: dict[Source, Span] = {}
        """Open statements outside tools (a workflow's `execute_sql` task), by source."""

    async def emit(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            if self._conversation is None and not event.source:
                self._conversation = event.run_id
        elif isinstance(event, StepStarted):
            self._start_step(event)
        elif isinstance(event, StepFinished):
            self._finish_step(event)
        elif isinstance(event, UsageEvent):
            self._chat(event)
        elif isinstance(event, TextDelta):
            agent = self._agents.get(event.source)
            if agent is not None and self._content:
                agent.text.append(event.text)
        elif isinstance(event, ToolCallEvent):
            self._start_tool(event)
        elif isinstance(event, ToolResultEvent):
            self._finish_tool(event)
        elif isinstance(event, SqlEvent):
            self._start_query(event)
        elif isinstance(event, TableEvent):
            self._end_query(event.source, event.call_id, event.ts, rows=len(event.rows))
        elif isinstance(event, ErrorEvent):
            span = self._innermost(event.source)
            if span is not None:
                span.set_status(Status(StatusCode.ERROR, event.message))
                span.set_attribute("error.type", event.error_type)
        elif isinstance(event, RunFinished) and not event.source:
            self._close_all(event)

    def _parent(self, source: Source) -> Any:
        span = self._innermost(source)
        return trace.set_span_in_context(span) if span is not None else None

    def _innermost(self, source: Source) -> Span | None:
        """The open span of `source` or of its nearest enclosing step or tool call."""
        query = self._queries.get(source)
        if query is not None:
            return query
        for depth in range(len(source), 0, -1):
            prefix = source[:depth]
            tool = next((t.span for t in reversed(self._tools.values()) if t.at == prefix), None)
            if tool is not None:
                return tool
            step = self._steps.get(prefix)
            if step is not None:
                return step
        return None

    def _attributes(self, **extra: Any) -> dict[str, Any]:
        attributes = {k: v for k, v in extra.items() if v is not None}
        if self._conversation is not None:
            attributes[CONVERSATION] = self._conversation
        return attributes

    def _start_step(self, event: StepStarted) -> None:
        name = event.source[-1] if event.source else event.name
        if event.step_type == "agent":
            title = f"invoke_agent {name}"
            attributes = self._attributes(**{OPERATION: "invoke_agent", AGENT_NAME: name})
            self._agents[event.source] = _Agent(event.ts)
        elif event.step_type == "workflow":
            title = f"invoke_workflow {name}"
            attributes = self._attributes(**{OPERATION: "invoke_workflow", WORKFLOW_NAME: name})
        else:
            title = f"{event.step_type} {name}"
            attributes = self._attributes(**{"oxy.step.type": event.step_type})
        kind = SpanKind.INTERNAL
        span = self._tracer.start_span(
            title,
            context=self._parent(event.source[:-1]),
            kind=kind,
            attributes=attributes,
            start_time=_ns(event.ts),
        )
        self._steps[event.source] = span

    def _finish_step(self, event: StepFinished) -> None:
        self._end_query(
            event.source, None, event.ts, error=None if event.status == "ok" else event.error or event.status
        )
        span = self._steps.pop(event.source, None)
        self._agents.pop(event.source, None)
        if span is None:
            return
        if event.status == "error":
            span.set_status(Status(StatusCode.ERROR, event.error or "error"))
        elif event.status == "cancelled":
            span.set_status(Status(StatusCode.ERROR, "cancelled"))
            span.set_attribute("error.type", "cancelled")
        span.end(end_time=_ns(event.ts))

    def _chat(self, event: UsageEvent) -> None:
        agent = self._agents.setdefault(event.source, _Agent(event.ts))
        vendor, model_ref = self._models.get(event.model, ("", event.model))
        attributes = self._attributes(
            **{
                OPERATION: "chat",
                PROVIDER: provider_name(vendor, model_ref) if vendor else None,
                REQUEST_MODEL: model_ref,
                INPUT_TOKENS: event.input_tokens,
                OUTPUT_TOKENS: event.output_tokens,
                FINISH_REASONS: [event.finish_reason] if event.finish_reason else None,
            }
        )
        if self._content and agent.text:
            message = {"role": "assistant", "parts": [{"type": "text", "content": "".join(agent.text)}]}
            attributes[OUTPUT_MESSAGES] = json.dumps([message])
        span = self._tracer.start_span(
            f"chat {model_ref}",
            context=self._parent(event.source),
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=_ns(agent.since),
        )
        span.end(end_time=_ns(event.ts))
        agent.since, agent.text = event.ts, []

    def _start_tool(self, event: ToolCallEvent) -> None:
        attributes = self._attributes(
            **{
                OPERATION: "execute_tool",
                TOOL_NAME: event.name,
                TOOL_CALL_ID: event.call_id,
                TOOL_ARGUMENTS: event.arguments if self._content else None,
            }
        )
        span = self._tracer.start_span(
            f"execute_tool {event.name}",
            context=self._parent(event.source),
            attributes=attributes,
            start_time=_ns(event.ts),
        )
        self._tools[event.call_id] = _Tool((*event.source, event.name), span)

    def _finish_tool(self, event: ToolResultEvent) -> None:
        tool = self._tools.pop(event.call_id, None)
        agent = self._agents.get(event.source)
        if agent is not None:
            agent.since = max(agent.since, event.ts)
        if tool is None:
            return
        span = tool.span
        if tool.query is not None:  # its statement brought no rows: the tool's result says why
            _end(tool.query, event.ts, error=event.content[:200] if event.is_error else None)
        if self._content:
            span.set_attribute(TOOL_RESULT, event.content)
        if event.is_error:
            span.set_status(Status(StatusCode.ERROR, event.content[:200]))
            span.set_attribute("error.type", "tool_error")
        span.end(end_time=_ns(event.ts))

    def _end_query(
        self,
        source: Source,
        call_id: str | None,
        ts: float,
        *,
        rows: int | None = None,
        error: str | None = None,
    ) -> None:
        """End the statement open for tool call `call_id` (else at `source`), with its row count or
        the error that ended it."""
        tool = self._tools.get(call_id) if call_id is not None else None
        if tool is not None:
            if tool.query is not None:
                _end(tool.query, ts, rows=rows, error=error)
                tool.query = None
            return
        span = self._queries.pop(source, None)
        if span is not None:
            _end(span, ts, rows=rows, error=error)

    def _start_query(self, event: SqlEvent) -> None:
        tool = self._tools.get(event.call_id) if event.call_id is not None else None
        self._end_query(event.source, event.call_id, event.ts)  # one still open here ended unseen
        attributes = self._attributes(
            **{
                "db.system.name": event.dialect,
                "db.namespace": event.database,
                "db.query.text": event.sql if self._content else None,
            }
        )
        parent = trace.set_span_in_context(tool.span) if tool is not None else self._parent(event.source)
        span = self._tracer.start_span(
            f"execute_sql {event.database}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=_ns(event.ts),
        )
        if tool is not None:
            tool.query = span
        else:
            self._queries[event.source] = span

    def _close_all(self, event: RunFinished) -> None:
        """The run is over: end what is still open (a cancelled run's steps), innermost first."""
        for span in self._queries.values():
            span.end(end_time=_ns(event.ts))
        for tool in reversed(list(self._tools.values())):
            if tool.query is not None:
                tool.query.end(end_time=_ns(event.ts))
            tool.span.set_status(Status(StatusCode.ERROR, event.error or event.status))
            tool.span.end(end_time=_ns(event.ts))
        for source in sorted(self._steps, key=len, reverse=True):
            span = self._steps[source]
            if event.status != "ok":
                span.set_status(Status(StatusCode.ERROR, event.error or event.status))
            span.end(end_time=_ns(event.ts))
        self._queries.clear()
        self._tools.clear()
        self._steps.clear()
        self._agents.clear()


def _end(span: Span, ts: float, *, rows: int | None = None, error: str | None = None) -> None:
    if rows is not None:
        span.set_attribute("db.response.returned_rows", rows)
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, error))
    span.end(end_time=_ns(ts))


class OtlpJsonFileExporter(SpanExporter):
    """Writes spans as OTLP JSON, one `ExportTraceServiceRequest` per line (the OTLP file format),
    appending to `path`; each batch is written and flushed whole."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--otel-file {path}: cannot open it: {exc.strerror or exc}") from None
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        line = json.dumps(otlp_json(spans), separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            if self._file.closed:
                return SpanExportResult.FAILURE
            self._file.write(line + "\n")
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._file.close()


def otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """`spans` as an OTLP/JSON `ExportTraceServiceRequest`: ids in hex, 64-bit numbers as strings,
    enums as numbers (the OTLP spec's JSON encoding). Hand-written: the SDK's way, protobuf messages
    then `MessageToJson`, costs about 80 µs a span against 10 here (that ran in the export thread,
    holding the GIL from the runs), and writes ids in base64, which OTLP/JSON readers reject."""
    resources: dict[int, tuple[Any, dict[tuple[str, str | None], list[dict[str, Any]]]]] = {}
    for span in spans:
        resource = span.resource
        scope = span.instrumentation_scope
        _, scopes = resources.setdefault(id(resource), (resource, {}))
        key = (scope.name, scope.version) if scope is not None else ("", None)
        scopes.setdefault(key, []).append(_span_json(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource.attributes)},
                "scopeSpans": [
                    {"scope": {"name": name, **({"version": version} if version else {})}, "spans": encoded}
                    for (name, version), encoded in scopes.items()
                ],
            }
            for resource, scopes in resources.values()
        ]
    }


def _span_json(span: ReadableSpan) -> dict[str, Any]:
    context = span.context
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}" if context is not None else "",
        "spanId": f"{context.span_id:016x}" if context is not None else "",
        "name": span.name,
        "kind": span.kind.value + 1,  # the SDK's INTERNAL is 0; OTLP's SPAN_KIND_INTERNAL is 1
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": _attributes(span.attributes),
        "status": {"code": span.status.status_code.value},
    }
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.status.description:
        out["status"]["message"] = span.status.description
    if span.events:
        out["events"] = [
            {"timeUnixNano": str(e.timestamp), "name": e.name, "attributes": _attributes(e.attributes)}
            for e in span.events
        ]
    return out


def _attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in (attributes or {}).items()]


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [_any_value(v) for v in value]}}  # pyright: ignore[reportUnknownVariableType]
    return {"stringValue": str(value)}


def exporters(*, endpoint: bool = False, file: Path | None = None) -> list[SpanExporter]:
    """To the OTLP HTTP endpoint the standard `OTEL_EXPORTER_OTLP_*` variables name (`endpoint`),
    and/or to an OTLP JSON file."""
    chosen: list[SpanExporter] = []
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # lazy: the HTTP exporter only when asked
            OTLPSpanExporter,
        )

        chosen.append(OTLPSpanExporter())
    if file is not None:
        chosen.append(OtlpJsonFileExporter(file))
    return chosen


def tracer_provider(chosen: Sequence[SpanExporter]) -> TracerProvider:
    """A provider batching spans to `chosen`; `OTEL_SERVICE_NAME` names the service (default `oxy`)."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "oxy"})
    provider = TracerProvider(resource=resource)
    for exporter in chosen:
        # A queue deep enough for a busy server's bursts (the default 2048 drops spans past it).
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=65536, max_export_batch_size=2048)
        )
    return provider


class _Watched(SpanExporter):
    """An exporter that remembers whether an export failed (a collector down, a full disk)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.failed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.failed = self.failed or result is not SpanExportResult.SUCCESS
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class Tracing:
    """Tracing switched on for a process: one provider, a sink per run, `shutdown()` at the end."""

    def __init__(
        self, chosen: Sequence[SpanExporter], *, models: Mapping[str, tuple[str, str]] | None = None
    ) -> None:
        self._exporters = [_Watched(e) for e in chosen]
        # One line when a collector cannot be reached ("Failed to export"), not one per retry.
        logging.getLogger("opentelemetry.exporter").setLevel(logging.ERROR)
        self.provider = tracer_provider(self._exporters)
        self._tracer = self.provider.get_tracer("oxy")
        self._models = dict(models or {})

    @classmethod
    def start(
        cls, *, endpoint: bool, file: Path | None, models: Mapping[str, tuple[str, str]] | None = None
    ) -> Tracing:
        return cls(exporters(endpoint=endpoint, file=file), models=models)

    def sink(self, *, conversation_id: str | None = None) -> OtelSink:
        return OtelSink(self._tracer, models=self._models, conversation_id=conversation_id)

    def shutdown(self, timeout_s: float = 3.0) -> bool:
        """Export what is batched, waiting at most `timeout_s` (the SDK's flush blocks through the
        exporter's retries, seconds when a collector is down), then close the exporters. False when
        an export failed or the flush did not finish in time (those spans are lost)."""
        flush = threading.Thread(target=self.provider.force_flush, name="oxy-otel-flush", daemon=True)
        flush.start()
        flush.join(timeout_s)
        flushed = not flush.is_alive()
        for exporter in self._exporters:
            exporter.shutdown()  # interrupts an export still retrying
        flush.join(1.0)
        self.provider.shutdown()
        return flushed and not any(e.failed for e in self._exporters)
