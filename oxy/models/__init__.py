"""Model clients behind one ABC: OpenAI-compatible HTTP (vLLM, OpenAI, Ollama, llama.cpp's server),
litellm (Anthropic, Gemini, ...), in-process llama.cpp, and the scripted model in `oxy.testing`.

The concrete clients live in `oxy.models.openai_compatible`, `.litellm_client` and `.local`, imported
by `client_for` only when a config needs them.
"""

from ._endpoints import aclose_clients
from .accumulator import ResponseAccumulator
from .client import ModelClient
from .factory import client_for
from .messages import (
    AssistantMessage,
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    NamedToolChoice,
    ReasoningDelta,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
    ToolDefinition,
    ToolMessage,
    Usage,
    UserMessage,
)
from .retry import RetryPolicy

__all__ = [
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
