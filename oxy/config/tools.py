"""`tools:` entries of a default agent, one model per `type`.

Every tool has a `name` (what the model calls it; defaults to the type) and an optional `description`.
Oxy's data-app, Omni, Looker and dbt tools are accepted so Oxy projects load; building them is up to
`oxy.tools`, which says when one is not supported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from oxy.config._base import StrictModel
from oxy.config._common import RouteRetrievalConfig, StrList, Variables
from oxy.config.mcp import McpServerKeys, check_transport
from oxy.config.walk import FileRef

__all__ = [
    "AgentTool",
    "CreateDataAppTool",
    "CreateV0AppTool",
    "DbtCompileTool",
    "DbtRunTool",
    "EditDataAppTool",
    "ExecuteSqlTool",
    "LookerQueryTool",
    "McpTool",
    "MemoryTool",
    "OmniQueryTool",
    "PythonTool",
    "ReadDataAppTool",
    "RetrievalTool",
    "SaveAutomationTool",
    "SemanticQueryTool",
    "ToolConfig",
    "ValidateSqlTool",
    "VisualizeTool",
    "WorkflowTool",
    "WorkspaceTool",
]


class _Tool(StrictModel):
    description: str | None = Field(default=None, description="What the model is told the tool does.")

    def file_refs(self) -> Sequence[FileRef]:
        """The project files this tool runs (agents, workflows)."""
        return ()


class ExecuteSqlTool(_Tool):
    """Run a read-only SQL query on a database from config.yml."""

    type: Literal["execute_sql"]
    name: str = "execute_sql"
    database: str = Field(description="A database name from config.yml.")
    dry_run_limit: int | None = Field(default=None, ge=0)
    variables: dict[str, Any] | None = None


class ValidateSqlTool(_Tool):
    """Check that a SQL query parses and plans on a database, without returning rows."""

    type: Literal["validate_sql"]
    name: str = "validate_sql"
    database: str = Field(description="A database name from config.yml.")


class RetrievalTool(_Tool):
    """Search embedded project files (`.sql` queries and their `embed:` front matter, documents)."""

    type: Literal["retrieval"]
    name: str = "retrieval"
    src: StrList = Field(description="Globs of files to embed, relative to the project root.")
    embed_model: str = Field(
        default="text-embedding-3-small",
        description="`local` (offline, in the wheel), a model of config.yml, or a model id at `api_url`.",
    )
    api_url: str = "https://api.openai.com/v1"
    api_key: str | None = None
    key_var: str = Field(default="OPENAI_API_KEY", description="Environment variable holding the API key.")
    n_dims: int = Field(default=512, ge=1)
    top_k: int = Field(default=4, ge=1)
    factor: int = Field(default=5, ge=1)
    db_path: str = Field(
        default=".lancedb", description="Oxy's LanceDB folder; oxy keeps its index in .oxy/."
    )
    auto_build: bool = Field(
        default=False,
        description="Build (or update) the index on first use instead of asking for `oxy build`.",
    )


class MemoryTool(_Tool):
    """Long-term memory (oxy's additive type): `remember` and `recall` tools, per tenant and user."""

    type: Literal["memory"]
    name: str = Field(default="memory", description="A label; the model sees `remember` and `recall`.")
    embed_model: str = Field(default="local", description="What embeds memories (see the retrieval tool).")
    top_k: int = Field(default=5, ge=1, description="Memories `recall` (and `{{ memory.relevant }}`) return.")


WorkspaceToolName = Literal[
    "read",
    "write",
    "edit",
    "glob",
    "grep",
    "bash",
    "webfetch",
    "todo",
    "question",
    "task_start",
    "task_output",
    "task_stop",
    "lsp",
]
DEFAULT_WORKSPACE_TOOLS: tuple[WorkspaceToolName, ...] = (
    "read",
    "write",
    "edit",
    "glob",
    "grep",
    "bash",
    "todo",
    "question",
)


class WorkspaceTool(_Tool):
    """Files, a shell, background tasks, the web and language servers under one folder (oxy's additive
    type), each call checked against the agent's `permissions:`."""

    type: Literal["workspace"]
    name: str = Field(default="workspace", description="A label; the model sees each tool by its own name.")
    root: str = Field(
        default="workspace",
        description="The folder the tools work in, relative to the project; nothing outside it is read or written.",
    )
    tools: list[WorkspaceToolName] = Field(
        default_factory=lambda: list(DEFAULT_WORKSPACE_TOOLS),
        description="Which tools the model gets (default: read, write, edit, glob, grep, bash, todo, question).",
    )
    env: list[str] = Field(
        default_factory=lambda: ["PATH", "HOME", "LANG"],
        description="The only environment variables `bash` and tasks see, copied from oxy's environment.",
    )
    timeout: float = Field(default=120, gt=0, description="Seconds a `bash` command may run at most.")
    max_output_chars: int = Field(
        default=30_000, ge=1000, description="Characters of a tool's output the model reads; the rest is cut."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list[str],
        description="Hosts `webfetch` may fetch from (`*.example.com` for subdomains); none by default.",
    )
    max_fetch_bytes: int = Field(default=2_000_000, ge=1, description="Bytes `webfetch` reads at most.")
    lsp: dict[str, str] = Field(
        default_factory=lambda: {"python": "pyright-langserver --stdio"},
        description="Language server command by language (`python`: `pyright-langserver --stdio` or `pylsp`).",
    )

    @field_validator("root")
    @classmethod
    def _root_inside(cls, root: str) -> str:
        parts = root.replace("\\", "/").split("/")
        if root.startswith(("/", "~")) or ".." in parts or (len(root) > 1 and root[1] == ":"):
            raise ValueError(
                f"root {root!r} must be a folder inside the project, written relative to it (e.g. 'workspace')"
            )
        return root


class VisualizeTool(_Tool):
    """Draw a chart from a query result."""

    type: Literal["visualize"]
    name: str = "visualize"


class WorkflowTool(_Tool):
    """Run a workflow; its output (or one task's, `output_task_ref`) is the tool result."""

    type: Literal["workflow"]
    name: str = "workflow"
    workflow_ref: str = Field(description="The workflow file, relative to the project root.")
    output_task_ref: str | None = None
    variables: Variables | None = Field(
        default=None, description="Arguments the model passes, as JSON Schemas."
    )

    def file_refs(self) -> Sequence[FileRef]:
        return (FileRef(key="workflow_ref", ref=self.workflow_ref, kind="workflow"),)


class AgentTool(_Tool):
    """Ask another agent."""

    type: Literal["agent"]
    name: str = "agent"
    agent_ref: str = Field(description="The agent file, relative to the project root.")
    variables: Variables | None = None

    def file_refs(self) -> Sequence[FileRef]:
        return (FileRef(key="agent_ref", ref=self.agent_ref, kind="agent"),)


class PythonTool(_Tool):
    """A Python function as a tool (an oxy addition): `function: package.module:callable`, sync or async.

    Its signature becomes the arguments' JSON Schema and its docstring the description; the module is
    imported with the project folder on `sys.path`. A first parameter annotated `ExecutionContext`
    receives the run's context."""

    type: Literal["python"]
    name: str = Field(default="", description="What the model calls it; defaults to the function's name.")
    function: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="`package.module:callable`, importable from the project folder.",
    )

    @model_validator(mode="after")
    def _default_name(self) -> PythonTool:
        if not self.name:
            object.__setattr__(self, "name", self.function.rsplit(":", 1)[1].rsplit(".", 1)[-1])
        return self


