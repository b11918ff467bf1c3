"""A child process on a pseudo-terminal, for commands a person types into (`oxy chat`)."""

from __future__ import annotations

import codecs
import os
import pty
import select
import subprocess
import time
from pathlib import Path


class Terminal:
    """A child process on a pseudo-terminal: type lines, read what it shows."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "dumb", "COLUMNS": "120", "NO_COLOR": "1"}
        self.process = subprocess.Popen(
            args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.seen = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # `›` may come split
        self.at = 0
        """Where the next `expect` starts looking: what was matched is used up."""

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Wait for `text` after the last match; what showed from there up to it."""
        deadline = time.monotonic() + timeout
        while text not in self.seen[self.at :]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} did not show; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += self._decoder.decode(os.read(self.master, 4096))
                except OSError:  # the child closed the terminal
                    break
        found = self.seen.find(text, self.at)
        assert found >= 0, self.seen
        shown, self.at = self.seen[self.at : found + len(text)], found + len(text)
        return shown

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self, timeout: float = 30.0) -> int:
        """The child's exit code; a child still running after `timeout` is killed (code -9)."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        os.close(self.master)
        return code
