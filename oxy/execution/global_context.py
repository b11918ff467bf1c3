"""The global template context: what `{{ databases.* }}` (and, for agents, `{{ context.* }}`,
`{{ tools.* }}`) resolve to. Every value here is lazy: naming `databases.local.tables` connects to
`local` the first time a template asks, and a template that never names it never connects.

`databases.<name>` has `name`, `dialect` (no connection needed), `tables` (list of table names),
`ddl` (every table's DDL), `schema` (one compact `table(column type, ...)` line per table) and `datasets.<schema>.{dataset, ddl, tables, semantic_info}`: DuckDB
datasets are its schemas (`main` for a `dataset:` folder).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oxy.config import Project
    from oxy.databases import Databases, TableInfo


class DatasetView:
    """One dataset (schema) of a database: `dataset`, `ddl`, `tables`, `semantic_info`."""

    def __init__(self, dataset: str, tables: list[TableInfo]) -> None:
        self.dataset = dataset
        self.tables = [t.name for t in tables]
        self.ddl = "\n\n".join(t.ddl for t in tables)
        self.semantic_info: dict[str, Any] = {}

    def __str__(self) -> str:
        return self.ddl


class DatasetsView:
    def __init__(self, by_dataset: dict[str, list[TableInfo]]) -> None:
        self._by_dataset = by_dataset

    def __getattr__(self, name: str) -> DatasetView:
        if name.startswith("_") or name not in self._by_dataset:
            raise AttributeError(name)
        return DatasetView(name, self._by_dataset[name])

    def __getitem__(self, name: str) -> DatasetView:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Any:
        return iter(self._by_dataset)


class DatabaseView:
    """`databases.<name>`: the dialect comes from config; tables and DDL connect on first use."""

    def __init__(self, databases: Databases, name: str, dialect: str) -> None:
        self._databases = databases
        self.name = name
        self.dialect = dialect

    @property
    def _tables(self) -> list[TableInfo]:
        return self._databases.tables(self.name)

    @property
    def tables(self) -> list[str]:
        return [t.name for t in self._tables]

    @property
    def ddl(self) -> str:
        return "\n\n".join(t.ddl for t in self._tables)

    @property
    def schema(self) -> str:
        """One line per table, `orders(order_id BIGINT, customer VARCHAR, ...)`: compact for small models."""
        return "\n".join(
            f"{t.name}({', '.join(f'{c.name} {c.type}' for c in t.columns)})" for t in self._tables
        )

    @property
    def datasets(self) -> DatasetsView:
        grouped: dict[str, list[TableInfo]] = {}
        for table in self._tables:
            grouped.setdefault(table.schema or "main", []).append(table)
        return DatasetsView(grouped)

    def __str__(self) -> str:
        return self.name


class DatabasesView:
    """`databases`: attribute access by database name, nothing connects until a table is asked for."""

    def __init__(self, databases: Databases, dialects: dict[str, str]) -> None:
        self._databases = databases
        self._dialects = dialects
        self._views: dict[str, DatabaseView] = {}

    def __getattr__(self, name: str) -> DatabaseView:
        if name.startswith("_") or name not in self._dialects:
            raise AttributeError(name)
        view = self._views.get(name)
        if view is None:
            view = self._views[name] = DatabaseView(self._databases, name, self._dialects[name])
        return view

    def __getitem__(self, name: str) -> DatabaseView:
        try:
            return self.__getattr__(name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Any:
        return iter(self._dialects)


def global_context(project: Project, databases: Databases) -> dict[str, Any]:
    """The context every template of `project` renders against."""
    dialects = {db.name: db.dialect for db in project.config.databases}
    return {"databases": DatabasesView(databases, dialects)}
