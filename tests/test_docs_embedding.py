"""docs/embedding.md's Python examples run as shown, in order, from the repository root."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "embedding.md"


def test_examples_run_in_order(capsys: object) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2
    namespace: dict[str, object] = {"__name__": "docs_example"}
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)
    finally:
        os.chdir(cwd)
    model = namespace["model"]
    last = model.requests[-1].messages  # type: ignore[attr-defined]
    assert [type(m).__name__ for m in last] == [
        "SystemMessage",
        "UserMessage",
        "AssistantMessage",
        "ToolMessage",
        "AssistantMessage",
        "UserMessage",
    ]
    assert capsys.readouterr().out == "Order 7 has shipped.\nOrder 8 is on its way.\n"  # type: ignore[attr-defined]
