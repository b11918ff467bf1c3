"""Refuse anything but one read-only statement, whatever the dialect.

The check parses the query with sqlglot in the connector's dialect and allows exactly one statement whose
root is a read (SELECT, set operations, VALUES, DESCRIBE, SHOW, EXPLAIN of a read, read-only PRAGMAs)
and whose tree holds no write anywhere (data-modifying CTEs, `SELECT ... INTO`, `FOR UPDATE`, functions
with side effects). It is the first line of defence; connectors also open databases read-only.

When sqlglot cannot parse a query, the query still runs, so that the database reports its own syntax error,
but only if its tokens show one statement that starts like a read and names no write keyword.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType  # pyright: ignore[reportPrivateImportUsage]

from oxy.errors import DatabaseError, ReadOnlyViolation

__all__ = ["ensure_read_only", "is_plain_query"]

_READ_ROOTS: tuple[type[exp.Expr], ...] = (
    exp.Select,
    exp.SetOperation,
    exp.Values,
    exp.Subquery,
    exp.Describe,
    exp.Show,
    exp.Summarize,
    exp.Pivot,
)

_WRITES: tuple[type[exp.Expr], ...] = tuple(
    node
    for node in (
        getattr(exp, name, None)
        for name in (
            "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable",
            "Copy", "Attach", "Detach", "Install", "Set", "Grant", "Revoke", "Transaction", "Commit",
            "Rollback", "Use", "Command", "LoadData", "Kill", "Comment", "Analyze", "Into", "Lock", "Refresh",
        )
    )
    if isinstance(node, type) and issubclass(node, exp.Expr)
)  # fmt: skip

_WRITE_NAMES = {
    "AlterTable": "ALTER",
    "TruncateTable": "TRUNCATE",
    "LoadData": "LOAD DATA",
    "Into": "SELECT ... INTO",
    "Lock": "a locking read (FOR UPDATE/SHARE)",
    "Transaction": "BEGIN",
}

_SIDE_EFFECT_FUNCTIONS = frozenset(
    {
        # PostgreSQL: settings, sessions, server files, large objects, sequences, notifications, dblink
        "set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
        "pg_switch_wal", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
        "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_creat", "lo_from_bytea", "lo_put",
        "nextval", "setval", "pg_notify", "pg_advisory_lock", "pg_advisory_xact_lock", "dblink",
        "dblink_exec", "dblink_connect", "pg_sleep",
        # MySQL
        "sleep", "benchmark", "get_lock", "release_lock", "load_file", "sys_exec", "sys_eval",
        # SQLite
        "load_extension", "writefile", "edit",
    }
)  # fmt: skip

_READ_PRAGMAS = frozenset(
    {
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "database_list", "collation_list", "function_list", "module_list",
        "pragma_list", "compile_options", "show_tables", "show_tables_expanded", "show_databases",
        "storage_info", "version", "database_size", "show", "platform", "user_version", "schema_version",
    }
)  # fmt: skip

_EXPLAIN_OPTIONS = re.compile(
    r"^\s*(?:\([^()]*\)|ANALY[SZ]E\b|VERBOSE\b|QUERY\s+PLAN\b|FORMAT\s*=?\s*\w+|EXTENDED\b|PLAN\b)",
    re.IGNORECASE,
)
_READ_COMMANDS = frozenset({"EXPLAIN", "SHOW", "DESCRIBE", "DESC"})

_READ_START_TOKENS = frozenset(
    {
        TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.FROM, TokenType.TABLE,
        TokenType.L_PAREN, TokenType.DESCRIBE, TokenType.SHOW, TokenType.SUMMARIZE, TokenType.PIVOT,
    }
)  # fmt: skip
_QUERY_START_TOKENS = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.VALUES, TokenType.L_PAREN})
_WRITE_TOKENS = frozenset(
    {
        TokenType.INSERT, TokenType.UPDATE, TokenType.DELETE, TokenType.MERGE, TokenType.CREATE,
        TokenType.DROP, TokenType.ALTER, TokenType.TRUNCATE, TokenType.COPY, TokenType.ATTACH,
        TokenType.DETACH, TokenType.INSTALL, TokenType.SET, TokenType.GRANT, TokenType.INTO,
        TokenType.REPLACE, TokenType.COMMIT, TokenType.ROLLBACK, TokenType.BEGIN, TokenType.USE,
        TokenType.COMMAND, TokenType.EXECUTE, TokenType.LOAD, TokenType.PRAGMA,
    }
)  # fmt: skip
_WRITE_WORDS = frozenset({"EXPORT", "IMPORT", "HANDLER", "DO", "CALL", "FLUSH", "VACUUM", "CHECKPOINT"})
"""First words of statements sqlglot may not parse that must not run."""


def ensure_read_only(sql: str, *, dialect: str) -> None:
    """Raise `ReadOnlyViolation` unless `sql` is exactly one read-only statement in `dialect`.

    Raises `DatabaseError` for an empty query, or one that can't be parsed and doesn't look like a read.
    """
    try:
        statements = [statement for statement in sqlglot.parse(sql, read=dialect) if statement is not None]
    except (ParseError, TokenError) as error:
        _check_unparsed(sql, dialect=dialect, error=error)
        return
    if not statements:
        raise DatabaseError("The query is empty; send one SELECT statement.")
    if len(statements) > 1:
        raise ReadOnlyViolation(f"Refused: send one statement at a time; got {len(statements)}.")
    _check_statement(statements[0], sql=sql, dialect=dialect)


def is_plain_query(sql: str, *, dialect: str) -> bool:
    """Whether `sql` starts like a SELECT/VALUES query (one a Postgres server-side cursor can stream)."""
    try:
        tokens = _tokens(sql, dialect=dialect)
    except TokenError:
        return False
    return bool(tokens) and tokens[0].token_type in _QUERY_START_TOKENS


def _refuse(what: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(f"Refused: only read-only queries run here; got {what}.")


def _check_statement(statement: exp.Expr, *, sql: str, dialect: str) -> None:
    if isinstance(statement, exp.Command):
        _check_command(statement, dialect=dialect)
        return
    if isinstance(statement, exp.Pragma):
        _check_pragma(sql, dialect=dialect)
        return
    if not isinstance(statement, _READ_ROOTS):
        raise _refuse(_first_word(sql, dialect=dialect) or statement.key.upper())
    for node in statement.walk():
        _check_node(node)


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, _WRITES):
        name = type(node).__name__
        raise _refuse(
            _WRITE_NAMES.get(name, name.upper()) + ("" if name in _WRITE_NAMES else " inside the query")
        )
    if isinstance(node, exp.Select) and node.args.get("into") is not None:
        raise _refuse("SELECT ... INTO")
    if isinstance(node, exp.Func):
        function = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
        if function.lower() in _SIDE_EFFECT_FUNCTIONS:
            raise _refuse(f"a call to {function.lower()}(), which has side effects")


def _check_command(command: exp.Command, *, dialect: str) -> None:
    keyword = str(command.this).upper()
    if keyword not in _READ_COMMANDS:
        raise _refuse(keyword)
    if keyword != "EXPLAIN":
        return
    rest = command.expression.name if isinstance(command.expression, exp.Expr) else ""
    while match := _EXPLAIN_OPTIONS.match(rest):
        rest = rest[match.end() :]
    # EXPLAIN ANALYZE runs its statement: the statement explained must be a read too.
    ensure_read_only(rest, dialect=dialect)


def _check_pragma(sql: str, *, dialect: str) -> None:
    """Allow `PRAGMA name` and `PRAGMA name(arg)` for pragmas that only report; refuse `PRAGMA name = value`."""
    words = [token.text for token in _tokens(sql, dialect=dialect)]
    if len(words) > 3 and words[2] == ".":
        words = [words[0], *words[3:]]  # PRAGMA schema.name ...
    name = words[1] if len(words) > 1 else ""
    if name.lower() not in _READ_PRAGMAS or (len(words) > 2 and words[2] != "("):
        raise _refuse(f"PRAGMA {name}".strip())


def _tokens(sql: str, *, dialect: str) -> list[Token]:
    return Dialect.get_or_raise(dialect).tokenize(sql)


def _first_word(sql: str, *, dialect: str) -> str | None:
    try:
        tokens = _tokens(sql, dialect=dialect)
    except TokenError:
        return None
    return tokens[0].text.upper() if tokens else None


def _check_unparsed(sql: str, *, dialect: str, error: Exception) -> None:
    """sqlglot could not parse `sql`: let the database explain why, if it looks like one plain read."""
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    try:
        tokens = _tokens(sql, dialect=dialect)
    except TokenError:
        raise DatabaseError(f"Could not read this {dialect} SQL, so it was not run: {reason}") from error
    statements = [[]] if tokens else []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [statement for statement in statements if statement]
    if len(statements) > 1:
        raise ReadOnlyViolation(f"Refused: send one statement at a time; got {len(statements)}.")
    if not statements:
        raise DatabaseError("The query is empty; send one SELECT statement.")
    first, *_ = statements[0]
    if first.token_type in _WRITE_TOKENS or first.text.upper() in _WRITE_WORDS:
        raise _refuse(first.text.upper())
    written = next((token for token in statements[0] if token.token_type in _WRITE_TOKENS), None)
    if written is not None:
        raise _refuse("SELECT ... INTO" if written.token_type == TokenType.INTO else written.text.upper())
    if first.token_type not in _READ_START_TOKENS:
        raise DatabaseError(f"Could not parse this {dialect} SQL, so it was not run: {reason}")
