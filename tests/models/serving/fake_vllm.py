"""A stand-in for `vllm serve`, so argument building, parser choice and supervision are tested without a
GPU. It takes vLLM's command line (`serve MODEL --host H --port P [flags...]`), writes it as JSON to
$FAKE_VLLM_ARGV, prints log lines like vLLM's, and after $FAKE_VLLM_DELAY seconds (default 0.5) answers
`/health`, `/v1/models` (MODEL) and `/v1/chat/completions`, which it forwards to $FAKE_VLLM_UPSTREAM (the
test's scripted model server). $FAKE_VLLM_MODE makes it fail as vLLM does:

- `oom`: a CUDA out-of-memory traceback, exit 1;
- `port`: "Address already in use", exit 1;
- `offline`: no cached weights and no network, exit 1;
- `unknown`: the model id does not exist, exit 1;
- `die:SECONDS`: serve, then exit 9 that long after starting (a crash to restart from).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

FAILURES = {
    "oom": [
        "INFO worker.py:123 Loading model weights took 14.25 GB",
        "Traceback (most recent call last):",
        '  File "vllm/worker/worker.py", line 241, in determine_num_available_blocks',
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
        "of 23.65 GiB of which 1.02 GiB is free.",
    ],
    "port": ["INFO api_server.py:1 Starting vLLM API server", "OSError: [Errno 98] Address already in use"],
    "offline": [
        "huggingface_hub.errors.LocalEntryNotFoundError: Cannot find an appropriate cached snapshot folder "
        "for the specified revision on the local disk and outgoing traffic has been disabled."
    ],
    "unknown": [
        "OSError: nobody/no-such-model is not a local folder and is not a valid model identifier listed on "
        "'https://huggingface.co/models'"
    ],
}


def main() -> None:
    argv = sys.argv[1:]
    assert argv[0] == "serve", argv
    model = argv[1]
    host = argv[argv.index("--host") + 1]
    port = int(argv[argv.index("--port") + 1])
    record = os.environ.get("FAKE_VLLM_ARGV")
    if record:
        with open(record, "w") as out:
            json.dump(argv, out)
    mode = os.environ.get("FAKE_VLLM_MODE", "ok")
    print(
        f"INFO 12-02 10:00:00 api_server.py:585 vLLM API server version 0.11.0 (fake) for {model}", flush=True
    )
    time.sleep(float(os.environ.get("FAKE_VLLM_DELAY", "0.5")))
    if mode in FAILURES:
        for line in FAILURES[mode]:
            print(line, flush=True)
        sys.exit(1)
    if mode.startswith("die:"):
        threading.Timer(float(mode.split(":", 1)[1]), os._exit, args=(9,)).start()
    upstream = os.environ.get("FAKE_VLLM_UPSTREAM", "")

    async def health(request: Request) -> Response:
        return Response(status_code=200)

    async def models(request: Request) -> JSONResponse:
        return JSONResponse(
            {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "vllm"}]}
        )

    async def chat(request: Request) -> Response:
        body = await request.body()
        client = httpx.AsyncClient(timeout=60)
        forwarded = client.build_request(
            "POST", f"{upstream}/chat/completions", content=body, headers={"content-type": "application/json"}
        )
        response = await client.send(forwarded, stream=True)

        async def relay():
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            finally:
                await response.aclose()
                await client.aclose()

        media = response.headers.get("content-type", "application/json")
        return StreamingResponse(relay(), status_code=response.status_code, media_type=media)

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )
    print(
        f"INFO 12-02 10:00:01 launcher.py:29 Available routes are: /health, /v1/models on {host}:{port}",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1)


if __name__ == "__main__":
    main()
