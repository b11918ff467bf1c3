"""Read-only access to a project's databases: DuckDB, SQLite, PostgreSQL and MySQL.

```python
with Databases(project.databases, project_root=root) as databases:
    result = databases.get("local").query("SELECT * FROM orders", limit=100)
```
"""

from oxy.databases._connector import Connector
from oxy.databases._open import database_types, open_database
from oxy.databases._readonly import ensure_read_only
from oxy.databases._registry import Databases
from oxy.databases._types import Column, JsonValue, QueryResult, TableInfo, group_ddl, to_json_value

__all__ = [
    "Column",
    "Connector",
    "Databases",
    "JsonValue",
    "QueryResult",
    "TableInfo",
    "database_types",
    "ensure_read_only",
    "group_ddl",
    "open_database",
    "to_json_value",
]
