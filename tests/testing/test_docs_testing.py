"""docs/testing.md's Python examples run as shown."""

from __future__ import annotations

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
