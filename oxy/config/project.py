"""`config.yml`: the models and databases a project may use, and its defaults."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from oxy.config._base import StrictModel
from oxy.config.databases import DatabaseConfig
from oxy.config.mcp import McpServerConfig
from oxy.config.models import ModelConfig

__all__ = [
    "A2aAgentConfig",
    "A2aConfig",
    "BuilderAgentConfig",
    "Defaults",
    "IntegrationConfig",
    "LookerExplore",
    "LookerIntegration",
    "McpConfig",
    "OmniIntegration",
    "OmniTopic",
    "ProjectConfig",
    "Repository",
]


class Defaults(StrictModel):
    database: str | None = Field(default=None, description="The database used when a file names none.")
    agent: str | None = Field(
        default=None, description="The agent file `oxy run` uses when given only a question."
    )


class BuilderAgentConfig(StrictModel):
    """Oxy's IDE copilot; accepted, not used by this engine."""

    model: str


class McpConfig(StrictModel):
    tools: list[str] = Field(
        default_factory=list[str], description="Globs of files `oxy mcp` exposes as tools."
    )


class A2aAgentConfig(StrictModel):
    name: str
    ref: str = Field(description="The agent file, relative to the project root.")


class A2aConfig(StrictModel):
    base_url: str | None = None
    agents: list[A2aAgentConfig] = Field(default_factory=list[A2aAgentConfig])


class OmniTopic(StrictModel):
    name: str
    model_id: str


class OmniIntegration(StrictModel):
    name: str
    type: Literal["omni"]
    base_url: str
    api_key_var: str
    topics: list[OmniTopic]
    arrow_threshold_rows: int = Field(default=1000, ge=0)


class LookerExplore(StrictModel):
    name: str
    model: str


class LookerIntegration(StrictModel):
    name: str
    type: Literal["looker"]
    base_url: str
    client_id_var: str
    client_secret_var: str
    explores: list[LookerExplore]


IntegrationConfig = Annotated[OmniIntegration | LookerIntegration, Field(discriminator="type")]


class Repository(StrictModel):
    name: str
    path: str | None = None
    git_url: str | None = None
    branch: str | None = None
    git_namespace_id: str | None = None


class ProjectConfig(StrictModel):
    """The whole of `config.yml`."""

    models: list[ModelConfig] = Field(default_factory=list[ModelConfig])
    databases: list[DatabaseConfig] = Field(default_factory=list[DatabaseConfig])
    defaults: Defaults | None = None
    builder_agent: str | BuilderAgentConfig | None = None
    mcp: McpConfig | None = None
    mcp_servers: str | list[McpServerConfig] | None = Field(
        default=None,
        description="MCP servers agents may use, by name (an oxy addition): a list, or the path of a "
        "standard `mcpServers` JSON file (Claude Desktop, Cursor).",
    )
    a2a: A2aConfig | None = None
    integrations: list[IntegrationConfig] = Field(default_factory=list[IntegrationConfig])
    repositories: list[Repository] = Field(default_factory=list[Repository])
    protected_branches: list[str] | None = None
    base_branch: str | None = None

    def database(self, name: str) -> DatabaseConfig | None:
        """The database called `name`, or None."""
        return next((db for db in self.databases if db.name == name), None)

    def model(self, name: str) -> ModelConfig | None:
        """The model called `name`, or None."""
        return next((m for m in self.models if m.name == name), None)

    @property
    def database_names(self) -> list[str]:
        return [db.name for db in self.databases]

    @property
    def model_names(self) -> list[str]:
        return [m.name for m in self.models]
