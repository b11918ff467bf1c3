"""oxy's own tool calling for llama.cpp models: which turn calls, and what the template is given."""

from __future__ import annotations

import json

from oxy.models import (
    AssistantMessage,
    NamedToolChoice,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)
from oxy.models._llama_chat import (
    NAME_PREFIX,
    call_prefix,
    chat_messages,
    name_grammar,
    parse_call,
    plan_turn,
)

SQL = ToolDefinition(
    name="execute_sql",
    description="Run one query.",
    parameters={"type": "object", "properties": {"sql": {"type": "string", "description": "The query."}}},
)
CHART = ToolDefinition(name="chart", description="Draw a chart.")
QUESTION = UserMessage(content='How many "orders" are there?')
CALL = ToolCall(id="c1", name="execute_sql", arguments='{"sql": "SELECT COUNT(*) FROM orders"}')


def test_auto_calls_until_a_tool_has_run_then_answers_and_retries_after_an_error() -> None:
    assert plan_turn([QUESTION], [SQL], "auto").tools == (SQL,)
    assert plan_turn([QUESTION], [SQL], None).calls
    ok = [QUESTION, AssistantMessage(tool_calls=(CALL,)), ToolMessage(tool_call_id="c1", content="| 240 |")]
    assert not plan_turn(ok, [SQL], "auto").calls
    failed = [*ok[:2], ToolMessage(tool_call_id="c1", content="Error: no table", is_error=True)]
    assert plan_turn(failed, [SQL], "auto").calls
    # In a thread, a new question calls again: earlier results answered earlier questions.
    follow_up = [*ok, AssistantMessage(content="240."), UserMessage(content="And products?")]
    assert plan_turn(follow_up, [SQL], "auto").calls


def test_forced_and_refused_choices() -> None:
    assert plan_turn([QUESTION], [SQL, CHART], NamedToolChoice(name="chart")).tools == (CHART,)
    assert plan_turn([QUESTION], [SQL, CHART], "required").tools == (SQL, CHART)
    assert not plan_turn([QUESTION], [SQL], "none").calls
    assert not plan_turn([QUESTION], [], "required").calls


def test_call_turns_describe_the_tools_and_show_earlier_calls() -> None:
    messages = [SystemMessage(content="You analyse."), QUESTION]
    turns = chat_messages(messages, [SQL])
    assert turns[0]["role"] == "system"
    assert turns[0]["content"].startswith("You analyse.\n\nTo call a tool, reply with only")
    assert "- execute_sql: Run one query. Arguments: sql (string): The query." in turns[0]["content"]
    # Quotes and angle brackets reach the model as they are: nothing is HTML-escaped.
    assert turns[1] == {"role": "user", "content": 'How many "orders" are there?'}


def test_answer_turns_show_results_with_the_question_and_no_call_format() -> None:
    messages = [
        SystemMessage(content="You analyse."),
        QUESTION,
        AssistantMessage(tool_calls=(CALL,)),
        ToolMessage(tool_call_id="c1", name="execute_sql", content="| count |\n| 240 |"),
    ]
    turns = chat_messages(messages, [])
    assert turns[0] == {"role": "system", "content": "You analyse."}
    assert [t["role"] for t in turns] == ["system", "user"]
    assert turns[1]["content"] == (
        'How many "orders" are there?\n\nexecute_sql returned:\n| count |\n| 240 |\n\n'
        'Answer in one sentence: How many "orders" are there?'
    )
    assert "{" not in turns[1]["content"]


def test_a_failed_call_is_shown_with_its_error_for_the_retry() -> None:
    messages = [
        QUESTION,
        AssistantMessage(tool_calls=(CALL,)),
        ToolMessage(tool_call_id="c1", name="execute_sql", content="Error: no such column", is_error=True),
    ]
    turns = chat_messages(messages, [SQL])
    assert [t["role"] for t in turns] == ["system", "user", "assistant", "user"]
    assert turns[2] == {
        "role": "assistant",
        "content": json.dumps({"name": "execute_sql", "arguments": {"sql": "SELECT COUNT(*) FROM orders"}}),
    }
    assert turns[3]["content"].startswith("execute_sql failed:\nError: no such column")
    assert turns[3]["content"].endswith('Fix the call and try again: How many "orders" are there?')


def test_call_text_round_trips() -> None:
    text = call_prefix("execute_sql") + '{"sql": "SELECT 1"}' + "}"
    assert parse_call(text, [SQL]) == ("execute_sql", '{"sql": "SELECT 1"}')
    assert parse_call(text, [CHART]) is None  # not a tool this turn offered
    assert parse_call(text[:-1], [SQL]) is None  # cut short
    assert NAME_PREFIX + 'chart"' == '{"name": "chart"'
    assert name_grammar([SQL, CHART]) == 'root ::= "execute_sql\\"" | "chart\\""\n'
