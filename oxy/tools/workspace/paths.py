"""`Workspace`: the folder workspace tools work in, and the only place they read or write.

A path the model writes is taken relative to the root. It is refused when it is absolute, when `..`
leads out of the root, or when a symbolic link on the way (the file itself, or a folder above it)
points outside: the path is resolved (links followed) before anything is opened, and what it resolves
to must be inside the resolved root. Rules (`read(src/**)`) are matched against that resolved path,
so a link inside the root cannot dodge a `deny` written for its target.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from oxy.errors import ToolError

__all__ = ["Workspace"]


@dataclass(frozen=True)
class Workspace:
    root: Path
    """Resolved (no links), absolute."""

    @classmethod
    def at(cls, root: Path) -> Workspace:
        return cls(root.resolve())

    def resolve(self, path: str) -> Path:
        """The absolute, link-free path `path` names inside the root; a `ToolError` when it leads out."""
        text = path.strip() or "."
        if "\x00" in text:
            raise ToolError(f"{path!r} is not a path")
        given = Path(text).expanduser() if text.startswith("~") else Path(text)
        if given.is_absolute():
            raise ToolError(
                f"{path!r} is an absolute path; paths are relative to the workspace root (e.g. 'src/app.py')"
            )
        resolved = Path(os.path.realpath(self.root / given))
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise ToolError(f"{path!r} is outside the workspace; only files under its root can be used")
        return resolved

    def recheck(self, target: Path, shown: str) -> None:
        """`target` (resolved earlier, before a person approved it) still resolves to itself: no link
        was put on its way since. Called just before a file is opened or written."""
        if Path(os.path.realpath(target)) != target:
            raise ToolError(
                f"{shown!r} changed while the call waited (a link now leads elsewhere); try again"
            )

    def relative(self, path: Path) -> str:
        """`path` (resolved, inside the root) as the model writes it: relative, with `/`."""
        if path == self.root:
            return "."
        return path.relative_to(self.root).as_posix()
