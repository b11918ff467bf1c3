"""docs/testing.md's Python examples run as shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_example_runs(code: str) -> None:
    exec(compile(code, str(DOC), "exec"), {"__name__": "docs_example"})


def test_the_documented_test_file_is_the_quickstarts() -> None:
    import yaml

    documented = re.search(
        r"## Testing agents: `oxy test`.*?```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL
    )
    assert documented is not None
    shipped = DOC.parents[1] / "projects" / "quickstart" / "agents" / "analyst.agent.test.yml"
    assert yaml.safe_load(documented.group(1)) == yaml.safe_load(shipped.read_text())


@pytest.mark.local_model
def test_the_documented_oxy_test_and_cassette_commands_run_on_the_local_model(tmp_path: Path) -> None:
    import importlib.util
    import shlex
    import shutil
    import subprocess
    import sys

    from oxy.models.local import shipped_model_path

    if importlib.util.find_spec("llama_cpp") is None or shipped_model_path() is None:
        pytest.skip("llama-cpp-python or the SmolLM2 GGUF is not installed (oxy models install-local)")
    commands: list[str] = []
    for heading in ("## Testing agents: `oxy test`", "## Recording and replaying model answers"):
        block = re.search(re.escape(heading) + r".*?```bash\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
        assert block is not None
        lines = block.group(1).strip().splitlines()
        assert lines[0] == "cd projects/quickstart"
        commands += lines[1:]
    project = tmp_path / "quickstart"
    shutil.copytree(DOC.parents[1] / "projects" / "quickstart", project)
    oxy = str(Path(sys.executable).with_name("oxy"))
    for command in commands:
        args = [oxy if a == "oxy" else a for a in shlex.split(command)]
        done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert (project / "junit.xml").read_text().startswith("<?xml")
    assert '"score": 1.0' in (project / "results.json").read_text()


def test_the_documented_evaluations_run_as_shown(tmp_path: Path) -> None:
    import shlex
    import shutil
    import subprocess
    import sys

    from oxy.models import ToolMessage, UserMessage
    from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

    section = DOC.read_text().split("## Oxy's evaluations")[1].split("\n## ")[0]
    tests, dataset = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    (commands,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)

    def script(request: ScriptedRequest) -> Turn:
        last = request.messages[-1]
        if request.model == "judge-model":
            text = last.content if isinstance(last, UserMessage) else ""
            return Reply(text="Same count.\nA" if "[Answer 1]" in text else "Both say 240.\nVerdict: PASS")
        if isinstance(last, ToolMessage):
            return Reply(text="There are 240 orders.")
        return Reply(tool_calls=[tool_call("execute_sql", {"sql": "select count(*) as n from orders"})])

    project = tmp_path / "quickstart"
    shutil.copytree(DOC.parents[1] / "projects" / "quickstart", project)
    (project / "agents" / "analyst.agent.test.yml").unlink()
    with ScriptedModelServer(script) as server:
        config = project / "config.yml"
        judge = f"models:\n  - name: judge\n    vendor: vllm\n    model_ref: judge-model\n    api_url: {server.base_url}\n"
        text = config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url)
        config.write_text(text.replace("models:\n", judge, 1))
        agent = project / "agents" / "analyst.agent.yml"
        agent.write_text(agent.read_text().replace("model: smollm2", "model: vllm") + tests)
        (project / "evals").mkdir()
        (project / "evals" / "orders.yml").write_text(dataset)
        lines = commands.strip().splitlines()
        assert lines[0] == "cd projects/quickstart"
        oxy = str(Path(sys.executable).with_name("oxy"))
        for command in lines[1:]:
            args = [oxy if a == "oxy" else a for a in shlex.split(command)]
            done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=False)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
    import json

    report = json.loads(done.stdout)
    assert [c["name"] for c in report["cases"]] == [
        "consistency: How many orders are there?",
        "How many orders are there?",
    ]
    assert report["cases"][1]["metrics"] == {"similarity": 1.0, "correctness": 1.0, "context_recall": 1.0}
    assert report["score"] == 1.0


def test_the_documented_tracing_commands_run(tmp_path: Path) -> None:
    import json
    import shlex
    import shutil
    import subprocess
    import sys

    from tests.otlp_collector import otlp_collector

    section = DOC.read_text().split("## Tracing runs with OpenTelemetry")[1].split("\n## ")[0]
    (commands,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
    project = tmp_path / "quickstart"
    shutil.copytree(DOC.parents[1] / "projects" / "quickstart", project)
    oxy = str(Path(sys.executable).with_name("oxy"))
    lines = commands.strip().splitlines()
    assert lines[0] == "cd projects/quickstart"
    with otlp_collector() as collector:
        for command in lines[1:]:
            words = shlex.split(command)
            env = dict(os.environ)
            while "=" in words[0]:  # VAR=value before the command; the endpoint is this test's collector
                key, _, value = words.pop(0).partition("=")
                env[key] = collector.url if key.endswith("ENDPOINT") else value
            args = [oxy if a == "oxy" else a for a in words]
            done = subprocess.run(
                args, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert done.returncode == 0 and done.stderr == "", (command, done.stdout, done.stderr)
    spans = [json.loads(line) for line in (project / "traces.jsonl").read_text().splitlines()]
    assert spans and "invoke_agent analyst" in collector.span_names()  # the file and the collector got it


def test_the_documented_prompt_files_and_variants_run(tmp_path: Path) -> None:
    import shlex
    import shutil
    import subprocess
    import sys

    from oxy.models import SystemMessage
    from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn

    section = DOC.read_text().split("## Versioned prompts and A/B variants")[1].split("\n## ")[0]
    (prompt,) = re.findall(r"```markdown\n(.*?)```", section, flags=re.DOTALL)
    (agent,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)
    (commands,) = re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)

    def script(request: ScriptedRequest) -> Turn:
        system = next(m.content for m in request.messages if isinstance(m, SystemMessage))
        return Reply(text="240" if "number only" in system else "There are 240 orders.")

    project = tmp_path / "quickstart"
    shutil.copytree(DOC.parents[1] / "projects" / "quickstart", project)
    (project / "prompts").mkdir()
    (project / "prompts" / "counter.prompt.md").write_text(prompt)
    (project / "agents" / "counter.agent.yml").write_text(agent)
    tests = "settings:\n  runs: 1\ncases:\n  - prompt: How many orders?\n    assert:\n      - contains: '240 orders'\n"
    (project / "agents" / "counter.agent.test.yml").write_text(tests)
    with ScriptedModelServer(script) as server:
        config = project / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
        lines = commands.strip().splitlines()
        assert lines[0] == "cd projects/quickstart"
        oxy = str(Path(sys.executable).with_name("oxy"))
        outputs: list[subprocess.CompletedProcess[str]] = []
        for command in lines[1:]:
            args = [oxy if a == "oxy" else a for a in shlex.split(command)]
            outputs.append(
                subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=False)
            )
    ran, compared = outputs
    assert ran.returncode == 0 and ran.stdout.startswith("variant terse\n") and "240" in ran.stdout, ran
    assert compared.returncode == 1  # terse answers "240" alone: it fails the case
    assert [line.split() for line in compared.stdout.splitlines()[:4]] == [
        ["case", "full", "terse"],
        ["How", "many", "orders?", "100%", "0%"],
        ["score", "1.00", "0.00"],
        ["verdict", "passed", "failed"],
    ]
