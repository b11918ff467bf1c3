"""`/v1`: the OpenAI chat completions API over the project's agents (the model name is the agent's).

The last user message is the prompt and the messages before it the history; the agent's own system
instructions come first, as always. Streams are `chat.completion.chunk`s built from the text deltas
of the agent's own step; usage adds up the run's usage events.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from oxy.events.types import ErrorEvent, RunFinished, TextDelta, UsageEvent
from oxy.models.messages import AssistantMessage, Message, SystemMessage, ToolCall, ToolMessage, UserMessage
from oxy.serve._auth import Principal
from oxy.serve._errors import ApiError
from oxy.serve._handle import RunHandle
from oxy.serve._runs import RunRequest
from oxy.serve._server import Server, principal_of, server_of
from oxy.serve._sse import EventStream
from oxy.serve._streams import PING_S, run_headers

router = APIRouter(prefix="/v1")
ServerDep = Annotated[Server, Depends(server_of)]
PrincipalDep = Annotated[Principal, Depends(principal_of)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _Function(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str = ""


class _ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    function: _Function


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[_Part] | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""

    def to_message(self) -> Message:
        if self.role in ("system", "developer"):
            return SystemMessage(content=self.text())
        if self.role == "user":
            return UserMessage(content=self.text())
        if self.role == "tool":
            return ToolMessage(tool_call_id=self.tool_call_id or "", content=self.text(), name=self.name)
        calls = tuple(
            ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
            for c in self.tool_calls or ()
        )
        return AssistantMessage(content=self.text(), tool_calls=calls)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatCompletionBody(BaseModel):
    """The fields oxy reads; sampling options and the like are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=256)


@router.get("/models")
async def list_models(server: ServerDep) -> dict[str, Any]:
    models = [
        {"id": name, "object": "model", "created": 0, "owned_by": "oxy"}
        for name, entry in server.catalog.agents.items()
        if entry.error is None
    ]
    return {"object": "list", "data": models}


def _split(messages: list[ChatMessage]) -> tuple[str, list[Message]]:
    last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if last_user is None:
        raise ApiError(400, "The messages hold no user message to answer.")
    prompt = messages[last_user].text()
    if not prompt:
        raise ApiError(400, "The last user message is empty.")
    return prompt, [m.to_message() for m in messages[:last_user]]


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionBody, server: ServerDep, principal: PrincipalDep) -> Response:
    entry = server.catalog.agent(body.model)
    prompt, history = _split(body.messages)
    request = RunRequest(
        tenant=principal.tenant,
        entry=entry,
        prompt=prompt,
        history=history,
        record_thread=False,
        user=body.user,
        budget=principal.key_id,
        stream=bool(body.stream),
        can_answer=False,  # an OpenAI client never sees `input_requested`: nothing may wait on it
    )
    handle = await server.manager.start(request)
    completion = _Completion(handle, model=body.model)
    if body.stream:
        include_usage = body.stream_options is not None and body.stream_options.include_usage

        def disconnected() -> None:
            handle.cancel("The client disconnected before the run finished.")

        return EventStream(
            completion.chunks(include_usage=include_usage),
            headers=run_headers(handle),
            on_disconnect=disconnected,
        )
    await handle.done.wait()
    finished = handle.finished
    if finished is None or finished.status != "ok":
        error = finished.error if finished is not None else "The run ended without a result."
        errors = [p.event for p in handle.events if isinstance(p.event, ErrorEvent)]
        if errors and errors[-1].error_type == "ModelBusy":  # the error the run ended on
            # The model's queue is full (max_queue / queue_timeout): back off and retry, as from OpenAI.
            raise ApiError(429, f"{error}", type="model_busy", headers={"Retry-After": "1"})
        raise ApiError(502, f"The agent's run {handle.run_id} failed: {error}", type="run_failed")
    return JSONResponse(completion.whole(finished), headers=run_headers(handle))


class _Completion:
    def __init__(self, handle: RunHandle, *, model: str) -> None:
        self.handle = handle
        self.model = model
        self.id = f"chatcmpl-{handle.run_id}"
        self.created = int(time.time())

    def _usage(self) -> dict[str, int]:
        usages = [p.event for p in self.handle.events if isinstance(p.event, UsageEvent)]
        prompt = sum(u.input_tokens for u in usages)
        completion = sum(u.output_tokens for u in usages)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _finish_reason(self) -> str:
        """`length` when the agent's last model call was cut off by `max_tokens`, else `stop`."""
        own = [
            p.event
            for p in self.handle.events
            if isinstance(p.event, UsageEvent) and len(p.event.source) == 1
        ]
        return "length" if own and own[-1].finish_reason == "length" else "stop"

    def whole(self, finished: RunFinished) -> dict[str, Any]:
        output = finished.output
        message = {"role": "assistant", "content": output if isinstance(output, str) else json.dumps(output)}
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": self._finish_reason(), "logprobs": None}
            ],
            "usage": self._usage(),
        }

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        }
        return _data(chunk)

    async def chunks(self, *, include_usage: bool) -> AsyncGenerator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        finished: RunFinished | None = None
        async for published in self.handle.follow(ping_s=PING_S):
            if published is None:
                yield b": ping\n\n"
                continue
            event = published.event
            if isinstance(event, TextDelta) and len(event.source) == 1:
                yield self._chunk({"content": event.text})
            elif isinstance(event, RunFinished) and not event.source:
                finished = event
        if finished is None or finished.status != "ok":
            reason = finished.error if finished is not None else "The run ended without a result."
            yield _data({"error": {"type": "run_failed", "message": f"The agent's run failed: {reason}"}})
        else:
            yield self._chunk({}, finish_reason=self._finish_reason())
            if include_usage:
                usage = {
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "choices": [],
                    "usage": self._usage(),
                }
                yield _data(usage)
        yield b"data: [DONE]\n\n"


def _data(value: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(value, separators=(",", ":")).encode() + b"\n\n"
