"""One walker over nested tasks: every task with its path, and the files each names."""

from __future__ import annotations

from oxy.config.walk import FileRef, walk_tasks
from oxy.config.workflow import WorkflowConfig


def test_walk_tasks_visits_every_nested_task_with_its_path() -> None:
    workflow = WorkflowConfig.model_validate(
        {
            "tasks": [
                {"name": "a", "type": "agent", "agent_ref": "agents/a.agent.yml", "prompt": "hi"},
                {
                    "name": "loop",
                    "type": "loop_sequential",
                    "values": [1, 2],
                    "tasks": [
                        {
                            "name": "branch",
                            "type": "conditional",
                            "conditions": [
                                {
                                    "if": "true",
                                    "tasks": [{"name": "w", "type": "workflow", "src": "w.workflow.yml"}],
                                }
                            ],
                            "else": [
                                {"name": "q", "type": "execute_sql", "database": "db", "sql_file": "q.sql"}
                            ],
                        }
                    ],
                },
            ]
        }
    )
    walked = [(task.name, path) for task, path in walk_tasks(workflow.tasks)]
    assert walked == [
        ("a", ("tasks", 0)),
        ("loop", ("tasks", 1)),
        ("branch", ("tasks", 1, "tasks", 0)),
        ("w", ("tasks", 1, "tasks", 0, "conditions", 0, "tasks", 0)),
        ("q", ("tasks", 1, "tasks", 0, "else", 0)),
    ]
    refs = [ref for task, _ in walk_tasks(workflow.tasks) for ref in task.file_refs()]
    assert refs == [
        FileRef(key="agent_ref", ref="agents/a.agent.yml", kind="agent"),
        FileRef(key="src", ref="w.workflow.yml", kind="workflow"),
        FileRef(key="sql_file", ref="q.sql", kind="sql"),
    ]
