"""Permission rules: what each decides, and the ways a command might try to slip past deny and ask."""

from __future__ import annotations

import pytest

from oxy.config.permissions import WORKSPACE_TOOLS, Permissions, command_parts, parse_rule
from oxy.config.tools import WorkspaceToolName

RULES = Permissions(
    allow=["read(**)", "glob", "grep", "bash(git status*)", "bash(pytest*)", "bash(echo *)"],
    ask=["write(src/**)", "edit(src/**)", "bash(git push*)"],
    deny=["read(**/.env)", "read(secrets/**)", "bash(rm *)", "webfetch(*)"],
)


def test_the_tool_names_are_one_list() -> None:
    assert set(WorkspaceToolName.__args__) == set(WORKSPACE_TOOLS)


@pytest.mark.parametrize(
    ("tool", "subject", "decision", "rule"),
    [
        ("read", "src/app.py", "allow", "read(**)"),
        ("read", ".env", "deny", "read(**/.env)"),
        ("read", "config/.env", "deny", "read(**/.env)"),
        ("read", ".ENV", "deny", "read(**/.env)"),  # a case-insensitive disk opens .env
        ("read", "Secrets/key", "deny", "read(secrets/**)"),
        ("write", "src/a/b.py", "ask", "write(src/**)"),
        ("write", "README.md", "ask", None),  # no rule: asked
        ("glob", ".", "allow", "glob"),
        ("todo", None, "allow", None),  # touches nothing: allowed unless denied
        ("webfetch", "https://example.com/", "deny", "webfetch(*)"),
        ("bash", "git status", "allow", "bash(git status*)"),
        ("bash", "pytest -q && git status --short", "allow", "bash(pytest*)"),
        ("bash", "git status && ls", "ask", None),  # every command must be allowed
        ("bash", "pytest > out.txt", "ask", None),  # a redirection is never allowed by a rule
        ("bash", "echo $(cat ~/.ssh/id_rsa)", "ask", None),  # nor a substitution
        ("bash", "echo 'a;b' \"c|d\"", "allow", "bash(echo *)"),  # quoted operators are text
    ],
)
def test_decisions(tool: str, subject: str | None, decision: str, rule: str | None) -> None:
    verdict = RULES.decide(tool, subject)
    assert (verdict.decision, verdict.rule.text if verdict.rule else None) == (decision, rule)


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /",
        "git status; rm -rf /",
        "echo $(true); rm -rf /",
        "git status 2>&1; rm -rf /",
        "(rm -rf /)",
        "{ rm -rf /; }",
        "X=1 rm -rf /",
        "eval 'rm -rf /'",
        "bash -c 'rm -rf /'",
        "/bin/rm -rf /",
        "'r'm -rf /",
        "r\\m -rf /",
        "echo hi\nrm -rf /",
        "pytest  &&  rm   -rf /",
    ],
)
def test_deny_catches_a_command_however_it_is_wrapped(command: str) -> None:
    verdict = RULES.decide("bash", command)
    assert (verdict.decision, verdict.rule.text if verdict.rule else None) == ("deny", "bash(rm *)")


@pytest.mark.parametrize("command", ["(git push origin main)", "pytest; git push", "X=1 git push"])
def test_ask_catches_a_command_however_it_is_wrapped(command: str) -> None:
    assert RULES.decide("bash", command).decision == "ask"


def test_command_parts() -> None:
    assert command_parts("a b && c | d; e & f\ng") == ["a b", "c", "d", "e", "f", "g"]
    assert command_parts("echo 'x > y'") == ["echo x > y"]
    assert command_parts("a > b") is None
    assert command_parts("echo `id`") is None
    assert command_parts("echo 'unbalanced") is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("bash(ls", "'bash(ls' is not a rule"),
        ("run", "'run' names no workspace tool"),
        ("read()", "has an empty pattern"),
        ("todo(x)", "todo takes no pattern"),
    ],
)
def test_bad_rules(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_rule(text, "allow")
