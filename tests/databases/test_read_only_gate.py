"""The read-only gate on its own: one statement, and a read, in every dialect we run."""

from __future__ import annotations

import pytest

from oxy.databases import ensure_read_only
from oxy.errors import DatabaseError, ReadOnlyViolation

DIALECTS = ["duckdb", "sqlite", "postgres", "mysql"]

# (sql, what the refusal names) — refused in every dialect
ATTACKS = [
    ("INSERT INTO t VALUES (1)", "got INSERT."),
    ("insert into t select * from t", "got INSERT."),
    ("UPDATE t SET a = 1", "got UPDATE."),
    ("DELETE FROM t", "got DELETE."),
    ("DROP TABLE t", "got DROP."),
    ("CREATE TABLE x AS SELECT 1", "got CREATE."),
    ("CREATE VIEW v AS SELECT 1", "got CREATE."),
    ("ALTER TABLE t ADD COLUMN b INT", "got ALTER."),
    ("TRUNCATE TABLE t", "got TRUNCATE."),
    ("SELECT 1; DROP TABLE t", "send one statement at a time; got 2."),
    ("SELECT 1; SELECT 2;", "send one statement at a time; got 2."),
    ("SELECT 1;\n-- harmless?\nDELETE FROM t;", "send one statement at a time; got 2."),
    ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "got DELETE inside the query."),
    ("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "got INSERT inside the query."),
    ("SELECT * INTO copy_of_t FROM t", "got SELECT ... INTO."),
    ("GRANT SELECT ON t TO someone", "got GRANT."),
    ("BEGIN", "got BEGIN."),
    ("COMMIT", "got COMMIT."),
    ("ROLLBACK", "got ROLLBACK."),
    ("VACUUM", "got VACUUM."),
    ("/* looks like a comment */ DELETE FROM t", "got DELETE."),
]

