"""Each task type on a small DuckDB project, through `run_workflow_file`."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.errors import ConfigError
from oxy.events.types import ChartEvent, SqlEvent, StepStarted
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest
from oxy.workflows import ConsistencyOutput, LoopOutput, TableOutput, TaskFailed
from tests.workflows.conftest import run, write


def test_sql_formatter_and_template_context(project: Path) -> None:
    path = write(
        project,
        "report.workflow.yml",
        """\
        variables:
          fruit: {type: string, default: banana}
        tasks:
          - name: sales
            type: execute_sql
            database: local
            sql_query: select fruit, sales from sales order by fruit
          - name: one
            type: execute_sql
            database: local
            sql_file: queries/by_fruit.sql
          - name: picked
            type: execute_sql
            database: local
            sql_file: "{{ 'queries/by_' ~ 'fruit.sql' }}"
            variables:
              fruit: "{{ sales.fruit[2] }}"
          - name: text
            type: formatter
            template: |
              {{ sales }}
              {{ sales.fruit }} {{ sales.sales[0] + 1 }} {{ one.sales[0] }} {{ picked.sales[0] }} {{ sales.fruit|length }}
        """,
    )
    done = run(project, path)
    out = done.output
    assert out["sales"] == TableOutput(
        columns=("fruit", "sales"), rows=(("apple", 325), ("banana", 2000), ("cherry", 18))
    )
    assert out["text"] == (
        "| fruit | sales |\n| --- | --- |\n| apple | 325 |\n| banana | 2000 |\n| cherry | 18 |\n"
        "['apple', 'banana', 'cherry'] 326 2000 18 3\n"
    )
    sql = [e.sql for e in done.events if isinstance(e, SqlEvent)]
    assert sql[1:] == [
        "select sales from sales where fruit = 'banana'\n",
        "select sales from sales where fruit = 'cherry'\n",
    ]


def test_agent_task_prompt_and_variables(project: Path, server: ScriptedModelServer) -> None:
    server.set_script([Reply(text="Bananas sell best.")])
    path = write(
        project,
        "agent.workflow.yml",
        """\
        tasks:
          - name: sales
            type: execute_sql
            database: local
            sql_query: select fruit, sales from sales order by sales desc limit 1
          - name: report
            type: agent
            agent_ref: agents/writer.agent.yml
            prompt: "Top seller: {{ sales.fruit[0] }}"
        """,
    )
    done = run(project, path, streams_text=True)
    assert done.output["report"] == "Bananas sell best."
    (request,) = server.requests
    assert request.messages[-1].content == "Top seller: banana"
    assert request.stream is False  # a task's answer shows when the task ends: nobody reads it token by token
    agent_steps = [e.source for e in done.events if isinstance(e, StepStarted) and e.step_type == "agent"]
    assert agent_steps == [("agent", "report", "writer")]


def test_consistency_run_picks_the_answer_most_others_agree_with(
    project: Path, server: ScriptedModelServer
) -> None:
    def script(request: ScriptedRequest) -> Reply:
        text = request.messages[-1].content
        if "Answer 1:" in text:  # the judge: do 40 and forty agree?
            same = "40" in text and "forty" in text
            return Reply(text="yes" if same else "no")
        return Reply(text=answers.pop(0))

    answers = ["There are 40 users.", "There are 41 users.", "forty users", "There are 40 users."]
    server.set_script(script)
    path = write(
        project,
        "consistency.workflow.yml",
        """\
        tasks:
          - name: report
            type: agent
            agent_ref: agents/writer.agent.yml
            prompt: how many users?
            consistency_run: 4
          - name: show
            type: formatter
            template: "{{ report.value }} / {{ report.score }} / {{ report }}"
        """,
    )
    out = run(project, path).output
    report = out["report"]
    assert isinstance(report, ConsistencyOutput)
    assert sorted(report.answers) == sorted(
        ["There are 40 users.", "There are 41 users.", "forty users", "There are 40 users."]
    )
    # "There are 40 users." agrees with its twin and with "forty users": 2 of the 3 others; "forty users"
    # agrees with both: 2 of 3 too. The earliest run of the tie wins, and the four runs answer in
    # whatever order their requests reach the server, so either may be the value.
    assert report.score == 0.6667
    assert report.value in ("There are 40 users.", "forty users")
    assert out["show"] == f"{report.value} / 0.6667 / {report.value}"


@pytest.mark.parametrize(
    ("fruit", "expected"),
    [("apple", {"first": "is apple"}), ("banana", {"second": "sold 2000"}), ("kiwi", {"other": "no kiwi"})],
)
def test_conditional_runs_the_first_branch_that_holds(
    project: Path, fruit: str, expected: dict[str, str]
) -> None:
    path = write(
        project,
        "cond.workflow.yml",
        """\
        variables:
          fruit: {type: string}
        tasks:
          - name: sales
            type: execute_sql
            database: local
            sql_query: select sales from sales where fruit = '{{ fruit }}'
          - name: branch
            type: conditional
            conditions:
              - if: fruit == "apple"
                tasks:
                  - {name: first, type: formatter, template: "is {{ fruit }}"}
              - if: "{{ sales.sales|length > 0 and sales.sales[0] > 1000 }}"
                tasks:
                  - {name: second, type: formatter, template: "sold {{ sales.sales[0] }}"}
            else:
              - {name: other, type: formatter, template: "no {{ fruit }}"}
          - name: after
            type: formatter
            template: "{{ branch }}"
        """,
    )
    out = run(project, path, variables={"fruit": fruit}).output
    assert out["branch"] == expected


def test_conditional_without_else_gives_an_empty_dict(project: Path) -> None:
    path = write(
        project,
        "cond.workflow.yml",
        """\
        tasks:
          - name: branch
            type: conditional
            conditions:
              - if: "false"
                tasks: [{name: never, type: formatter, template: x}]
        """,
    )
    assert run(project, path).output == {"branch": {}}


def test_loop_values_from_a_column_and_nested_subworkflow(project: Path) -> None:
    write(
        project,
        "one.workflow.yml",
        """\
        variables:
          fruit: {type: string}
          n: {type: integer, default: 0}
        tasks:
          - name: q
            type: execute_sql
            database: local
            sql_query: select sales from sales where fruit = '{{ fruit }}'
          - name: line
            type: formatter
            template: "{{ n }}. {{ fruit }}: {{ q.sales[0] }}"
        """,
    )
    path = write(
        project,
        "loop.workflow.yml",
        """\
        tasks:
          - name: fruits
            type: execute_sql
            database: local
            sql_query: select fruit from sales order by fruit
          - name: per_fruit
            type: loop_sequential
            values: "{{ fruits.fruit }}"
            concurrency: 3
            tasks:
              - name: sub
                type: workflow
                src: workflows/one.workflow.yml
                variables:
                  fruit: "{{ per_fruit.value }}"
                  n: "{{ loop.index + 1 }}"
              - name: check
                type: conditional
                conditions:
                  - if: sub.q.sales[0] > 100
                    tasks: [{name: big, type: formatter, template: "big {{ per_fruit.value }}"}]
          - name: summary
            type: formatter
            template: "{% for i in per_fruit %}{{ i.sub.line }} {{ i.check.big if 'big' in i.check else '-' }}|{% endfor %}"
        """,
    )
    done = run(project, path)
    loop = done.output["per_fruit"]
    assert isinstance(loop, LoopOutput) and loop.values == ["apple", "banana", "cherry"]
    assert done.output["summary"] == "1. apple: 325 big apple|2. banana: 2000 big banana|3. cherry: 18 -|"
    tasks = {e.source for e in done.events if isinstance(e, StepStarted) and e.step_type == "task"}
    assert ("loop", "per_fruit", "2", "sub", "line") in tasks
    assert ("loop", "per_fruit", "0", "check", "big") in tasks


def test_loop_values_as_a_list_with_templates_and_as_text(project: Path) -> None:
    path = write(
        project,
        "loop.workflow.yml",
        """\
        variables:
          top: {type: integer, default: 3}
        tasks:
          - name: a
            type: loop_sequential
            values: [1, "{{ top }}", "x{{ top }}"]
            tasks: [{name: t, type: formatter, template: "{{ a.value }}"}]
          - name: b
            type: loop_sequential
            values: "[{{ top }}, {{ top * 2 }}]"
            tasks: [{name: t, type: formatter, template: "{{ b.value * 10 }}"}]
        """,
    )
    out = run(project, path).output
    assert [item["t"] for item in out["a"]] == ["1", "3", "x3"]
    assert out["a"].values == [1, 3, "x3"]
    assert [item["t"] for item in out["b"]] == ["30", "60"]


def test_loop_values_that_are_not_a_list(project: Path) -> None:
    path = write(
        project,
        "loop.workflow.yml",
        """\
        tasks:
          - name: a
            type: loop_sequential
            values: "{{ 5 }}"
            tasks: [{name: t, type: formatter, template: x}]
        """,
    )
    error = run(project, path).result.error
    assert isinstance(error, ConfigError)
    assert str(error) == "workflows/loop.workflow.yml:4: values: '{{ 5 }}' gave int 5, not a list"


def test_visualize_sends_a_vega_lite_chart(project: Path) -> None:
    path = write(
        project,
        "chart.workflow.yml",
        """\
        tasks:
          - name: sales
            type: execute_sql
            database: local
            sql_query: select fruit, sales, cast(day as date) as day from sales order by day
          - name: chart
            type: visualize
            prompt: Sales by fruit
          - name: trend
            type: visualize
            data: sales
            x: day
            y: sales
        """,
    )
    done = run(project, path)
    charts = [e for e in done.events if isinstance(e, ChartEvent)]
    assert [c.source for c in charts] == [("chart", "chart"), ("chart", "trend")]
    bar, line = (c.spec for c in charts)
    assert bar["mark"] == {"type": "bar", "tooltip": True} and bar["title"] == "Sales by fruit"
    assert bar["encoding"] == {
        "x": {"field": "fruit", "type": "nominal"},
        "y": {"field": "sales", "type": "quantitative"},
    }
    assert bar["data"]["values"][0] == {"fruit": "apple", "sales": 325, "day": "2024-01-01"}
    assert line["mark"]["type"] == "line" and line["encoding"]["x"] == {"field": "day", "type": "temporal"}
    assert done.output["chart"].spec == bar


def test_visualize_needs_a_table(project: Path) -> None:
    path = write(
        project,
        "chart.workflow.yml",
        """\
        tasks:
          - {name: text, type: formatter, template: hi}
          - {name: chart, type: visualize}
        """,
    )
    error = run(project, path).result.error
    assert str(error) == (
        "workflows/chart.workflow.yml:3: task 'chart' charts a table, but the previous task's output is str; "
        "set `data` to an execute_sql task's name"
    )


def test_unsupported_task_types_say_so_when_run(project: Path) -> None:
    path = write(
        project,
        "semantic.workflow.yml",
        """\
        tasks:
          - name: q
            type: semantic_query
            topic: sales
        """,
    )
    error = run(project, path).result.error
    assert error is not None and "is a semantic_query task, which this engine does not run yet" in str(error)


def test_runtime_failures_name_the_task(project: Path) -> None:
    path = write(
        project,
        "bad.workflow.yml",
        """\
        tasks:
          - name: per
            type: loop_sequential
            values: [a, b]
            tasks:
              - {name: q, type: execute_sql, database: local, sql_query: "select nope from sales"}
        """,
    )
    error = run(project, path).result.error
    assert isinstance(error, TaskFailed)
    assert error.task_path in ("per/0/q", "per/1/q")
    assert str(error).startswith(f"task '{error.task_path}' failed: local (duckdb): Binder Error")


def test_template_errors_name_the_file_and_line(project: Path) -> None:
    path = write(
        project,
        "typo.workflow.yml",
        """\
        tasks:
          - name: sales
            type: execute_sql
            database: local
            sql_query: select 1 as n
          - name: text
            type: formatter
            template: |
              first line
              {{ sale.n }}
        """,
    )
    error = run(project, path).result.error
    assert str(error) == (
        "workflows/typo.workflow.yml:10: tasks[1].template: template error: "
        "`sale` is undefined — did you mean 'sales'?"
    )


def test_a_workflow_that_runs_itself_is_an_error(project: Path) -> None:
    path = write(
        project,
        "self.workflow.yml",
        """\
        tasks:
          - {name: again, type: workflow, src: workflows/self.workflow.yml}
        """,
    )
    error = run(project, path).result.error
    assert str(error) == (
        "workflows/self.workflow.yml: workflow 'workflows/self.workflow.yml' runs itself "
        "(workflows/self.workflow.yml → workflows/self.workflow.yml); remove the cycle"
    )
