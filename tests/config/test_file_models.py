"""The file models accept oxy's additions and word every kind of mistake for a person."""

from __future__ import annotations

import pytest

from oxy.config import ConfigErrors, WorkflowConfig
from oxy.config._parse import parse_agent, parse_config, parse_workflow
from oxy.config._yaml import parse_yaml
from oxy.config.workflow import ConditionalTask, ExecuteSqlTask, LoopSequentialTask


def workflow_errors(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        parse_workflow(parse_yaml(text, file="w.workflow.yml"))
    return [str(e) for e in caught.value.errors]


def agent_errors(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        parse_agent(parse_yaml(text, file="a.agent.yml"))
    return [str(e) for e in caught.value.errors]


def test_additive_workflow_keys() -> None:
    workflow = parse_workflow(
        parse_yaml(
            """\
tasks:
  - name: fruits
    type: loop_sequential
    values: [apple, kiwi]
    concurrency: 2
    tasks:
      - {name: q, type: execute_sql, database: local, sql_query: "select '{{ fruits.value }}'"}
  - name: pick
    type: conditional
    conditions:
      - if: "{{ fruits | length > 1 }}"
        tasks: [{name: many, type: formatter, template: many}]
    else:
      - {name: few, type: formatter, template: few}
""",
            file="w.workflow.yml",
        )
    )

    assert isinstance(workflow, WorkflowConfig)
    loop, pick = workflow.tasks
    assert isinstance(loop, LoopSequentialTask) and loop.concurrency == 2
    assert isinstance(loop.tasks[0], ExecuteSqlTask)
    assert isinstance(pick, ConditionalTask)
    assert pick.conditions[0].if_ == "{{ fruits | length > 1 }}"
    assert pick.else_ is not None and pick.else_[0].name == "few"


def test_plain_union_errors_name_every_shape() -> None:
    assert workflow_errors("tasks:\n  - {name: l, type: loop_sequential, values: 5, tasks: []}\n") == [
        "w.workflow.yml:2:46: 'values' must be a string or a list; got 5"
    ]


def test_execute_sql_needs_one_source() -> None:
    assert workflow_errors("tasks:\n  - name: q\n    type: execute_sql\n    database: local\n") == [
        "w.workflow.yml:2:5: 'tasks[0]': an execute_sql task needs exactly one of 'sql_file' or 'sql_query'; "
        "got neither"
    ]


def test_missing_type_lists_the_types() -> None:
    [error] = workflow_errors("tasks:\n  - name: q\n")

    assert error.startswith(
        "w.workflow.yml:2:5: missing key 'type': every task needs one; one of: agent, execute_sql,"
    )


def test_key_of_another_type_says_so() -> None:
    assert workflow_errors(
        "tasks:\n  - {name: a, type: agent, agent_ref: a.agent.yml, prompt: hi, sql_query: x}\n"
    ) == ["w.workflow.yml:2:64: unknown key 'sql_query' here; it belongs to type 'execute_sql'"]


def test_unknown_key_without_a_close_match_lists_valid_keys() -> None:
    assert workflow_errors("tasks: []\nzzz: 1\n") == [
        "w.workflow.yml:2:1: unknown key 'zzz'; valid keys: consistency_prompt, description, name, retrieval, "
        "tasks, tests, variables"
    ]


def test_nested_tasks_are_located() -> None:
    assert workflow_errors(
        "tasks:\n  - name: l\n    type: loop_sequential\n    values: [1]\n    tasks:\n      - {name: x, type: formattr}\n"
    ) == ["w.workflow.yml:6:25: unknown task type 'formattr' — did you mean 'formatter'?"]


def test_routing_keys_on_a_default_agent() -> None:
    assert agent_errors("model: m\nsystem_instructions: x\nroutes: [a]\n") == [
        "a.agent.yml:3:1: unknown key 'routes' here; it belongs to type 'routing'"
    ]


def test_agent_file_must_be_a_mapping() -> None:
    assert agent_errors("- model: m\n") == [
        "a.agent.yml:1:1: the file must be a mapping (key: value); got a list"
    ]


def test_wrong_item_type_in_a_list() -> None:
    assert agent_errors("type: routing\nmodel: m\nroutes: [a, {b: 1}]\n") == [
        "a.agent.yml:3:13: 'routes[1]' must be a string; got a mapping"
    ]


def test_bounds_are_worded() -> None:
    assert agent_errors("model: m\nsystem_instructions: x\nmax_tool_concurrency: 0\n") == [
        "a.agent.yml:3:23: 'max_tool_concurrency' must be greater than or equal to 1; got 0"
    ]


def test_config_union_member_errors_point_inside_the_member() -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_config(parse_yaml("builder_agent: {modl: x}\n", file="config.yml"))

    assert [str(e) for e in caught.value.errors] == [
        "config.yml:1:17: unknown key 'modl' — did you mean 'model'?",  # not also "missing 'model'"
    ]


def test_tool_choice_and_limits_default() -> None:
    agent = parse_agent(
        parse_yaml("model: m\nsystem_instructions: x\ntool_choice: required_first\n", file="a")
    )

    assert agent.type == "default"
    assert (agent.tool_choice, agent.max_tool_calls, agent.max_tool_concurrency) == ("required_first", 10, 4)
