"""`LanguageServer` against the real pyright-langserver on a small package, plus a scripted fake server for
the protocol's corners (the server's own requests, error answers, a crash) and commands that fail."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from oxy.tools.workspace.lsp import LanguageServer, Location, LspError, Symbol

pytestmark = pytest.mark.anyio

PYRIGHT = shutil.which("pyright-langserver", path=str(Path(sys.executable).parent)) or shutil.which(
    "pyright-langserver"
)
needs_pyright = pytest.mark.skipif(
    PYRIGHT is None, reason="pyright-langserver is not installed (pip install pyright)"
)

SHAPES = '''\
"""Shapes."""

import math


class Circle:
    """A circle."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        """The area inside the circle."""
        return math.pi * self.radius**2
'''
USE = """\
from pkg.shapes import Circle

small = Circle(1.0).area()
big = Circle(10.0).area()
"""
# Four astral characters (two UTF-16 code units each) before the positions asked about and answered.
UNICODE = """\
from pkg.shapes import Circle

label = "😀😀😀😀"; shape = Circle(2.0)
total = shape.radius
"""
MOVING = """\
class Mover:
    pass


mover = Mover()
"""

FAKE_SERVER = r"""
import json, sys

def read():
    length = None
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            sys.exit(0)
        if not line.strip():
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return json.loads(sys.stdin.buffer.read(length))

def write(message):
    body = json.dumps(message).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()

answers = {}
while True:
    message = read()
    method = message.get("method")
    if method is None:
        answers[message["id"]] = message.get("result", message.get("error"))
    elif method == "initialize":
        items = [{"section": "python"}, {"section": "python.analysis"}]
        write({"jsonrpc": "2.0", "id": "config", "method": "workspace/configuration", "params": {"items": items}})
        write({"jsonrpc": "2.0", "id": "odd", "method": "oxy/unknown", "params": {}})
        write({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 3, "message": "hello"}})
        write({"jsonrpc": "2.0", "id": message["id"], "result": {"capabilities": {}}})
    elif method == "textDocument/definition":
        sys.stderr.write("fake server: crashed on purpose\n")
        sys.exit(5)
    elif method == "shutdown":
        write({"jsonrpc": "2.0", "id": message["id"], "result": None})
    elif method == "exit":
        open("exit-received", "w").close()  # in its working folder, the root
        sys.exit(0)
    elif "id" in message:
        while len(answers) < 2:
            reply = read()
            answers[reply["id"]] = reply.get("result", reply.get("error"))
        said = json.dumps(answers, sort_keys=True)
        write({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32603, "message": f"the client\nsaid {said}"}})
"""


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lsp-workspace")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "shapes.py").write_text(SHAPES)
    (root / "pkg" / "use.py").write_text(USE)
    (root / "pkg" / "unicode.py").write_text(UNICODE, encoding="utf-8")
    return root


def start(root: Path) -> LanguageServer:
    assert PYRIGHT is not None
    return LanguageServer([PYRIGHT, "--stdio"], root=root, language_id="python")


@pytest.fixture(scope="module")
async def server(workspace: Path, anyio_backend: str) -> AsyncIterator[LanguageServer]:
    """One pyright for the module's questions (it takes about a second to start)."""
    async with start(workspace) as server:
        yield server


def at(path: Path, line: int, needle: str) -> tuple[Path, int, int]:
    """`path`, `line` and the 1-based character column where `needle` starts on that line."""
    text = path.read_text(encoding="utf-8").splitlines()[line - 1]
    return path, line, text.index(needle) + 1


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@needs_pyright
async def test_references_list_every_use(server: LanguageServer, workspace: Path) -> None:
    # First in the module, so the first question to its server: asked before pyright has listed the
    # workspace's files, it would find the definition alone (use.py is neither open nor imported).
    found = await server.references(*at(workspace / "pkg" / "shapes.py", 12, "area"))
    assert [(where.path, where.line) for where in found] == [
        ("pkg/shapes.py", 12),
        ("pkg/use.py", 3),
        ("pkg/use.py", 4),
    ]
    assert found[1] == Location(path="pkg/use.py", line=3, column=21, text="small = Circle(1.0).area()")


@needs_pyright
async def test_definition_of_a_use_is_the_class_line(server: LanguageServer, workspace: Path) -> None:
    found = await server.definition(*at(workspace / "pkg" / "use.py", 3, "Circle"))
    assert found == [Location(path="pkg/shapes.py", line=6, column=7, text="class Circle:")]


@needs_pyright
async def test_hover_has_the_signature_and_docstring(server: LanguageServer, workspace: Path) -> None:
    text = await server.hover(*at(workspace / "pkg" / "use.py", 4, "area"))
    assert "def area() -> float" in text
    assert "The area inside the circle." in text
    assert "```" not in text
    assert await server.hover(workspace / "pkg" / "use.py", 2, 1) == ""


@needs_pyright
async def test_columns_count_characters_not_utf16_units(server: LanguageServer, workspace: Path) -> None:
    unicode = workspace / "pkg" / "unicode.py"
    # Asked on a line with astral characters before the position...
    found = await server.definition(*at(unicode, 3, "Circle"))
    assert [(where.path, where.line, where.column) for where in found] == [("pkg/shapes.py", 6, 7)]
    # ... and answered on one.
    found = await server.definition(*at(unicode, 4, "shape"))
    assert found == [
        Location(path="pkg/unicode.py", line=3, column=17, text='label = "😀😀😀😀"; shape = Circle(2.0)')
    ]
    assert at(unicode, 3, "shape")[2] == 17  # LSP's character there is 20: four more UTF-16 units


