"""The static template checks behind `oxy validate`."""

from __future__ import annotations

from oxy.config._yaml import DataPath
from oxy.config.template_refs import TEMPLATE_BUILTINS, check_database_refs, close_unknown_names


def refs(text: str) -> list[str]:
    found: list[str] = []

    def report(message: str, _: DataPath) -> None:
        found.append(message)

    check_database_refs(text, (), ["shop"], report)
    return found


def test_only_template_blocks_are_read() -> None:
    assert refs("select * from databases.orders -- plain SQL, a schema named databases") == []
    assert refs("{{ databases.shop.schema }} {% for t in databases.shop.tables %}{{ t }}{% endfor %}") == []
    assert refs("{{ databases.shp.schema }}") == [
        "template: 'databases.shp.schema': no database 'shp' in config.yml — did you mean 'shop'?"
    ]
    assert len(refs("{{ databases.shop.tabels }}")) == 1


def test_close_names_are_reported_but_builtins_and_far_names_are_not() -> None:
    known = {"top", "best_sellers", "ranges", *TEMPLATE_BUILTINS}
    assert close_unknown_names("{{ topp }} {{ best_seller.name }}", known) == [
        ("best_seller", "best_sellers"),
        ("topp", "top"),
    ]
    text = "{% for i in range(3) %}{{ loop.index }}{% endfor %}{{ something_else }}"
    assert close_unknown_names(text, known) == []
    assert close_unknown_names("{{ broken", known) == []  # a syntax error is the renderer's to report
