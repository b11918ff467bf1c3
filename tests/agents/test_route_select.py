"""Routing by embeddings: with more routes than `top_k`, the model is offered the nearest ones;
`retrieval.include` prompts pull a route in, `exclude` prompts push it away."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.testing import Reply, ScriptedModel

ROUTES = {
    "stores": "Opening hours, addresses and managers of our cafés.",
    "beans": "Coffee beans: origins, roast levels and prices per bag.",
    "recipes": "How baristas make each drink: shots, milk and temperature.",
    "delivery": "Shipping of online orders: carriers, costs and delivery times.",
    "hr": "Staff policies: leave, pay, holidays and training.",
    "loyalty": "The loyalty programme: stamps, points and member rewards.",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    for name, description in ROUTES.items():
        extra = ""
        if name == "loyalty":
            extra = "retrieval:\n  include: [free coffee for regulars]\n  exclude: [staff discounts for employees]\n"
        (root / "agents" / f"{name}.agent.yml").write_text(
            f'description: "{description}"\nmodel: m\nsystem_instructions: Answer.\n{extra}'
        )
    (root / "agents" / "router.agent.yml").write_text(
        "type: routing\nmodel: m\nroutes: [agents/*.agent.yml]\ntop_k: 2\nembed_model: local\n"
    )
    return root


def offered(project: Path, question: str) -> list[str]:
    model = ScriptedModel([Reply(text="No route.")], name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    result = anyio.run(
        lambda: run_file(project / "agents/router.agent.yml", runtime=runtime, prompt=question)
    )
    assert result.status == "ok", result.error
    return [tool.name for tool in model.requests[0].tools]


def test_the_model_is_offered_the_routes_nearest_the_question(project: Path) -> None:
    assert offered(project, "What time does the café on the main square open?")[0] == "stores"
    assert (
        offered(project, "How much does shipping my order cost and which carrier brings it?")[0] == "delivery"
    )
    assert len(offered(project, "How many shots go into a flat white?")) == 2


def test_include_prompts_pull_a_route_in_and_exclude_prompts_push_it_away(project: Path) -> None:
    assert "loyalty" in offered(project, "Do regulars get free coffee?")
    assert "loyalty" not in offered(project, "Are there staff discounts for employees?")


def test_with_no_more_routes_than_top_k_every_route_is_offered(project: Path) -> None:
    router = project / "agents" / "router.agent.yml"
    router.write_text(router.read_text().replace("top_k: 2", "top_k: 6"))
    assert sorted(offered(project, "anything")) == sorted(ROUTES)


def test_without_an_embed_model_every_route_is_offered(project: Path) -> None:
    router = project / "agents" / "router.agent.yml"
    router.write_text(router.read_text().replace("embed_model: local\n", ""))
    assert sorted(offered(project, "What time does the café open?")) == sorted(
        ROUTES
    )  # offline: no OpenAI call