@needs_pyright
async def test_an_edited_file_is_sent_again(server: LanguageServer, workspace: Path) -> None:
    moving = workspace / "pkg" / "moving.py"
    moving.write_text(MOVING)
    found = await server.definition(*at(moving, 5, "Mover"))
    assert found == [Location(path="pkg/moving.py", line=1, column=7, text="class Mover:")]

    moving.write_text("# Two lines\n# more.\n" + MOVING)
    found = await server.definition(*at(moving, 7, "Mover"))
    assert found == [Location(path="pkg/moving.py", line=3, column=7, text="class Mover:")]


@needs_pyright
async def test_symbols_on_a_fresh_server_and_the_process_goes_with_it(workspace: Path) -> None:
    """The first `workspace/symbol` comes right after start, when pyright would still answer `[]`."""
    server = start(workspace)
    assert server.pid is None
    async with server:
        pid = server.pid
        assert pid is not None and is_running(pid)
        symbols = await server.workspace_symbols("Circle")
        assert (
            Symbol(
                name="Circle",
                kind="class",
                location=Location(path="pkg/shapes.py", line=6, column=7, text="class Circle:"),
            )
            in symbols
        )
        methods = await server.workspace_symbols("area")
        assert [(symbol.name, symbol.kind, symbol.container) for symbol in methods] == [
            ("area", "method", "Circle")
        ]
    assert server.pid == pid
    assert not is_running(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing of its process group is left either (pyright's node under the launcher)
    with pytest.raises(LspError, match="was closed"):
        await server.hover(workspace / "pkg" / "use.py", 1, 1)


async def test_a_missing_command_says_what_to_install(tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "pyright-langserver"
    server = LanguageServer([str(missing), "--stdio"], root=tmp_path, language_id="python")
    with pytest.raises(LspError) as caught:
        async with server:
            pass
    assert str(caught.value) == (
        f"Cannot start the language server `{missing} --stdio` (No such file or directory); "
        "install pyright (`pip install pyright`) or set the command that starts it."
    )
    assert server.pid is None


async def test_a_server_that_exits_at_once_is_reported(tmp_path: Path) -> None:
    """With its last line on stderr; `env` is added to the inherited environment."""
    script = (
        "import os, sys; sys.stderr.write('starting\\n' + os.environ['OXY_LSP_SAYS'] + '\\n'); sys.exit(3)"
    )
    server = LanguageServer(
        [sys.executable, "-c", script],
        root=tmp_path,
        language_id="python",
        env={"OXY_LSP_SAYS": "no workspace here"},
    )
    with pytest.raises(LspError, match=r"exited with code 3 \(no workspace here\); check") as caught:
        async with server:
            pass
    assert "\n" not in str(caught.value)


async def test_the_root_must_be_a_folder(tmp_path: Path) -> None:
    server = LanguageServer([sys.executable], root=tmp_path / "nowhere", language_id="python")
    with pytest.raises(LspError, match="is not a folder"):
        async with server:
            pass


async def test_a_silent_server_times_out_and_is_killed(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    server = LanguageServer(command, root=tmp_path, language_id="python", timeout=0.5)
    with anyio.fail_after(10):
        with pytest.raises(LspError, match=r"did not answer initialize within 0\.5 s\.$"):
            async with server:
                pass
    assert server.pid is not None
    assert not is_running(server.pid)


async def test_the_protocol_corners_with_a_fake_server(tmp_path: Path) -> None:
    (tmp_path / "fake_server.py").write_text(FAKE_SERVER)
    (tmp_path / "a.py").write_text("x = 1\n")
    command = [sys.executable, str(tmp_path / "fake_server.py")]
    async with LanguageServer(command, root=tmp_path, language_id="python", timeout=10) as server:
        # The server's own requests were answered: configuration with a null per item, the unknown
        # method with "method not found"; its error answer comes back as one line.
        with pytest.raises(LspError) as caught:
            await server.hover(tmp_path / "a.py", 1, 1)
        message = str(caught.value)
        assert message.startswith(
            "The language server answered textDocument/hover with an error: the client said {"
        )
        assert '"config": [null, null]' in message
        assert '"code": -32601' in message
        # A crash fails the request in flight, and every later one, saying so.
        with pytest.raises(LspError, match=r"exited with code 5 \(fake server: crashed on purpose\)"):
            await server.definition(tmp_path / "a.py", 1, 1)
        with pytest.raises(LspError, match="exited with code 5"):
            await server.references(tmp_path / "a.py", 1, 1)
    assert server.pid is not None and not is_running(server.pid)


async def test_the_body_s_error_and_cancellation_pass_through(tmp_path: Path) -> None:
    (tmp_path / "fake_server.py").write_text(FAKE_SERVER)
    command = [sys.executable, str(tmp_path / "fake_server.py")]

    server = LanguageServer(command, root=tmp_path, language_id="python")
    with pytest.raises(KeyError):  # as itself, not in an exception group
        async with server:
            raise KeyError("the caller's own")
    assert server.pid is not None and not is_running(server.pid)
    (tmp_path / "exit-received").unlink()

    server = LanguageServer(command, root=tmp_path, language_id="python")
    with anyio.CancelScope() as scope:
        async with server:
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert server.pid is not None and not is_running(server.pid)
    assert (tmp_path / "exit-received").exists()  # closed politely, though cancelled: its reader lived on
