"""schemas/*.json are generated from the models; this fails when someone changes one without the other."""

from __future__ import annotations

import json
from pathlib import Path

from oxy.config.schema_export import SCHEMA_DIR, check_schemas, main, render_schemas


def test_committed_schemas_match_the_models() -> None:
    stale = check_schemas()

    assert stale == [], f"schemas out of date: {stale}; run `python -m oxy.config.schema_export`"


def test_schemas_are_valid_json_with_titles() -> None:
    rendered = {name: json.loads(text) for name, text in render_schemas().items()}

    assert sorted(rendered) == ["agent-test.json", "agent.json", "config.json", "workflow.json"]
    assert rendered["config.json"]["title"] == "oxy config.yml"
    assert rendered["config.json"]["additionalProperties"] is False
    assert "max_tool_calls" in rendered["agent.json"]["$defs"]["DefaultAgentConfig"]["properties"]
    assert SCHEMA_DIR.name == "schemas"


def test_main_writes_then_checks(tmp_path: Path) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "agent-test.json",
        "agent.json",
        "config.json",
        "workflow.json",
    ]
