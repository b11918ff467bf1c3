"""The permission gate every workspace tool call passes: allow, ask a person, or refuse.

The agent's `permissions:` decide (deny beats ask beats allow; no match asks). A denied call, and one a
person refused, goes back to the model as a tool error naming the rule, so it can try something else.
An `ask` goes to the run's input channel (the terminal, `--yes`/`--no`, or `oxy serve`'s
`input_requested`); an earlier "always" approval for the thread lets the same call through.
"""

from __future__ import annotations

from oxy.config.permissions import Permissions
from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.execution.input import InputRequest, grant_key

__all__ = ["ask_question", "authorize"]


async def authorize(
    ctx: ExecutionContext, permissions: Permissions, *, tool: str, subject: str | None, what: str
) -> None:
    """Return when the call may run; raise `ToolError` saying why when it may not."""
    verdict = permissions.decide(tool, subject)
    if verdict.decision == "allow":
        return
    if verdict.decision == "deny":
        raise ToolError(
            f"{what} is not permitted: {verdict.why} in the agent's permissions; do not retry it, "
            "do something else or say you cannot"
        )
    channel = ctx.input
    key = grant_key(tool, subject)
    if channel is None:
        raise ToolError(
            f"{what} needs a person's approval ({verdict.why}) and nobody can answer in this run; "
            "an allow rule in the agent's permissions (or `oxy run --yes`) lets it run"
        )
    if await channel.granted(ctx, key):
        return
    answer = await channel.ask(
        ctx,
        InputRequest(
            kind="permission",
            tool=tool,
            what=what,
            why=verdict.why,
            rule=verdict.rule.text if verdict.rule is not None else None,
            subject=subject,
            call_id=ctx.call_id,
        ),
    )
    if not answer.approved:
        why = f" ({answer.note})" if answer.note else ""
        raise ToolError(f"the person did not approve {what}{why}; do not retry it as it is")


async def ask_question(ctx: ExecutionContext, question: str, options: list[str] | None) -> str:
    channel = ctx.input
    if channel is None:
        raise ToolError("nobody can answer questions in this run; decide yourself and say what you assumed")
    answer = await channel.ask(
        ctx,
        InputRequest(
            kind="question",
            tool="question",
            what=question,
            options=tuple(options or ()),
            call_id=ctx.call_id,
        ),
    )
    if not answer.approved or answer.text is None:
        note = answer.note or "no answer"
        raise ToolError(f"the question was not answered ({note}); decide yourself and say what you assumed")
    return answer.text
