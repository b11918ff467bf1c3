"""docs/workflows.md: its example workflow and every command it shows run on the test project."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.testing import Reply, ScriptedModelServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"


def test_the_documented_workflow_and_commands_run(
    project: Path, server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DOC.read_text()
    workflow = re.search(r"```yaml\n# (workflows/report\.workflow\.yml)\n(.*?)```", text, flags=re.DOTALL)
    assert workflow is not None
    (project / workflow.group(1)).write_text(workflow.group(2))
    server.set_script(lambda request: Reply(text="Bananas lead."))
    monkeypatch.chdir(project)
    commands = [
        line
        for block in re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
        for line in block.splitlines()
        if line.startswith("oxy ")
    ]
    assert len(commands) == 4
    # --retry needs a failed run: the first command fails once on a template error, then passes.
    for command in commands:
        args = shlex.split(command)[1:]
        if "--retry" in args:
            report = project / "workflows" / "report.workflow.yml"
            good = report.read_text()
            report.write_text(good.replace("{{ summary }}", "{{ summmary }}"))
            assert CliRunner().invoke(cli, ["run", "workflows/report.workflow.yml"]).exit_code == 1
            report.write_text(good)
        result = CliRunner().invoke(cli, args)
        assert (result.exit_code, result.stderr) == (0, ""), command
    assert (project / "output" / "report.docx").is_file()
    assert (project / "output" / "cache" / "banana.txt").read_text() == "Bananas lead."
