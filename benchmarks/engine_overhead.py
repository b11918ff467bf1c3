"""Engine overhead: oxy's agent loop versus a plain `openai` client loop sending the same requests.

Each run is one question, one tool call, two model requests, against the scripted model server (in
its own process), both ways: streamed (someone reads the answer as it is written: a terminal, an SSE
client) and whole (nobody does: a non-streaming HTTP request, a workflow's agent task). oxy's side is
what a served run executes: render the system instructions, the ReAct loop with its events, the tool
through `FunctionTool`, the cached OpenAI-compatible client with retries and limits; whether it
streams follows its sink, as in a real run. The plain side is the loop a user would write with one
`AsyncOpenAI` client and `chat.completions.create`. Rounds alternate between all four; the table
shows medians.

    python benchmarks/engine_overhead.py [--runs 400] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from openai import AsyncOpenAI

from benchmarks._scripted_backend import scripted_backend
from benchmarks._table import print_table
from oxy.agents.react import ReactLoop
from oxy.config.models import VLLMModelConfig
from oxy.events.sinks import EventSink, TeeSink
from oxy.events.types import Event
from oxy.execution.executable import fn, step
from oxy.execution.run import run_executable
from oxy.execution.templates import Renderer
from oxy.models import SystemMessage, UserMessage, client_for
from oxy.tools.base import FunctionTool
from oxy.tools.toolset import FunctionToolset

SYSTEM = "You answer questions about {{ shop }} using the lookup tool."
QUESTION = "What is the answer?"


class CountingSink(EventSink):
    """Counts events, as a cheap stand-in for a handler (the terminal, SSE, the run store)."""

    def __init__(self, *, streams_text: bool) -> None:
        self.count = 0
        self.streams_text = streams_text

    async def emit(self, event: Event) -> None:
        self.count += 1


async def lookup(key: str) -> str:
    """Look a key up."""
    return "42"


def oxy_runner(
    base_url: str, *, stream: bool, extra_sink: Callable[[], EventSink] | None = None
) -> Callable[[], Awaitable[None]]:
    """One run of the oxy loop; `extra_sink` makes a second sink per run (tracing_overhead's)."""
    config = VLLMModelConfig.model_validate(
        {"name": "bench", "vendor": "vllm", "model_ref": "scripted", "api_url": base_url}
    )
    model = client_for(config, project_root=Path.cwd())
    loop = ReactLoop(
        model=model, toolsets=[FunctionToolset([FunctionTool(lookup)])], agent_name="bench", max_tool_calls=4
    )
    renderer = Renderer()
    sink = CountingSink(streams_text=stream)

    async def agent(ctx: Any, prompt: str) -> str:
        system = renderer.render(SYSTEM, {"shop": "a coffee shop"})
        answer = await loop.execute(ctx, [SystemMessage(content=system), UserMessage(content=prompt)])
        return answer.text

    executable = step(fn(agent), name="bench", step_type="agent")

    async def one() -> None:
        run_sink: EventSink = sink if extra_sink is None else TeeSink([sink, extra_sink()])
        result = await run_executable(executable, QUESTION, target="bench", sink=run_sink)
        assert result.status == "ok", result.error

    return one


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a key up.",
            "parameters": {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
        },
    }
]


def plain_runner(base_url: str, *, stream: bool) -> Callable[[], Awaitable[None]]:
    """The hand-written loop, streamed or not, as a user would write it with the `openai` client."""
    client = AsyncOpenAI(base_url=base_url, api_key="none")

    async def turn(messages: list[dict[str, Any]]) -> tuple[str, dict[int, dict[str, str]]]:
        calls: dict[int, dict[str, str]] = {}
        if not stream:
            completion = await client.chat.completions.create(
                model="scripted",
                messages=messages,  # type: ignore[arg-type]
                tools=TOOLS,  # type: ignore[arg-type]
            )
            message = completion.choices[0].message
            for i, tc in enumerate(message.tool_calls or ()):
                function = tc.function  # type: ignore[union-attr]
                calls[i] = {"id": tc.id, "name": function.name, "arguments": function.arguments}
            return message.content or "", calls
        chunks = await client.chat.completions.create(
            model="scripted",
            messages=messages,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        text: list[str] = []
        async for chunk in chunks:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                text.append(delta.content)
            for tc in delta.tool_calls or ():
                call = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                if tc.id:
                    call["id"] = tc.id
                if tc.function and tc.function.name:
                    call["name"] = tc.function.name
                if tc.function and tc.function.arguments:
                    call["arguments"] += tc.function.arguments
        return "".join(text), calls

    async def one() -> None:
        system = SYSTEM.replace("{{ shop }}", "a coffee shop")
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": QUESTION},
        ]
        while True:
            text, calls = await turn(messages)
            if not calls:
                return
            messages.append(
                {
                    "role": "assistant",
                    "content": text,
                    "tool_calls": [
                        {
                            "id": c["id"],
                            "type": "function",
                            "function": {"name": c["name"], "arguments": c["arguments"]},
                        }
                        for c in calls.values()
                    ],
                }
            )
            for c in calls.values():
                json.loads(c["arguments"])
                messages.append({"role": "tool", "tool_call_id": c["id"], "content": await lookup("answer")})

    return one


async def timed(one: Callable[[], Awaitable[None]], runs: int, concurrency: int) -> float:
    limiter = anyio.CapacityLimiter(concurrency)

    async def guarded() -> None:
        async with limiter:
            await one()

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(runs):
            tg.start_soon(guarded)
    return time.perf_counter() - started


async def measure(base_url: str, runs: int, rounds: int, concurrency: int) -> dict[str, float]:
    runners = {
        "oxy whole": oxy_runner(base_url, stream=False),
        "plain whole": plain_runner(base_url, stream=False),
        "oxy streamed": oxy_runner(base_url, stream=True),
        "plain streamed": plain_runner(base_url, stream=True),
    }
    for one in runners.values():  # warm up: connections, caches, imports
        await timed(one, min(runs, 100), concurrency)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):  # interleave, so drift in the machine's load hits every runner alike
        for name, one in runners.items():
            # Re-open the pool's connections first (idle ones expire after 5 s while the other runners
            # go): 64 connects at once stall for seconds on loopback, whichever client makes them.
            await timed(one, concurrency * 2, concurrency)
            times[name].append(await timed(one, runs, concurrency))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with scripted_backend() as base_url:
        for concurrency in (1, 64):
            t = anyio.run(measure, base_url, args.runs, args.rounds, concurrency)
            for mode, goal in (("whole", "0.35"), ("streamed", "0.35")):
                oxy, plain = t[f"oxy {mode}"], t[f"plain {mode}"]
                added_ms = (oxy - plain) / args.runs * 1000
                rows.append(
                    (
                        str(concurrency),
                        mode,
                        f"{args.runs / plain:.0f}",
                        f"{args.runs / oxy:.0f}",
                        f"{plain / oxy * 100:.1f}%",
                        f"{added_ms:+.3f}",
                        f"<= {goal}" if concurrency == 1 else ">= 95%",
                    )
                )
    header = (
        "concurrency",
        "answers",
        "plain runs/s",
        "oxy runs/s",
        "oxy/plain runs/s",
        "oxy adds ms/run",
        "goal",
    )
    print(
        f"engine overhead: {args.runs} runs x (2 model requests + 1 tool call), median of {args.rounds} rounds"
    )
    print_table(header, rows)


if __name__ == "__main__":
    main()