class McpTool(_Tool, McpServerKeys):
    """The tools of an MCP server (an oxy addition): `command`/`args` (stdio) or `url` (streamable HTTP)
    here, or `server:` naming an entry of config.yml's `mcp_servers:` (by default the one called `name`).

    The model sees each tool as `<prefix>_<tool>` (prefix: `name`, unless `prefix:` says otherwise)."""

    type: Literal["mcp"]
    name: str = Field(description="The entry's name: the default prefix of its tools, and of the server.")
    server: str | None = Field(
        default=None, description="A server declared in config.yml's `mcp_servers:` (default: `name`)."
    )

    @model_validator(mode="after")
    def _transport(self) -> McpTool:
        if self.command is not None or self.url is not None:
            if self.server is not None:
                raise ValueError("give `server:` (declared in config.yml) or `command`/`url`, not both")
            check_transport(self)
        else:
            stray = [key for key in ("args", "env", "cwd", "headers") if getattr(self, key)]
            if stray:
                raise ValueError(
                    f"{', '.join(stray)} without `command` or `url`: this entry uses a server declared in "
                    "config.yml, whose own keys apply; give `command` (or `url`) here, or set them there"
                )
        return self

    @property
    def server_ref(self) -> str | None:
        """The config.yml server this entry uses, or None when it declares its own."""
        if self.command is not None or self.url is not None:
            return None
        return self.server or self.name


class CreateDataAppTool(_Tool):
    type: Literal["create_data_app"]
    name: str = "create_data_app"


class EditDataAppTool(_Tool):
    type: Literal["edit_data_app"]
    name: str = "edit_data_app"


class ReadDataAppTool(_Tool):
    type: Literal["read_data_app"]
    name: str = "read_data_app"


class CreateV0AppTool(_Tool):
    type: Literal["create_v0_app"]
    name: str = "create_v0_app"
    github_repo: str | None = None
    oxy_api_key_var: str = "OXY_API_KEY"
    v0_api_key_var: str = "V0_API_KEY"
    system_instruction: str | None = None


class OmniQueryTool(_Tool):
    type: Literal["omni_query"]
    name: str = "omni_query"
    integration: str
    topic: str


class SemanticQueryTool(_Tool):
    type: Literal["semantic_query"]
    name: str = "semantic_query"
    topic: str | None = None
    dry_run_limit: int | None = Field(default=None, ge=0)
    variables: dict[str, Any] | None = None


class LookerQueryTool(_Tool):
    type: Literal["looker_query"]
    name: str = "looker_query"
    integration: str
    model: str
    explore: str


class SaveAutomationTool(_Tool):
    type: Literal["save_automation"]
    name: str = "save_automation"
    retrieval: RouteRetrievalConfig | None = None


class DbtRunTool(_Tool):
    type: Literal["dbt_run"]
    name: str = "dbt_run"
    selector: str | None = None
    full_refresh: bool = False


class DbtCompileTool(_Tool):
    type: Literal["dbt_compile"]
    name: str = "dbt_compile"
    model: str | None = None


ToolConfig = Annotated[
    ExecuteSqlTool
    | ValidateSqlTool
    | RetrievalTool
    | MemoryTool
    | WorkspaceTool
    | VisualizeTool
    | WorkflowTool
    | AgentTool
    | PythonTool
    | McpTool
    | CreateDataAppTool
    | EditDataAppTool
    | ReadDataAppTool
    | CreateV0AppTool
    | OmniQueryTool
    | SemanticQueryTool
    | LookerQueryTool
    | SaveAutomationTool
    | DbtRunTool
    | DbtCompileTool,
    Field(discriminator="type"),
]
"""One `tools:` entry, by `type`."""
