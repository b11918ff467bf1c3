"""`*.agent.yml`: a default agent (a model with tools, the ReAct loop) or a routing agent (`type: routing`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from oxy.config._base import StrictModel
from oxy.config._common import RouteRetrievalConfig, StrList, Variables
from oxy.config.evals import EvalConfig
from oxy.config.permissions import Permissions
from oxy.config.tools import ToolConfig

__all__ = [
    "AgentConfig",
    "AgentVariant",
    "AgentContext",
    "DefaultAgentConfig",
    "MemoryConfig",
    "FileContext",
    "ReasoningConfig",
    "RoutingAgentConfig",
    "SemanticModelContext",
    "ToolChoice",
]

ToolChoice = Literal["auto", "required", "none", "required_first"]
"""`auto`: the model decides; `required`: every turn must call a tool (until `max_tool_calls`);
`none`: never offer tools; `required_first`: the first turn must call a tool, later turns decide.
`required_first` keeps small local models from answering before looking at the data."""

_ROUTING_INSTRUCTIONS = (
    "You are a routing agent. Your job is to route the task to the correct tool. Follow the steps below:\n"
    "1. Reasoning the task to find the most relevant tools.\n"
    "2. If tools were found that match the query (even partially), USE THEM immediately. "
    "Do not ask for clarification.\n"
    "3. Only if NO relevant tools are found, explain why.\n"
    "4. Synthesize the results from the tool and return it to the user. "
    "DO NOT return the raw results from the tool.\n"
    "Your task:"
)


class ReasoningConfig(StrictModel):
    effort: Literal["low", "medium", "high"]


class FileContext(StrictModel):
    """Files read into the template context as `context.<name>` (a list of their contents)."""

    name: str
    type: Literal["file"]
    src: StrList = Field(description="Globs relative to the project root; each must match a file.")


class SemanticModelContext(StrictModel):
    """A semantic model file (`*.schema.yml`) read into `context.<name>`."""

    name: str
    type: Literal["semantic_model"]
    src: str = Field(description="The semantic model file, relative to the project root.")


AgentContext = Annotated[FileContext | SemanticModelContext, Field(discriminator="type")]
"""One `context:` entry, by `type`."""


class MemoryConfig(StrictModel):
    """How much of a conversation the model reads (oxy's additive key)."""

    window_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Earlier turns of the thread the model reads, at most this many tokens (about 4 characters "
        "each); older turns are dropped, or summarised with `summarize`.",
    )
    summarize: bool = Field(
        default=False,
        description="Summarise the turns outside the window, and keep the summary with the thread.",
    )
    summary_model: str | None = Field(
        default=None, description="The model that summarises (default: the agent's)."
    )
    long_term: bool = Field(
        default=False,
        description="Give the agent `remember` and `recall` tools (a `type: memory` tool with its defaults).",
    )


class _Agent(StrictModel):
    name: str | None = Field(default=None, description="Defaults to the file name without `.agent.yml`.")
    description: str = ""
    model: str = Field(description="A model name from config.yml.")
    public: bool = True
    context: list[AgentContext] | None = None
    reasoning: ReasoningConfig | None = None
    retrieval: RouteRetrievalConfig | None = None
    tests: list[EvalConfig] = Field(default_factory=list[EvalConfig])
    variables: Variables | None = Field(
        default=None, description="Inputs the agent accepts, as JSON Schemas."
    )
    max_iterations: int = Field(default=15, ge=1, description="Oxy's cap on agentic iterations.")
    memory: MemoryConfig | None = Field(default=None, description="How much of a thread the model reads.")
    max_tool_calls: int = Field(
        default=10, ge=0, description="Tool calls allowed in one run before it stops."
    )
    max_tool_concurrency: int = Field(
        default=4, ge=1, description="Tool calls of one turn run at most this many at once."
    )
    output_format: Literal["default", "file"] = "default"


class AgentVariant(StrictModel):
    """One arm of an A/B test: the agent with another prompt, model or prompt variables."""

    name: str = Field(description="Recorded with each run that uses it; `oxy run --variant NAME` picks it.")
    weight: float = Field(default=1.0, ge=0, description="Its share of runs, relative to the others'.")
    system_instructions: str | None = Field(
        default=None, description="Inline text or a `*.prompt.md` file (default: the agent's)."
    )
    model: str | None = Field(
        default=None, description="A model name from config.yml (default: the agent's)."
    )
    variables: dict[str, Any] = Field(
        default_factory=dict[str, Any], description="Values for the prompt file's declared variables."
    )


class DefaultAgentConfig(_Agent):
    """A model that answers with the help of tools, in a ReAct loop."""

    type: Literal["default"] = "default"
    agent_type: Literal["default"] | None = Field(default=None, description="Oxy's older spelling of `type`.")
    system_instructions: str = Field(
        description="A minijinja template rendered against the project context, or a `*.prompt.md` file "
        "holding one."
    )
    tools: list[ToolConfig] = Field(default_factory=list[ToolConfig])
    permissions: Permissions | None = Field(
        default=None,
        description="Which workspace tool calls run, ask a person first, or are refused (deny beats ask "
        "beats allow; a call no rule matches is asked).",
    )
    tool_choice: ToolChoice = "auto"
    variants: list[AgentVariant] | None = Field(
        default=None,
        description="Variants of the prompt or model, picked by weight for each run (per thread when served).",
    )


class RoutingAgentConfig(_Agent):
    """Picks among agents, workflows and `.sql` files (`routes`) and answers through them."""

    type: Literal["routing"]
    agent_type: Literal["routing"] | None = Field(default=None, description="Oxy's older spelling of `type`.")
    routes: list[str] = Field(description="Globs over agents, workflows and .sql files.")
    route_fallback: str | None = Field(default=None, description="Where to go when no route fits.")
    synthesize_results: bool = True
    system_instructions: str = _ROUTING_INSTRUCTIONS
    embed_model: str = "text-embedding-3-small"
    n_dims: int = Field(default=512, ge=1)
    top_k: int = Field(default=4, ge=1)
    factor: int = Field(default=5, ge=1)
    db_path: str = ".lancedb"


def _agent_kind(value: Any) -> str:
    if isinstance(value, dict):
        kind = value.get("type", value.get("agent_type", "default"))  # pyright: ignore[reportUnknownMemberType]
        return kind if isinstance(kind, str) else repr(kind)
    return str(getattr(value, "type", "default"))


AgentConfig = Annotated[
    Annotated[DefaultAgentConfig, Tag("default")] | Annotated[RoutingAgentConfig, Tag("routing")],
    Discriminator(_agent_kind),
]
"""An agent file: `type: routing` picks a routing agent, anything else a default one."""
