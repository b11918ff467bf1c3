"""A variable inside a SQL string literal is injectable; `sql_literal` is not (issue 9, item 8)."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio

from oxy import Runtime, load_project, run_file

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

WORKFLOW = """\
variables:
  customer: {{type: string}}
tasks:
  - name: orders
    type: execute_sql
    database: shop
    sql_query: select count(*) as n from orders where customer = {where}
"""


def _count(root: Path, where: str, customer: str) -> object:
    (root / "workflows" / "by_customer.workflow.yml").write_text(WORKFLOW.format(where=where))
    runtime = Runtime.for_project(load_project(root))
    path = root / "workflows" / "by_customer.workflow.yml"
    result = anyio.run(lambda: run_file(path, runtime=runtime, variables={"customer": customer}))
    runtime.close()
    assert result.error is None, result.error
    return result.output["orders"].rows[0][0]  # type: ignore[index]


def test_a_quote_in_a_variable_cannot_rewrite_the_query(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    attack = "nobody' or '1'='1"
    assert _count(root, "'{{ customer }}'", attack) == 240  # the old way: every order comes back
    assert _count(root, "{{ customer | sql_literal }}", attack) == 0
    assert _count(root, "{{ customer | sql_literal }}", "O'Brien") == 0  # a real quote still works
