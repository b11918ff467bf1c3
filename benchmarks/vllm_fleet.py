"""Many concurrent agent runs against a served model: oxy vs the `openai` client alone, same concurrency.

    python -m benchmarks.vllm_fleet [--requests 32] [--concurrency 4]
    python -m benchmarks.vllm_fleet --api-url http://127.0.0.1:8000/v1 --model-ref Qwen/Qwen2.5-7B-Instruct

Without `--api-url` it serves the shipped SmolLM2 with llama.cpp's server on this machine's CPU (started
and stopped through oxy's own supervisor, `engine: llamacpp`); with one, it uses that server (vLLM on a GPU
host). "openai client" sends the same chat requests with `chat.completions.create`; "oxy" runs an agent
(no tools) through `run_file` for each. Both report requests/s and answer characters/s (the same measure
for both: llama.cpp's server reports no usage on streamed answers); the goal on GPU is that oxy reaches
at least 90% of the direct client's output rate.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from pathlib import Path

import anyio

from oxy import Runtime, load_project, run_file
from oxy.config.models import VLLMModelConfig
from oxy.models.serving import ModelServer, plan_for

QUESTION = "Name one colour of the rainbow."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _direct(api_url: str, model: str, requests: int, concurrency: int) -> tuple[float, int]:
    from openai import AsyncOpenAI  # lazy: the SDK loads when the benchmark runs

    client = AsyncOpenAI(base_url=api_url, api_key="none", max_retries=0)
    tokens = 0
    limiter = anyio.CapacityLimiter(concurrency)

    async def one() -> None:
        nonlocal tokens
        async with limiter:
            answer = await client.chat.completions.create(
                model=model,
                messages=[
                    {"role": "system", "content": "Answer in a few words."},
                    {"role": "user", "content": QUESTION},
                ],
            )
            tokens += len(answer.choices[0].message.content or "")

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(requests):
            group.start_soon(one)
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed, tokens


async def _oxy(project: Path, requests: int, concurrency: int) -> tuple[float, int]:
    runtime = Runtime.for_project(load_project(project))
    tokens = 0
    limiter = anyio.CapacityLimiter(concurrency)

    async def one() -> None:
        nonlocal tokens
        async with limiter:
            result = await run_file(project / "agents" / "a.agent.yml", runtime=runtime, prompt=QUESTION)
            assert result.status == "ok", result.error
            tokens += len(result.output or "")

    started = time.perf_counter()
    async with runtime, anyio.create_task_group() as group:
        for _ in range(requests):
            group.start_soon(one)
    return time.perf_counter() - started, tokens


def _project(folder: Path, api_url: str, model_ref: str) -> Path:
    (folder / "agents").mkdir(parents=True, exist_ok=True)
    (folder / "config.yml").write_text(
        f"models:\n  - name: m\n    vendor: vllm\n    model_ref: {model_ref}\n    api_url: {api_url}\n"
    )
    (folder / "agents" / "a.agent.yml").write_text("model: m\nsystem_instructions: Answer in a few words.\n")
    return folder


async def _measure(args: argparse.Namespace, folder: Path) -> list[tuple[str, float, int]]:
    project = _project(folder, args.api_url, args.model_ref)
    rows: list[tuple[str, float, int]] = []
    for _ in range(args.rounds):  # alternate, so both see the same server warmth
        elapsed, tokens = await _direct(args.api_url, args.model_ref, args.requests, args.concurrency)
        rows.append(("openai client", elapsed, tokens))
        elapsed, tokens = await _oxy(project, args.requests, args.concurrency)
        rows.append(("oxy", elapsed, tokens))
    return rows


async def _run(args: argparse.Namespace) -> list[tuple[str, float, int]]:
    with tempfile.TemporaryDirectory() as folder:
        if args.api_url is not None:
            return await _measure(args, Path(folder))
        port = _free_port()
        config = VLLMModelConfig.model_validate(
            {
                "name": "small",
                "vendor": "vllm",
                "model_ref": "smollm2",
                "api_url": f"http://127.0.0.1:{port}/v1",
                "serve": {"engine": "llamacpp", "args": {"n_ctx": 2048}},
            }
        )
        args.api_url, args.model_ref = config.api_url, "smollm2"
        async with ModelServer(plan_for(config, project_root=Path(folder))):
            return await _measure(args, Path(folder))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url")
    parser.add_argument("--model-ref", default="smollm2")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = anyio.run(_run, args)
    print(f"{args.requests} requests at concurrency {args.concurrency}, {args.model_ref}\n")
    print("| client | round | seconds | requests/s | answer characters/s |")
    print("|---|---|---|---|---|")
    totals: dict[str, list[float]] = {}
    for i, (name, elapsed, tokens) in enumerate(rows):
        rate = tokens / elapsed if elapsed else 0.0
        totals.setdefault(name, []).append(rate)
        print(f"| {name} | {i // 2 + 1} | {elapsed:.2f} | {args.requests / elapsed:.1f} | {rate:.0f} |")
    direct, oxy = max(totals["openai client"]), max(totals["oxy"])
    print(
        f"\noxy reaches {oxy / direct:.0%} of the direct client's output rate (best rounds; goal on GPU: >= 90%)"
    )


if __name__ == "__main__":
    main()
