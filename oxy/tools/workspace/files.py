"""The file tools of a workspace: `read`, `write`, `edit`, `glob` and `grep`, as coding agents call them.

Every path is confined by `Workspace.resolve`. Writes go to a temporary file beside the target and are
renamed over it, so a file is never left half-written. `glob` and `grep` walk the tree without
following links (a link out of the root is never searched) and skip hidden files and folders; `grep`
uses ripgrep when the `rg` binary is on PATH (its `--no-follow` default keeps the same confinement)
and a pure-Python search otherwise, with Python's regular expressions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from oxy.config.permissions import path_pattern
from oxy.errors import ToolError
from oxy.tools.workspace.paths import Workspace

__all__ = ["edit_file", "glob_files", "grep_files", "read_file", "write_file"]

READ_LINES = 2000
"""Lines `read` returns when no `limit` is given."""
LINE_CHARS = 2000
"""Characters of one line `read` and `grep` show; the rest is cut, marked."""
MAX_FILES = 500
"""Paths `glob` lists at most."""
MAX_MATCHES = 200
"""Matching lines `grep` shows at most."""
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", ".git", ".venv", "venv"})


def _cut_line(line: str) -> str:
    if len(line) <= LINE_CHARS:
        return line
    return line[:LINE_CHARS] + f" [… {len(line) - LINE_CHARS:,} characters cut]"


def _text(path: Path, shown: str) -> str:
    if not path.exists():
        raise ToolError(f"{shown!r} does not exist; `glob` lists the files there are")
    if path.is_dir():
        raise ToolError(f"{shown!r} is a folder; `glob` lists what is in it")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolError(f"{shown!r} is a binary file; only text files can be read")
    return data.decode("utf-8", errors="replace")


def read_file(workspace: Workspace, path: str, *, offset: int = 1, limit: int | None = None) -> str:
    """The file's lines from line `offset` (1-based), numbered like `cat -n`, at most `limit` of them."""
    target = workspace.resolve(path)
    lines = _text(target, path).splitlines()
    if not lines:
        return f"({path} is empty)"
    start = max(offset, 1) - 1
    if start >= len(lines):
        raise ToolError(f"{path!r} has {len(lines)} lines; `offset` {offset} is past its end")
    stop = min(len(lines), start + (limit or READ_LINES))
    shown = [f"{n + 1:6}\t{_cut_line(lines[n])}" for n in range(start, stop)]
    if stop < len(lines):
        shown.append(f"[… lines {stop + 1}-{len(lines)} not shown; read on with offset={stop + 1}]")
    return "\n".join(shown)


def _atomic_write(target: Path, content: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_file(workspace: Workspace, path: str, content: str) -> str:
    target = workspace.resolve(path)
    if target.is_dir():
        raise ToolError(f"{path!r} is a folder; write to a file inside it")
    existed = target.exists()
    _atomic_write(target, content)
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    return f"{'Overwrote' if existed else 'Created'} {workspace.relative(target)} ({lines} lines)."


def edit_file(
    workspace: Workspace, path: str, *, old_string: str, new_string: str, replace_all: bool = False
) -> str:
    """Replace `old_string` by `new_string` exactly; one occurrence unless `replace_all`."""
    target = workspace.resolve(path)
    text = _text(target, path)
    if old_string == new_string:
        raise ToolError("old_string and new_string are the same; there is nothing to change")
    if not old_string:
        raise ToolError("old_string is empty; to create a file, use `write`")
    count = text.count(old_string)
    if count == 0:
        raise ToolError(
            f"old_string was not found in {path!r}; `read` the file and copy the text exactly, "
            "with its indentation"
        )
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_string occurs {count} times in {path!r}; add surrounding lines so it occurs once, "
            "or pass replace_all=true"
        )
    _atomic_write(target, text.replace(old_string, new_string))
    line = text[: text.index(old_string)].count("\n") + 1
    where = f"{count} places" if count > 1 else f"line {line}"
    return f"Edited {workspace.relative(target)} at {where}."


def _walk(workspace: Workspace, base: Path) -> Iterator[Path]:
    """Files under `base`, links not followed, hidden and dependency folders skipped, sorted."""
    for folder, dirs, files in os.walk(base, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                try:
                    workspace.resolve(workspace.relative(path))
                except ToolError:
                    continue  # a link out of the workspace
            yield path


def glob_files(workspace: Workspace, pattern: str, *, path: str = ".") -> str:
    base = workspace.resolve(path)
    if not base.is_dir():
        raise ToolError(f"{path!r} is not a folder")
    matcher = path_pattern(pattern.strip().removeprefix("/"))
    found: list[str] = []
    total = 0
    for file in _walk(workspace, base):
        if matcher.fullmatch(file.relative_to(base).as_posix()):
            total += 1
            if len(found) < MAX_FILES:
                found.append(workspace.relative(file))
    if not found:
        return f"No files match {pattern!r} under {path!r}."
    more = f"\n[… {total - MAX_FILES} more; narrow the pattern]" if total > MAX_FILES else ""
    return "\n".join(found) + more


def grep_files(workspace: Workspace, pattern: str, *, path: str = ".", glob: str | None = None) -> str:
    """Lines matching the regular expression `pattern`, as `path:line:text`."""
    base = workspace.resolve(path)
    rg = shutil.which("rg")
    if rg is not None:
        return _ripgrep(rg, workspace, pattern, base=base, glob=glob)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    files = [base] if base.is_file() else list(_walk(workspace, base))
    matcher = path_pattern(glob) if glob else None
    hits: list[str] = []
    total = 0
    for file in files:
        name = file.relative_to(base).as_posix() if file != base else file.name
        if matcher is not None and not (matcher.fullmatch(name) or matcher.fullmatch(file.name)):
            continue
        try:
            data = file.read_bytes()
        except OSError:
            continue
        if b"\x00" in data[:8192]:
            continue
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if regex.search(line):
                total += 1
                if len(hits) < MAX_MATCHES:
                    hits.append(f"{workspace.relative(file)}:{number}:{_cut_line(line)}")
    return _grep_answer(hits, total, pattern)


def _grep_answer(hits: list[str], total: int, pattern: str) -> str:
    if not hits:
        return f"No lines match {pattern!r}."
    more = (
        f"\n[… {total - len(hits)} more matches; narrow the pattern or the path]" if total > len(hits) else ""
    )
    return "\n".join(hits) + more


def _ripgrep(rg: str, workspace: Workspace, pattern: str, *, base: Path, glob: str | None) -> str:
    command = [rg, "--line-number", "--no-heading", "--color=never", "--max-columns=2000"]
    command += ["--max-columns-preview", "-e", pattern]
    if glob:
        command += ["--glob", glob]
    command += ["--", workspace.relative(base)]
    done = subprocess.run(command, cwd=workspace.root, capture_output=True, text=True, timeout=60)
    if done.returncode == 2:
        raise ToolError(
            f"grep failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'rg error'}"
        )
    lines = done.stdout.splitlines()
    return _grep_answer(lines[:MAX_MATCHES], len(lines), pattern)
