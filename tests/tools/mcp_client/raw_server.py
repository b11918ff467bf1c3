"""An MCP server written as raw JSON-RPC lines, to send what the SDK's servers never would:

- `mismatch`: declares an output schema, then returns structured content that breaks it;
- `malformed`: returns a result whose `content` is not a list.

    python tests/tools/mcp_client/raw_server.py   # stdio
"""

from __future__ import annotations

import json
import sys
from typing import Any

TOOLS = [
    {
        "name": "mismatch",
        "inputSchema": {"type": "object"},
        "outputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
    },
    {"name": "malformed", "inputSchema": {"type": "object"}},
]


def reply(request_id: Any, result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}) + "\n")
    sys.stdout.flush()


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification
        method, request_id = message["method"], message["id"]
        if method == "initialize":
            version = message["params"]["protocolVersion"]
            info = {"name": "raw", "version": "1"}
            reply(request_id, {"protocolVersion": version, "capabilities": {"tools": {}}, "serverInfo": info})
        elif method == "tools/list":
            reply(request_id, {"tools": TOOLS})
        elif method == "tools/call" and message["params"]["name"] == "mismatch":
            reply(
                request_id, {"content": [{"type": "text", "text": "{}"}], "structuredContent": {"n": "many"}}
            )
        elif method == "tools/call":
            reply(request_id, {"content": "not a list"})
        else:
            reply(request_id, {})


if __name__ == "__main__":
    main()
