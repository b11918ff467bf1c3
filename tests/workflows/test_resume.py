"""Every run records its finished tasks; `--retry` resumes a failed run, `--retry-from TASK` re-runs part."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from oxy.cli import cli
from oxy.events.types import Event, RunFinished, StepStarted, event_from_json
from oxy.storage import LOCAL_TENANT, Store
from oxy.testing import Fail, Reply, ScriptedModelServer
from oxy.workflows import StoreTaskOutputs
from tests.workflows.conftest import write

WORKFLOW = """\
variables:
  fruit: {type: string, default: apple}
tasks:
  - name: sales
    type: execute_sql
    database: local
    sql_query: select sales from sales where fruit = '{{ fruit }}'
  - name: first
    type: agent
    agent_ref: agents/writer.agent.yml
    prompt: "first {{ fruit }}"
  - name: each
    type: loop_sequential
    values: [a, b, c]
    tasks:
      - name: second
        type: agent
        agent_ref: agents/writer.agent.yml
        prompt: "second {{ each.value }}"
  - name: final
    type: formatter
    template: "{{ sales.sales[0] }} {{ first }} {% for i in each %}{{ i.second }} {% endfor %}"
"""


def oxy(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["run", str(path), "--format", "jsonl", *args])


def events_of(out: str) -> list[Event]:
    return [event_from_json(line) for line in out.splitlines()]


def steps(events: list[Event]) -> list[tuple[str, str]]:
    return [
        ("/".join(e.source[1:]), e.step_type)
        for e in events
        if isinstance(e, StepStarted) and "task" in e.step_type
    ]


def test_retry_resumes_from_the_failed_task(project: Path, server: ScriptedModelServer) -> None:
    path = write(project, "resume.workflow.yml", WORKFLOW)
    server.set_script([Reply(text="one"), Reply(text="A"), Fail(status=400, message="bad request")])
    failed = oxy(path, "-v", "fruit=banana")
    assert failed.exit_code == 1
    assert failed.stderr.startswith("error: task 'each/1/second' failed: Model 'scripted' (vllm): HTTP 400")

    with Store.open(project_root=project) as opened:
        store = StoreTaskOutputs(opened)
        record = store.last_failed("workflows/resume.workflow.yml")
        assert record is not None and record.status == "error" and record.variables == {"fruit": "banana"}
        assert list(store.load(record.run_id)) == ["sales", "first", "each/0/second"]

    server.set_script([Reply(text="B"), Reply(text="C")])
    resumed = oxy(path, "--retry")
    assert (resumed.exit_code, resumed.stderr) == (0, "")
    events = events_of(resumed.stdout)
    assert steps(events) == [
        ("sales", "task_replayed"),
        ("first", "task_replayed"),
        ("each", "task"),
        ("each/0/second", "task_replayed"),
        ("each/1/second", "task"),
        ("each/2/second", "task"),
        ("final", "task"),
    ]
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.output["final"] == "2000 one A B C "  # the variables of the failed run
    assert finished.output["sales"] == {
        "columns": ["sales"],
        "rows": [[2000]],
        "truncated": False,
        "dropped": None,
    }
    # set_script starts a new request log: the retry asked only for the two unfinished items.
    assert [r.messages[-1].content for r in server.requests] == ["second b", "second c"]

    # That run finished: nothing to resume any more.
    again = oxy(path, "--retry")
    assert again.exit_code == 1
    assert "finished with status 'ok'; nothing to resume" in again.stderr


def test_retry_from_reruns_from_a_named_task(project: Path, server: ScriptedModelServer) -> None:
    path = write(project, "resume.workflow.yml", WORKFLOW)
    server.set_script([Reply(text=t) for t in ("one", "A", "B", "C")])
    assert oxy(path).exit_code == 0

    server.set_script([Reply(text=t) for t in ("X", "Y", "Z")])
    rerun = oxy(path, "--retry-from", "each")
    assert (rerun.exit_code, rerun.stderr) == (0, "")
    events = events_of(rerun.stdout)
    assert steps(events)[:3] == [("sales", "task_replayed"), ("first", "task_replayed"), ("each", "task")]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.output["final"] == "325 one X Y Z "

    unknown = oxy(path, "--retry-from", "eachh")
    assert unknown.stderr == (
        "error: workflows/resume.workflow.yml: --retry-from: the workflow has no top-level task 'eachh' "
        "— did you mean 'each'?\n"
    )


def test_a_crashed_run_keeps_its_finished_tasks(project: Path, server: ScriptedModelServer) -> None:
    """A run whose process died (it never recorded an end) resumes from the tasks it finished."""
    path = write(project, "resume.workflow.yml", WORKFLOW)
    with Store.open(project_root=project) as store:
        outputs = StoreTaskOutputs(store)
        outputs.begin("crashed", "workflows/resume.workflow.yml", variables={"fruit": "cherry"})
        outputs.record("crashed", "workflows/resume.workflow.yml", "first", "from before the crash")
    # The store closed without finishing the run, as a killed process would leave it.
    server.set_script([Reply(text=t) for t in ("A", "B", "C")])
    resumed = oxy(path, "--retry")
    assert (resumed.exit_code, resumed.stderr) == (0, "")
    finished = events_of(resumed.stdout)[-1]
    assert isinstance(finished, RunFinished)
    assert finished.output["final"] == "18 from before the crash A B C "
    with Store.open(project_root=project) as store:
        runs = store.list_runs(tenant=LOCAL_TENANT, target="workflows/resume.workflow.yml")
        assert [(r.id == "crashed", r.status) for r in runs] == [(False, "ok"), (True, "interrupted")]


def test_retry_without_a_run(project: Path) -> None:
    path = write(project, "resume.workflow.yml", WORKFLOW)
    result = oxy(path, "--retry")
    assert result.stderr == (
        "error: --retry: workflows/resume.workflow.yml has not been run yet; nothing to resume "
        "(use --retry-from TASK to re-run part of it)\n"
    )
