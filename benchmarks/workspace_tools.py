"""What the workspace tools cost per call, through the toolset as a model's call reaches it.

A temp workspace holds a tree of `--files` Python files of 50 lines each. Each row is the median (and
p95) of `--calls` calls: a permission decision alone (path and compound command), `read` of a
1,000-line file, `glob` and `grep` over the tree (the pure-Python search; `rg` is used when it is on
PATH, and the table says which), `bash true` (process start to exit code) and a background task
started and stopped.

    python -m benchmarks.workspace_tools [--files 2000] [--calls 30]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from benchmarks._table import print_table
from oxy import Runtime, load_project
from oxy.agents.default import DefaultAgent
from oxy.application.wiring import build_agent
from oxy.config.permissions import Permissions
from oxy.execution.context import ExecutionContext
from oxy.execution.input import FixedInput
from oxy.tools.workspace.toolset import WorkspaceToolset

RULES = Permissions(
    allow=["read(**)", "glob", "grep", "bash(git status*)", "bash(pytest*)", "bash(true)", "task_start"],
    ask=["write(src/**)", "edit(src/**)"],
    deny=["read(**/.env)", "bash(rm -rf *)", "webfetch(*)"],
)


def make_project(root: Path, files: int) -> None:
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    permissions = json.dumps({"allow": RULES.allow, "ask": RULES.ask, "deny": RULES.deny})
    (root / "agents" / "coder.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n  - type: workspace\n"
        "    tools: [read, glob, grep, bash, task_start, task_stop]\n"
        f"permissions: {permissions}\n"
    )
    workspace = root / "workspace"
    for i in range(files):
        folder = workspace / f"pkg{i % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(f"def f{i}_{n}(x):\n    return x + {n}\n" for n in range(25))
        (folder / f"mod{i}.py").write_text(body)
    (workspace / "big.py").write_text("".join(f"value_{n} = {n}\n" for n in range(1000)))


def timed(samples: list[float]) -> tuple[str, str]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered) * 1000:.3f}", f"{p95 * 1000:.3f}"


async def measure(root: Path, calls: int) -> list[tuple[str, str, str]]:

    runtime = Runtime.for_project(load_project(root))
    rows: list[tuple[str, str, str]] = []
    async with runtime:
        agent = build_agent("agents/coder.agent.yml", runtime=runtime)
        assert isinstance(agent, DefaultAgent)
        (toolset,) = [t for t in agent.toolsets if isinstance(t, WorkspaceToolset)]
        ctx = ExecutionContext(run_id="bench", handle=runtime, input=FixedInput(approve=True))

        async def run(name: str, arguments: dict[str, Any]) -> str:
            return await toolset.call_tool(ctx, name, json.dumps(arguments))

        async def sample(label: str, call: Callable[[], Awaitable[object]], n: int = calls) -> None:
            await call()  # warm up
            samples: list[float] = []
            for _ in range(n):
                start = time.perf_counter()
                await call()
                samples.append(time.perf_counter() - start)
            rows.append((label, *timed(samples)))

        async def decide() -> None:
            RULES.decide("read", "pkg1/mod1.py")
            RULES.decide("bash", "git status && pytest -q | tail -3")

        await sample("permission decisions (path + 3-part command)", decide, n=calls * 100)
        await sample("read (1,000 lines)", lambda: run("read", {"path": "big.py"}))
        await sample("glob **/*.py", lambda: run("glob", {"pattern": "**/*.py"}))
        searcher = "rg" if shutil.which("rg") else "pure Python"
        await sample(
            f"grep 'return x \\+ 24' ({searcher})", lambda: run("grep", {"pattern": r"return x \+ 24"})
        )
        await sample("bash true", lambda: run("bash", {"command": "true"}))

        async def task() -> None:
            started = await run("task_start", {"command": "sleep 30"})
            task_id = started.split()[2]
            await run("task_stop", {"id": task_id})

        await sample("task_start + task_stop (sleep 30)", task, n=max(5, calls // 3))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description="What the workspace tools cost per call.")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "p"
        make_project(root, args.files)
        rows = anyio.run(measure, root, args.calls)
    print(f"workspace of {args.files:,} Python files ({args.files * 50:,} lines), {args.calls} calls each\n")
    print_table(("call", "median ms", "p95 ms"), rows)


if __name__ == "__main__":
    main()
