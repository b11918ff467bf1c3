"""Picking an agent's A/B variant: by name, by weight, and the same one for the same thread."""

from __future__ import annotations

from collections import Counter

import pytest

from oxy.agents.prompt import apply_variant, choose_variant
from oxy.config.agent import DefaultAgentConfig
from oxy.errors import ConfigError

AGENT = DefaultAgentConfig.model_validate(
    {
        "model": "a",
        "system_instructions": "Be helpful.",
        "variants": [
            {"name": "control", "weight": 3},
            {"name": "terse", "weight": 1, "system_instructions": "Be brief.", "model": "b"},
            {"name": "off", "weight": 0},
        ],
    }
)


def test_a_thread_keeps_its_variant_and_threads_split_by_weight() -> None:
    picks = [choose_variant(AGENT, file="a.agent.yml", key=f"thread-{i}") for i in range(2000)]
    again = [choose_variant(AGENT, file="a.agent.yml", key=f"thread-{i}") for i in range(2000)]
    assert picks == again
    counts = Counter(v.name for v in picks if v is not None)
    assert set(counts) == {"control", "terse"}  # weight 0 is never picked
    assert 0.70 < counts["control"] / 2000 < 0.80  # 3 : 1 (deterministic: the keys are fixed)


def test_without_a_key_the_pick_is_random_by_weight() -> None:
    names = Counter(v.name for v in (choose_variant(AGENT, file="a") for _ in range(400)) if v is not None)
    assert set(names) <= {"control", "terse"} and names["control"] > names["terse"]


def test_a_variant_by_name_and_what_it_changes() -> None:
    terse = choose_variant(AGENT, file="a.agent.yml", name="terse")
    applied = apply_variant(AGENT, terse)
    assert (applied.system_instructions, applied.model) == ("Be brief.", "b")
    assert apply_variant(AGENT, choose_variant(AGENT, file="a", name="control")) is AGENT
    with pytest.raises(
        ConfigError, match=r"a\.agent\.yml: no variant 'tersе' \(variants: control, terse, off\)"
    ):
        choose_variant(AGENT, file="a.agent.yml", name="tersе")
    plain = DefaultAgentConfig.model_validate({"model": "a", "system_instructions": "x"})
    assert choose_variant(plain, file="a") is None
