"""Run a model server so that it dies with oxy: `python -m oxy.models.serving._exec PROGRAM ARGS...`.

On Linux it asks the kernel to send the server SIGTERM when its parent (the oxy process) dies, however
oxy dies (SIGKILL, OOM, a crash), then replaces itself with the server (`exec`: same process, same
process group). A program that does not exist is reported in one line the supervisor recognises.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main() -> None:
    argv = sys.argv[1:]
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the parent died before the request took effect
            sys.exit(1)
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        print(f"oxy: {argv[0]!r} was not found", file=sys.stderr, flush=True)
        sys.exit(127)
    except PermissionError:
        print(f"oxy: {argv[0]!r} is not executable", file=sys.stderr, flush=True)
        sys.exit(126)


if __name__ == "__main__":
    main()
