"""The text of each scaffolded file. Every YAML file starts with its `# yaml-language-server` line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from oxy.config.schema_export import render_schemas
from oxy.make._sources import Table

__all__ = [
    "SCHEMA_DIR",
    "analyst_agent",
    "config_yml",
    "router_agent",
    "sample_query",
    "schema_files",
    "semantic_model",
    "summary_workflow",
]

SCHEMA_DIR = "schemas"
MODEL = "smollm2"

_SEMANTIC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "oxy semantic model (*.schema.yml), as written by oxy make",
    "type": "object",
    "properties": {
        "table": {"type": "string", "description": "The table, as SQL names it."},
        "database": {"type": "string", "description": "A database name from config.yml."},
        "description": {"type": "string"},
        "dimensions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "type": {"type": "string", "description": "The column type as the database spells it."},
                    "description": {"type": "string"},
                    "sample": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "type"],
            },
        },
    },
    "required": ["table", "dimensions"],
}


def schema_files() -> dict[str, str]:
    """`schemas/<kind>.json`, generated from the models oxy loads the files with (always in sync)."""

    files = {f"{SCHEMA_DIR}/{name}": text for name, text in render_schemas().items()}
    files[f"{SCHEMA_DIR}/semantic-model.json"] = json.dumps(_SEMANTIC_SCHEMA, indent=2) + "\n"
    return files


def _header(schema: str, depth: int) -> str:
    return f"# yaml-language-server: $schema={'../' * depth}{SCHEMA_DIR}/{schema}\n"


def config_yml(database: dict[str, Any]) -> str:
    db = (
        "databases:\n"
        + "".join(
            f"  {'-' if i == 0 else ' '} {key}: {value}\n" for i, (key, value) in enumerate(database.items())
        ).rstrip()
    )
    return (
        _header("config.json", 0)
        + f"""# Models: the local SmolLM2 runs offline (oxy models install-local); for better answers, uncomment
# a server model and run agents with --model vllm (or openai), or change their `model:`.
models:
  - name: {MODEL}
    vendor: local
    model_ref: smollm2
    # Small models can repeat themselves until the context is full: cap each answer (a cut-off
    # answer is marked as cut off), and decode greedily with a fixed seed.
    max_tokens: 256
    seed: 7
  # - name: vllm
  #   vendor: vllm
  #   model_ref: Qwen/Qwen2.5-7B-Instruct
  #   api_url: http://127.0.0.1:8000/v1
  # - name: openai
  #   vendor: openai
  #   model_ref: gpt-4o-mini
  #   key_var: OPENAI_API_KEY

{db}

defaults:
  database: {database["name"]}
  agent: agents/analyst.agent.yml
"""
    )


def semantic_model(table: Table, *, database: str) -> str:
    body: dict[str, Any] = {
        "table": table.sql_name.replace('"', ""),
        "database": database,
        "description": f"The {table.name} table ({len(table.columns)} columns).",
        "dimensions": [{"name": c.name, "type": c.type, "sample": list(c.sample)} for c in table.columns],
    }
    dumped = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    return _header("semantic-model.json", 1) + dumped


def analyst_agent(tables: Sequence[Table], *, database: str) -> str:
    contexts = "".join(
        f"  - name: {t.slug}\n    type: semantic_model\n    src: semantics/{t.slug}.schema.yml\n"
        for t in tables
    )
    described = "".join(
        f"""
  Table {t.sql_name}: {{{{ context.{t.slug}.description }}}}
  {{% for column in context.{t.slug}.dimensions %}}- {{{{ column.name }}}} ({{{{ column.type }}}}), e.g. {{{{ column.sample | join(", ") }}}}
  {{% endfor %}}"""
        for t in tables
    )
    return (
        _header("agent.json", 1)
        + f"""description: Answers questions about the {database} data by running SQL.
model: {MODEL}
# Small local models answer before looking at the data; make the first turn call a tool.
tool_choice: required_first
max_tool_calls: 4
context:
{contexts}system_instructions: |
  You are a data analyst. Answer with one read-only SQL query on the {{{{ databases.{database}.dialect }}}}
  database, run with the execute_sql tool, then answer in one or two sentences from its result.
{described}
tools:
  - name: execute_sql
    type: execute_sql
    database: {database}
"""
    )


def router_agent() -> str:
    return (
        _header("agent.json", 1)
        + f"""type: routing
description: Sends each question to the saved query, workflow or agent that fits it best.
model: {MODEL}
routes:
  - agents/analyst.agent.yml
  - queries/*.sql
  - workflows/*.workflow.yml
# When no route fits, or the chosen one fails, the analyst answers the same question.
route_fallback: agents/analyst.agent.yml
synthesize_results: true
"""
    )


def summary_workflow(tables: Sequence[Table], *, database: str) -> str:
    counts = "\n      UNION ALL\n      ".join(
        f"SELECT '{t.name.replace(chr(39), chr(39) * 2)}' AS table_name, COUNT(*) AS row_count FROM {t.sql_name}"
        for t in tables
    )
    return (
        _header("workflow.json", 1)
        + f"""description: Counts the rows of every table and writes a short summary.
tasks:
  - name: row_counts
    type: execute_sql
    database: {database}
    sql_query: |
      {counts}
  - name: summary
    type: formatter
    template: |
      Rows per table:

      {{{{ row_counts }}}}
"""
    )


def sample_query(table: Table, *, database: str) -> str:
    return f"""/*
  oxy:
    database: {database}
    embed:
      - a sample of the {table.name} table
      - what the {table.name} rows look like
*/
SELECT * FROM {table.sql_name} LIMIT 10
"""
