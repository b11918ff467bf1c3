"""The public names of `oxy.models` and `oxy.testing`, pinned."""

from __future__ import annotations

import oxy.models
import oxy.testing


def test_models_exports() -> None:
    assert oxy.models.__all__ == [
        "AssistantMessage",
        "Message",
        "ModelClient",
        "ModelDelta",
        "ModelResponse",
        "ModelSettings",
        "NamedToolChoice",
        "ReasoningDelta",
        "ResponseAccumulator",
        "ResponseDone",
        "RetryPolicy",
        "SystemMessage",
        "TextDelta",
        "ToolCall",
        "ToolCallDelta",
        "ToolChoice",
        "ToolDefinition",
        "ToolMessage",
        "Usage",
        "UserMessage",
        "aclose_clients",
        "client_for",
    ]
    assert all(hasattr(oxy.models, name) for name in oxy.models.__all__)


def test_testing_exports() -> None:
    assert oxy.testing.__all__ == [
        "Drop",
        "Fail",
        "Reply",
        "Script",
        "ScriptExhausted",
        "ScriptedModel",
        "ScriptedModelServer",
        "ScriptedRequest",
        "Turn",
        "from_cassette",
        "tool_call",
    ]
    assert all(hasattr(oxy.testing, name) for name in oxy.testing.__all__)
