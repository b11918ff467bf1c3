"""Errors out of task groups: anyio wraps a failing child's error in an exception group; a run
should fail with that error, as if the child had run alone."""

from __future__ import annotations

from oxy.errors import OxyError


def unwrap_group(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error inside `group` (an `OxyError` if there is one)."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:  # pyright: ignore[reportUnknownVariableType]
                walk(inner)  # pyright: ignore[reportUnknownArgumentType]
        else:
            leaves.append(exc)

    walk(group)
    return next((e for e in leaves if isinstance(e, OxyError)), leaves[0] if leaves else group)