PER_DIALECT_ATTACKS = [
    ("duckdb", "COPY t TO '/tmp/out.csv'", "got COPY."),
    ("duckdb", "COPY t FROM '/tmp/in.csv'", "got COPY."),
    ("duckdb", "ATTACH '/tmp/other.duckdb' AS other", "got ATTACH."),
    ("duckdb", "DETACH other", "got DETACH."),
    ("duckdb", "INSTALL httpfs", "got INSTALL."),
    ("duckdb", "LOAD httpfs", "got LOAD."),
    ("duckdb", "SET enable_external_access = true", "got SET."),
    ("duckdb", "CALL pragma_version()", "got CALL."),
    ("duckdb", "EXPORT DATABASE '/tmp/dump'", "got EXPORT."),
    ("duckdb", "CHECKPOINT", "got CHECKPOINT."),
    ("duckdb", "USE other", "got USE."),
    ("duckdb", "EXPLAIN ANALYZE DELETE FROM t", "got DELETE."),
    ("duckdb", "CREATE OR REPLACE VIEW orders AS SELECT 1", "got CREATE."),
    ("postgres", "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", "got MERGE."),
    ("postgres", "COPY t TO PROGRAM 'rm -rf /'", "got COPY."),
    ("postgres", "SELECT 1 INTO TEMP x", "got SELECT ... INTO."),
    ("postgres", "SELECT * FROM t FOR UPDATE", "got a locking read (FOR UPDATE/SHARE)."),
    ("postgres", "SELECT set_config('default_transaction_read_only', 'off', false)", "set_config()"),
    ("postgres", "SELECT nextval('seq')", "nextval()"),
    ("postgres", "SELECT lo_export(1, '/tmp/x')", "lo_export()"),
    ("postgres", "SELECT pg_read_file('/etc/passwd')", "pg_read_file()"),
    ("postgres", "EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "got INSERT."),
    ("postgres", "EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", "got DELETE."),
    ("postgres", "DO $$ BEGIN DELETE FROM t; END $$", "got DO."),
    ("postgres", "SET default_transaction_read_only = off", "got SET."),
    ("postgres", "RESET ALL", "got RESET."),
    ("postgres", "LOCK TABLE t", "got LOCK."),
    ("postgres", "PREPARE p AS DELETE FROM t", "got PREPARE."),
    ("postgres", "REFRESH MATERIALIZED VIEW v", "got REFRESH."),
    ("postgres", "COMMENT ON TABLE t IS 'x'", "got COMMENT."),
    ("postgres", "LISTEN channel", "got LISTEN."),
    ("sqlite", "REPLACE INTO t VALUES (1)", "got REPLACE."),
    ("sqlite", "INSERT OR REPLACE INTO t VALUES (1)", "got INSERT."),
    ("sqlite", "PRAGMA journal_mode = WAL", "got PRAGMA journal_mode."),
    ("sqlite", "PRAGMA writable_schema = 1", "got PRAGMA writable_schema."),
    ("sqlite", "ATTACH DATABASE '/tmp/x.db' AS x", "got ATTACH."),
    ("sqlite", "SELECT load_extension('evil')", "load_extension()"),
    ("sqlite", "REINDEX", "got REINDEX."),
    ("mysql", "REPLACE INTO t VALUES (1)", "got REPLACE."),
    ("mysql", "LOAD DATA INFILE '/tmp/x' INTO TABLE t", "got LOAD."),
    ("mysql", "SELECT * FROM t INTO OUTFILE '/tmp/x'", "got SELECT ... INTO."),
    ("mysql", "SELECT 1 INTO @x", "got SELECT ... INTO."),
    ("mysql", "SET @a = 1", "got SET."),
    ("mysql", "LOCK TABLES t READ", "got LOCK TABLES."),
    ("mysql", "FLUSH TABLES", "got FLUSH."),
    ("mysql", "KILL 1", "got KILL."),
    ("mysql", "DO SLEEP(10)", "got DO."),
    ("mysql", "HANDLER t OPEN", "got HANDLER."),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE", "got a locking read"),
    ("mysql", "EXPLAIN DELETE FROM t", "got DELETE inside the query."),
    ("mysql", "SELECT SLEEP(10)", "sleep()"),
]

READS = [
    "SELECT 1",
    "select * from t where a = 'x; DROP TABLE t'",
    "SELECT 1;",
    "/* oxy:\n  database: local\n*/\nSELECT count(*) FROM t",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "SELECT a FROM t UNION ALL SELECT b FROM u",
    "SELECT a FROM t EXCEPT SELECT b FROM u",
    "(SELECT 1)",
    "SELECT a, count(*) FROM t GROUP BY a HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 5",
    "SELECT * FROM t WHERE name LIKE 'a%' AND note <> ':x'",
    "EXPLAIN SELECT * FROM t",
]

PER_DIALECT_READS = [
    ("duckdb", "FROM t"),
    ("duckdb", "SELECT * FROM 'orders.csv'"),
    ("duckdb", "DESCRIBE t"),
    ("duckdb", "SHOW TABLES"),
    ("duckdb", "SUMMARIZE t"),
    ("duckdb", "PRAGMA table_info('t')"),
    ("duckdb", "VALUES (1, 'a'), (2, 'b')"),
    ("duckdb", "EXPLAIN ANALYZE SELECT 1"),
    ("duckdb", "PIVOT t ON a USING sum(b)"),
    ("postgres", "SHOW search_path"),
    ("postgres", "EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1"),
    ("postgres", "VALUES (1)"),
    ("sqlite", "PRAGMA table_info(t)"),
    ("sqlite", "PRAGMA main.index_list(t)"),
    ("sqlite", "EXPLAIN QUERY PLAN SELECT * FROM t"),
    ("mysql", "SHOW TABLES"),
    ("mysql", "DESCRIBE t"),
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("sql", "named"), ATTACKS)
def test_refused_everywhere(sql: str, named: str, dialect: str) -> None:
    with pytest.raises(ReadOnlyViolation, match="^Refused: ") as refused:
        ensure_read_only(sql, dialect=dialect)
    assert str(refused.value).endswith(named)


@pytest.mark.parametrize(("dialect", "sql", "named"), PER_DIALECT_ATTACKS)
def test_refused_in_dialect(dialect: str, sql: str, named: str) -> None:
    with pytest.raises(ReadOnlyViolation, match="^Refused: ") as refused:
        ensure_read_only(sql, dialect=dialect)
    assert named in str(refused.value)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("sql", READS)
def test_reads_pass_everywhere(sql: str, dialect: str) -> None:
    ensure_read_only(sql, dialect=dialect)


@pytest.mark.parametrize(("dialect", "sql"), PER_DIALECT_READS)
def test_reads_pass_in_dialect(dialect: str, sql: str) -> None:
    ensure_read_only(sql, dialect=dialect)


def test_refusal_message_reads_as_a_sentence() -> None:
    with pytest.raises(ReadOnlyViolation) as refused:
        ensure_read_only("INSERT INTO t VALUES (1)", dialect="duckdb")
    assert str(refused.value) == "Refused: only read-only queries run here; got INSERT."
    with pytest.raises(ReadOnlyViolation) as refused:
        ensure_read_only("SELECT 1; SELECT 2", dialect="postgres")
    assert str(refused.value) == "Refused: send one statement at a time; got 2."


@pytest.mark.parametrize("sql", ["", "   ", ";", "-- only a comment"])
def test_empty_query(sql: str) -> None:
    with pytest.raises(DatabaseError, match="The query is empty"):
        ensure_read_only(sql, dialect="duckdb")


def test_unparseable_read_goes_to_the_database() -> None:
    """sqlglot can't parse everything; a query that starts like a read is left to the database to judge."""
    ensure_read_only("SELECT * FROM t WHERE", dialect="postgres")


def test_unparseable_non_read_is_not_run() -> None:
    with pytest.raises(DatabaseError, match="Could not parse this duckdb SQL, so it was not run"):
        ensure_read_only("SELEC 1", dialect="duckdb")
