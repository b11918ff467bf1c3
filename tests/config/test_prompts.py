"""Prompt files: front matter, errors at their own lines, confinement; `oxy validate` on variants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.config.prompts import is_prompt_ref, load_prompt, text_hash
from oxy.errors import ConfigError

PROMPT = """\
---
version: 3
description: The analyst's instructions.
variables:
  tone:
    type: string
    default: plain
  audience:
    type: string
---
Answer in a {{ tone }} tone for {{ audience }}.
"""


def test_a_prompt_file_has_its_version_variables_and_the_line_its_text_starts_on(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "analyst.prompt.md").write_text(PROMPT)
    prompt = load_prompt(tmp_path, "prompts/analyst.prompt.md", referrer="agents/a.agent.yml")
    assert (prompt.file, prompt.version, prompt.line) == ("prompts/analyst.prompt.md", "3", 11)
    assert prompt.variables == {"tone": "plain", "audience": None}
    assert prompt.text == "Answer in a {{ tone }} tone for {{ audience }}.\n"
    assert prompt.sha256 == text_hash(prompt.text) and re.fullmatch(r"[0-9a-f]{16}", prompt.sha256)
    (tmp_path / "plain.prompt.md").write_text("No front matter.")
    plain = load_prompt(tmp_path, "plain.prompt.md", referrer="a.agent.yml")
    assert (plain.text, plain.version, plain.line, plain.variables) == ("No front matter.", None, 1, {})


def test_an_edited_prompt_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "p.prompt.md"
    path.write_text("---\nversion: 1\n---\nOne.\n")
    assert load_prompt(tmp_path, "p.prompt.md", referrer="a").version == "1"
    path.write_text("---\nversion: 2\n---\nTwo, longer.\n")
    assert load_prompt(tmp_path, "p.prompt.md", referrer="a").version == "2"


@pytest.mark.parametrize(
    ("ref", "text", "message"),
    [
        (
            "missing.prompt.md",
            None,
            "agents/a.agent.yml: system_instructions: prompt file 'missing.prompt.md' not found",
        ),
        (
            "../outside.prompt.md",
            None,
            "agents/a.agent.yml: prompt file '../outside.prompt.md' is outside the project",
        ),
        (
            "bad.prompt.md",
            "---\nversoin: 2\n---\nHi.\n",
            "bad.prompt.md:2:1: unknown key 'versoin' — did you mean 'version'?",
        ),
    ],
)
def test_bad_prompt_files_are_one_line_errors(
    tmp_path: Path, ref: str, text: str | None, message: str
) -> None:
    if text is not None:
        (tmp_path / ref).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_prompt(tmp_path, ref, referrer="agents/a.agent.yml")
    assert str(caught.value).startswith(message), str(caught.value)


def test_only_a_one_line_path_ending_in_prompt_md_names_a_file() -> None:
    assert is_prompt_ref("prompts/analyst.prompt.md")
    assert is_prompt_ref("  prompts/analyst.prompt.md\n")
    assert not is_prompt_ref("You are an analyst.")
    assert not is_prompt_ref("Read prompts/analyst.prompt.md\nand answer.")
    assert not is_prompt_ref("{{ name }}.prompt.md")


AGENT = """\
model: vllm
system_instructions: prompts/analyst.prompt.md
variants:
  - name: plain
    variables: {audience: managers}
  - name: terse
    weight: 0
    system_instructions: prompts/terse.prompt.md
    model: nope
  - name: plain
    variables: {audiense: x}
"""


def test_validate_reports_each_variant_problem_at_its_line(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "prompts").mkdir()
    (root / "config.yml").write_text(
        "models:\n  - name: vllm\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    (root / "prompts" / "analyst.prompt.md").write_text(PROMPT)
    (root / "agents" / "a.agent.yml").write_text(AGENT)
    result = CliRunner().invoke(cli, ["validate", str(root)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "agents/a.agent.yml:8:26: system_instructions: prompt file 'prompts/terse.prompt.md' not found (paths "
        "are relative to the project root)",
        "agents/a.agent.yml:9:12: Model 'nope' not found in config.yml; known: vllm",
        "agents/a.agent.yml:10:5: variant 'plain': prompt 'prompts/analyst.prompt.md' declares 'audience' with "
        "no default: set it under this variant's `variables:`",
        "agents/a.agent.yml:10:11: duplicate variant name 'plain' (first at line 4); variant names must be unique",
        "agents/a.agent.yml:11:16: variant 'plain': prompt 'prompts/analyst.prompt.md' declares no variable "
        "'audiense' (declared: tone, audience)",
        "2 files checked, 5 errors, 0 skipped",
    ]
    (root / "agents" / "a.agent.yml").write_text(
        "model: vllm\nsystem_instructions: prompts/analyst.prompt.md\n"
    )
    result = CliRunner().invoke(cli, ["validate", str(root)])
    assert result.output.splitlines()[0] == (
        "agents/a.agent.yml:2:22: prompt 'prompts/analyst.prompt.md' declares 'audience' with no default: give "
        "it a `default:` there, declare it in the agent's `variables:` (a run then gives it), or set it in a "
        "variant's `variables:`"
    )
    (root / "agents" / "a.agent.yml").write_text(
        "model: vllm\nsystem_instructions: prompts/analyst.prompt.md\nvariables:\n  audience: {type: string}\n"
    )
    assert CliRunner().invoke(cli, ["validate", str(root)]).exit_code == 0
    (root / "agents" / "r.agent.yml").write_text(
        "type: routing\nmodel: vllm\nroutes: [agents/a.agent.yml]\nsystem_instructions: prompts/analyst.prompt.md\n"
    )
    result = CliRunner().invoke(cli, ["validate", str(root)])
    assert result.output.splitlines()[0] == (
        "agents/r.agent.yml:4:22: a routing agent's system_instructions are inline text; prompt files "
        "(*.prompt.md) are for default agents"
    )
