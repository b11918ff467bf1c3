"""docs/retrieval.md as written: its agent, its commands, and what the model reads."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from oxy.config import load_project
from oxy.models.embeddings import LocalEmbedder
from oxy.retrieval.build import index_specs
from oxy.retrieval.index import VectorIndex
from oxy.tools.retrieval import format_hits

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "retrieval.md").read_text()


def test_the_documented_agent_commands_and_answer(tmp_path: Path) -> None:
    agent = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)[0]
    (commands,) = re.findall(r"```bash\n(.*?)```", DOC, flags=re.DOTALL)
    (shown,) = re.findall(r"```text\n(.*?)```", DOC, flags=re.DOTALL)
    question = re.search(r"when it asks `([^`]+)`", DOC)
    assert question is not None
    project = tmp_path / "handbook"
    shutil.copytree(ROOT / "tests" / "fixtures" / "retrieval" / "docs", project / "docs")
    (project / "agents").mkdir()
    (project / "agents" / "librarian.agent.yml").write_text(agent)
    (project / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    oxy = str(Path(sys.executable).with_name("oxy"))
    for command in commands.strip().splitlines():
        args = [oxy if a == "oxy" else a for a in shlex.split(command)]
        done = subprocess.run(args, cwd=project, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0 and "200 files, 200 embedded" in done.stdout, (
            command,
            done.stdout,
            done.stderr,
        )
    loaded = load_project(project)
    (spec,) = index_specs(loaded)
    index = VectorIndex.open(spec.folder(project))
    assert index is not None
    vector = LocalEmbedder().embed_now([question.group(1)])[0]
    assert format_hits(index.search(vector, 1)) == shown.strip()


def test_the_documented_route_with_include_and_exclude_prompts_loads() -> None:
    from oxy.config._parse import parse_agent
    from oxy.config._yaml import parse_yaml

    route = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)[1]
    agent = parse_agent(parse_yaml(route, file="agents/loyalty.agent.yml"))
    assert agent.retrieval is not None and agent.retrieval.exclude == ["staff discounts for employees"]
