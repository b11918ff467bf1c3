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
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
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


def _cut_line(line: str, unread: int = 0) -> str:
    """`line` as a tool shows it: at most `LINE_CHARS` characters, saying how much more there is
    (`unread`: bytes of it that were never read)."""
    more = max(0, len(line) - LINE_CHARS) + unread
    if not more:
        return line
    return line[:LINE_CHARS] + f" [… {more:,} characters cut]"


MAX_FILE_BYTES = 20_000_000
"""Files larger than this are not read whole (`read` streams its lines; `edit` and `grep` skip them)."""


def _open(workspace: Workspace, target: Path, shown: str) -> int:
    """A descriptor of the regular file `target` (resolved earlier), opened without following a link
    that appeared there since; a `ToolError` when it is missing, a folder, not a regular file, or no
    longer the file that was approved."""
    workspace.recheck(target, shown)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ToolError(f"{shown!r} does not exist; `glob` lists the files there are") from None
    except IsADirectoryError:
        raise ToolError(f"{shown!r} is a folder; `glob` lists what is in it") from None
    except OSError as exc:
        raise ToolError(f"{shown!r} cannot be opened: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a folder; `glob` lists what is in it" if stat.S_ISDIR(mode) else "not a regular file"
        raise ToolError(f"{shown!r} is {what}")
    return fd


def _lines(workspace: Workspace, target: Path, shown: str) -> Iterator[tuple[str, int]]:
    """The file's lines, each with how many of its bytes were left unread: a line is read at most
    `4 * LINE_CHARS` bytes at a time, so a huge one (minified JSON, a log without newlines) is
    skipped to its end, never held whole."""
    with os.fdopen(_open(workspace, target, shown), "rb") as file:
        if b"\x00" in file.read(8192):
            raise ToolError(f"{shown!r} is a binary file; only text files can be read")
        file.seek(0)
        while raw := file.readline(4 * LINE_CHARS):
            unread = 0
            if not raw.endswith(b"\n"):
                while more := file.readline(65536):
                    unread += len(more.rstrip(b"\r\n"))
                    if more.endswith(b"\n"):
                        break
            yield raw.rstrip(b"\r\n").decode("utf-8", errors="replace"), unread


def _text(workspace: Workspace, target: Path, shown: str) -> str:
    """The whole file, which must be UTF-8 text (an edit writes it back: nothing may be lost)."""
    with os.fdopen(_open(workspace, target, shown), "rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ToolError(f"{shown!r} is larger than {MAX_FILE_BYTES:,} bytes; it is not edited whole")
    if b"\x00" in data[:8192]:
        raise ToolError(f"{shown!r} is a binary file; only text files can be edited")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(
            f"{shown!r} is not UTF-8 text; it cannot be edited without changing other bytes"
        ) from None


def read_file(
    workspace: Workspace, target: Path, shown: str, *, offset: int = 1, limit: int | None = None
) -> str:
    """The file's lines from line `offset` (1-based), numbered like `cat -n`, at most `limit` of them."""
    start = max(offset, 1) - 1
    stop = start + (limit or READ_LINES)
    out: list[str] = []
    count = 0
    for count, (line, unread) in enumerate(_lines(workspace, target, shown), 1):
        if start < count <= stop:
            out.append(f"{count:6}\t{_cut_line(line, unread)}")
    if count == 0:
        return f"({shown} is empty)"
    if start >= count:
        raise ToolError(f"{shown!r} has {count} lines; `offset` {offset} is past its end")
    if stop < count:
        out.append(f"[… lines {stop + 1}-{count} not shown; read on with offset={stop + 1}]")
    return "\n".join(out)


def _atomic_write(target: Path, content: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, target)  # replaces a link put there, never writes through it
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_file(workspace: Workspace, target: Path, shown: str, content: str) -> str:
    workspace.recheck(target, shown)
    if target.is_dir():
        raise ToolError(f"{shown!r} is a folder; write to a file inside it")
    existed = target.exists()
    _atomic_write(target, content)
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    return f"{'Overwrote' if existed else 'Created'} {workspace.relative(target)} ({lines} lines)."


def _occurrences(text: str, part: str) -> int:
    """How many times `part` occurs in `text`, overlapping ones too (`abab` twice in `ababab`)."""
    count, at = 0, text.find(part)
    while at >= 0:
        count += 1
        at = text.find(part, at + 1)
    return count


def edit_file(
    workspace: Workspace,
    target: Path,
    shown: str,
    *,
    old_string: str,
    new_string: str,
    replace_all: bool = False,
) -> str:
    """Replace `old_string` by `new_string` exactly; one occurrence unless `replace_all`."""
    if old_string == new_string:
        raise ToolError("old_string and new_string are the same; there is nothing to change")
    if not old_string:
        raise ToolError("old_string is empty; to create a file, use `write`")
    text = _text(workspace, target, shown)
    count = _occurrences(text, old_string)
    if count == 0:
        raise ToolError(
            f"old_string was not found in {shown!r}; `read` the file and copy the text exactly, "
            "with its indentation"
        )
    if count > 1 and not replace_all:
        raise ToolError(
            f"old_string occurs {count} times in {shown!r}; add surrounding lines so it occurs once, "
            "or pass replace_all=true"
        )
    _atomic_write(target, text.replace(old_string, new_string))
    line = text[: text.index(old_string)].count("\n") + 1
    replaced = text.count(old_string)  # what str.replace replaced: overlapping matches once
    where = f"{replaced} places" if replaced > 1 else f"line {line}"
    return f"Edited {workspace.relative(target)} at {where}."


Hidden = Callable[[str], bool]
"""Whether a file (by its path relative to the root) is kept from `glob` and `grep`: what the agent's
rules deny it to `read`."""


def _walk(workspace: Workspace, base: Path, hidden: Hidden) -> Iterator[tuple[str, str]]:
    """Files under `base` as (absolute path, path relative to the root), links not followed, hidden
    and dependency folders skipped, sorted. Plain strings: pathlib costs more than the walk."""
    root = str(workspace.root)
    for folder, dirs, names in os.walk(base, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        inside = os.path.relpath(folder, root)
        prefix = "" if inside == "." else inside.replace(os.sep, "/") + "/"
        for name in sorted(names):
            relative = prefix + name
            if name.startswith(".") or hidden(relative):
                continue
            full = os.path.join(folder, name)
            if os.path.islink(full):
                try:
                    target = workspace.resolve(relative)
                except ToolError:
                    continue  # a link out of the workspace
                if not target.is_file() or hidden(workspace.relative(target)):
                    continue
            yield full, relative


def _glob(pattern: str) -> re.Pattern[str]:
    """A glob a model wrote, as `path_pattern` reads it; refused when it is long or has many `**`
    (each one multiplies the work of matching a path)."""
    if len(pattern) > 500 or pattern.count("**") > 4:
        raise ToolError(f"the glob {pattern[:80]!r} is too complex; use at most four `**` and 500 characters")
    return path_pattern(pattern)


def _under(workspace: Workspace, base: Path) -> str:
    """How paths under `base` start, relative to the root (`""` for the root itself)."""
    relative = workspace.relative(base)
    return "" if relative == "." else relative + "/"


def glob_files(workspace: Workspace, pattern: str, *, path: str = ".", hidden: Hidden) -> str:
    base = workspace.resolve(path)
    if not base.is_dir():
        raise ToolError(f"{path!r} is not a folder")
    matcher = _glob(pattern.strip().removeprefix("/"))
    skip = len(_under(workspace, base))
    found: list[str] = []
    total = 0
    for _, relative in _walk(workspace, base, hidden):
        if matcher.fullmatch(relative[skip:]):
            total += 1
            if len(found) < MAX_FILES:
                found.append(relative)
    if not found:
        return f"No files match {pattern!r} under {path!r}."
    more = f"\n[… {total - MAX_FILES} more; narrow the pattern]" if total > MAX_FILES else ""
    return "\n".join(found) + more


def grep_files(
    workspace: Workspace, pattern: str, *, path: str = ".", glob: str | None = None, hidden: Hidden
) -> str:
    """Lines matching the regular expression `pattern`, as `path:line:text`."""
    base = workspace.resolve(path)
    if base.is_file() and hidden(workspace.relative(base)):
        return f"No lines match {pattern!r}."
    rg = shutil.which("rg")
    if rg is not None:
        return _ripgrep(rg, workspace, pattern, base=base, glob=glob, hidden=hidden)
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    if base.is_file():
        files = [(str(base), workspace.relative(base))]
        skip = len(workspace.relative(base)) - len(base.name)
    else:
        files = list(_walk(workspace, base, hidden))
        skip = len(_under(workspace, base))
    matcher = _glob(glob) if glob else None
    hits: list[str] = []
    total = 0
    for full, relative in files:
        if matcher is not None:
            name = relative[skip:]
            if not (matcher.fullmatch(name) or matcher.fullmatch(name.rsplit("/", 1)[-1])):
                continue
        for number, line in _searchable(Path(full)):
            if regex.search(line):
                total += 1
                if len(hits) < MAX_MATCHES:
                    hits.append(f"{relative}:{number}:{_cut_line(line)}")
    return _grep_answer(hits, total, pattern)


def _searchable(file: Path) -> Iterator[tuple[int, str]]:
    """The numbered lines of a regular text file no larger than `MAX_FILE_BYTES`; nothing otherwise."""
    try:
        info = file.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return
        data = file.read_bytes()
    except OSError:
        return
    if b"\x00" in data[:8192]:
        return
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no other (as `read` counts)
    yield from enumerate((line.rstrip("\r") for line in lines), 1)


def _grep_answer(hits: list[str], total: int, pattern: str) -> str:
    if not hits:
        return f"No lines match {pattern!r}."
    more = (
        f"\n[… {total - len(hits)} more matches; narrow the pattern or the path]" if total > len(hits) else ""
    )
    return "\n".join(hits) + more


def _ripgrep(
    rg: str, workspace: Workspace, pattern: str, *, base: Path, glob: str | None, hidden: Hidden
) -> str:
    command = [rg, "--line-number", "--no-heading", "--color=never", "--max-columns=2000"]
    command += ["--max-columns-preview", "--max-filesize=20M", "--null", "-e", pattern]
    if glob:
        command += ["--glob", glob]
    command += ["--", workspace.relative(base)]
    try:
        done = subprocess.run(command, cwd=workspace.root, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise ToolError("grep took longer than 60 s; narrow the pattern or the path") from None
    if done.returncode == 2:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "rg error"
        raise ToolError(f"grep failed: {last}")
    hits: list[str] = []
    for line in done.stdout.splitlines():
        path, _, rest = line.partition("\0")  # --null: a file name may hold colons
        path = path.removeprefix("./")
        if not hidden(path):
            hits.append(f"{path}:{rest}")
    return _grep_answer(hits[:MAX_MATCHES], len(hits), pattern)
