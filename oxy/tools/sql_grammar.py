"""A llama.cpp grammar (GBNF) for `execute_sql`'s arguments that admits only this database's SQL.

Small local models write SQL that does not run: `?` placeholders with no values, columns the table
lacks, ids with twenty digits. A model that supports grammars (in-process llama.cpp) is made to
write `{"sql": "SELECT ..."}` from this subset instead: one table, or two joined on a key column they
share (`product_id`); only that table's columns (so `MAX(quantity) FROM products` cannot happen when `quantity`
belongs to `orders`); aggregates, one filter or two, `GROUP BY`, `ORDER BY`, `LIMIT`; literals typed
by their column (numbers for numeric columns, quoted text for text, ISO dates for dates), never a
placeholder. Identifiers are quoted for the dialect where they need it (sqlglot).
Measured in `benchmarks/local_quickstart.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import combinations

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from oxy.databases import TableInfo

__all__ = ["sql_arguments_grammar"]

_BARE = re.compile(r"[a-z_][a-z0-9_]*")
# Words to quote in any dialect: DuckDB's and MySQL's reserved words (sqlglot's lists), a broad SQL set.
_RESERVED = frozenset(
    word.lower()
    for name in ("duckdb", "mysql")
    for word in getattr(Dialect.get_or_raise(name).generator_class, "RESERVED_KEYWORDS", ())
)
_DEFAULT_SCHEMAS = frozenset({"", "main", "public"})
_NUMERIC = re.compile(r"int|double|float|real|decimal|numeric|number|serial|money", re.IGNORECASE)
_TEMPORAL = re.compile(r"date|time", re.IGNORECASE)
_MAX_JOINS = 24


def sql_arguments_grammar(tables: Sequence[TableInfo], dialect: str) -> str | None:
    """GBNF whose root is the arguments object `{"sql": "<one query>"}`; `None` without tables."""
    tables = [t for t in tables if t.columns]
    if not tables:
        return None
    rules = ['root ::= "{\\"sql\\": \\"" query "\\"}"']
    queries: list[str] = []
    for i, table in enumerate(tables):
        name = f"t{i}"
        columns = {c.name: _kind(c.type) for c in table.columns}
        rules += _query_rules(name, _table(table, dialect), columns, dialect)
        queries.append(f"q-{name}")
    joins = 0
    for (i, left), (j, right) in combinations(enumerate(tables), 2):
        key = _join_key(left, right)
        if key is None or joins >= _MAX_JOINS:
            continue
        joins += 1
        name = f"j{i}-{j}"
        # Other columns both tables have would be ambiguous: only the join key is offered of those.
        shared = {c.name for c in left.columns} & {c.name for c in right.columns}
        columns = {
            c.name: _kind(c.type)
            for c in (*left.columns, *right.columns)
            if c.name == key or c.name not in shared
        }
        source = f"{_table(left, dialect)} JOIN {_table(right, dialect)} USING ({_ident(key, dialect)})"
        rules += _query_rules(name, source, columns, dialect)
        queries.append(f"q-{name}")
    rules.append("query ::= " + " | ".join(queries))
    rules += [
        'agg ::= "SUM" | "AVG" | "MIN" | "MAX"',
        'op ::= "=" | "<>" | "<" | ">" | "<=" | ">="',
        'lit-number ::= "-"? [0-9] [0-9]{0,5} ("." [0-9]{1,4})?',
        # Text inside a JSON string: no quote, backslash or control character; SQL quotes doubled.
        'lit-text ::= "\'" ([^\'"\\\\\\x00-\\x1f] | "\'\'"){1,60} "\'"',
        'lit-date ::= "\'" [12] [0-9]{3} "-" [01] [0-9] "-" [0-3] [0-9] "\'"',
        'limit ::= " LIMIT " [1-9] [0-9]?',
        # An alias is any short lower-case name; one the query did not define fails in the database,
        # and the model reads that error on its retry.
        "alias ::= [a-z] [a-z_]{0,19}",
    ]
    return "\n".join(rules) + "\n"


def _query_rules(name: str, source: str, columns: dict[str, str], dialect: str) -> list[str]:
    numeric = [c for c, kind in columns.items() if kind == "number"] or list(columns)
    conditions = " | ".join(
        f'{_lit(_ident(c, dialect) + " ")} op " " lit-{kind}' for c, kind in columns.items()
    )
    return [
        f'q-{name} ::= "SELECT " items-{name} {_lit(" FROM " + source)} where-{name}? group-{name}? '
        f"order-{name}? limit?",
        f'items-{name} ::= item-{name} (", " item-{name}){{0,2}}',
        f'item-{name} ::= expr-{name} (" AS " alias)?',
        f'expr-{name} ::= "COUNT(*)" | "COUNT(DISTINCT " col-{name} ")" | agg "(" num-{name} ")" '
        f'| "SUM(" num-{name} " * " num-{name} ")" | col-{name}',
        f"col-{name} ::= " + " | ".join(_lit(_ident(c, dialect)) for c in columns),
        f"num-{name} ::= " + " | ".join(_lit(_ident(c, dialect)) for c in numeric),
        f'where-{name} ::= " WHERE " cond-{name} (" AND " cond-{name})?',
        f"cond-{name} ::= {conditions}",
        f'group-{name} ::= " GROUP BY " col-{name}',
        f'order-{name} ::= " ORDER BY " (expr-{name} | alias) (" DESC" | " ASC")?',
    ]


def _join_key(left: TableInfo, right: TableInfo) -> str | None:
    """The column two tables join on: a shared key column named after one of them (`product_id` for
    `products`). Any other shared column (`id`, a timestamp, a `tenant_id`) would join unrelated rows,
    so such tables are not joined at all."""
    shared = sorted({c.name for c in left.columns} & {c.name for c in right.columns})
    stems = {_stem(left.name), _stem(right.name)}
    for column in shared:
        lowered = column.lower()
        for suffix in ("_id", "_key"):
            if lowered.endswith(suffix) and _stem(lowered[: -len(suffix)]) in stems:
                return column
    return None


def _stem(name: str) -> str:
    """`orders` and `order` alike; `categories` and `category`."""
    name = name.lower()
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _table(table: TableInfo, dialect: str) -> str:
    if table.schema in _DEFAULT_SCHEMAS:
        return _ident(table.name, dialect)
    return f"{_ident(table.schema, dialect)}.{_ident(table.name, dialect)}"


def _kind(type_: str) -> str:
    if _NUMERIC.search(type_):
        return "number"
    if _TEMPORAL.search(type_):
        return "date"
    return "text"


def _ident(name: str, dialect: str) -> str:
    """Bare when that is safe in every dialect (lower case, not a reserved word), else quoted the
    dialect's way: Postgres folds `Amount` to `amount`, and `order` is a syntax error bare."""
    quoted = not _BARE.fullmatch(name) or name in _RESERVED
    return exp.to_identifier(name, quoted=quoted).sql(dialect=dialect)  # pyright: ignore[reportUnknownMemberType]


def _lit(text: str) -> str:
    """A GBNF string literal matching `text` as it appears inside a JSON string."""
    inside_json = json.dumps(text)[1:-1]
    return json.dumps(inside_json)
