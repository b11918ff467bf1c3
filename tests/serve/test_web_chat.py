"""The chat page (`oxy/serve/static/`) in headless Chromium, driven by Selenium through Debian's
chromium-driver: the real `oxy serve` app (uvicorn on 127.0.0.1) over the quickstart project, its
`vllm` model the scripted OpenAI-compatible server. `scripts/ci/chromium.sh` installs the browser;
without it these tests skip, saying so. Screenshots land in the test's `tmp_path`.

`test_page_renders_every_event_kind` serves the same page from a small stand-in that replays canned
events (charts, a long truncated table, markup in model text, an error), which a
scripted agent can't all produce; the `input_app` stand-in pauses its run to ask the person.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from oxy.events.types import (
    ChartEvent,
    ErrorEvent,
    Event,
    InputAnswered,
    InputRequested,
    RunFinished,
    RunStarted,
    SqlEvent,
    StepFinished,
    StepStarted,
    TableEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
    event_to_json,
)
from oxy.models import UserMessage
from oxy.serve import ServeSettings, create_app
from oxy.storage import LOCAL_TENANT, KeyStore
from oxy.testing import Reply, ScriptedModelServer, tool_call

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
STATIC = Path(__file__).resolve().parents[2] / "oxy" / "serve" / "static"
QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver: run `bash scripts/ci/chromium.sh`",
)

webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT_S = 15.0


# --------------------------------------------------------------------------------------- browser


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    # Selenium Manager must not go looking for drivers online: both paths are given.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(
        executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log")
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def by_testid(testid: str) -> tuple[str, str]:
    return (By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def wait_for(
    driver: WebDriver, condition: Callable[[WebDriver], Any], what: str, timeout: float = WAIT_S
) -> Any:
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        logs = "\n".join(str(entry) for entry in driver.get_log("browser"))
        raise AssertionError(f"timed out waiting for {what}; browser console:\n{logs}") from None


def visible(driver: WebDriver, testid: str) -> WebElement:
    return wait_for(
        driver,
        lambda d: next((e for e in d.find_elements(*by_testid(testid)) if e.is_displayed()), None),
        f"[data-testid={testid}] to show",
    )


def open_page(driver: WebDriver, url: str) -> None:
    driver.get(url)
    wait_for(
        driver, lambda d: d.find_element(*by_testid("app")).get_attribute("data-ready") == "true", "the page"
    )


def ask(driver: WebDriver, question: str) -> None:
    box = driver.find_element(*by_testid("prompt-input"))
    box.send_keys(question)
    driver.find_element(*by_testid("send-button")).click()


def last_turn(driver: WebDriver) -> WebElement:
    return driver.find_elements(*by_testid("message-assistant"))[-1]


def wait_finished(driver: WebDriver, turns: int) -> WebElement:
    """The run-status line of the `turns`-th answer, once its run has finished."""

    def status(d: WebDriver) -> WebElement | None:
        answers = d.find_elements(*by_testid("message-assistant"))
        if len(answers) < turns or answers[turns - 1].get_attribute("aria-busy") != "false":
            return None
        found = answers[turns - 1].find_elements(*by_testid("run-status"))
        return found[0] if found else None

    return wait_for(driver, status, f"answer {turns} to finish")


def table_of(element: WebElement) -> list[list[str]]:
    rows = element.find_elements(By.CSS_SELECTOR, "tr")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")] for row in rows]


def no_console_errors(driver: WebDriver, *, allow: str = "^$") -> None:
    """No script errors or failed requests, but those whose message matches `allow`."""
    errors = [
        e for e in driver.get_log("browser") if e["level"] == "SEVERE" and not re.search(allow, e["message"])
    ]
    assert errors == []


# ---------------------------------------------------------------------------------------- servers


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT_S)
        sock.close()


# ------------------------------------------------------------------------------ the real server


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


def quickstart(tmp_path: Path, model: ScriptedModelServer) -> Path:
    """A copy of the quickstart project whose agent uses the scripted `vllm` model."""
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    config = root / "config.yml"
    config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", model.base_url))
    agent = root / "agents" / "analyst.agent.yml"
    agent.write_text(agent.read_text().replace("model: smollm2", "model: vllm"))
    return root


@pytest.fixture
def served(tmp_path: Path, model: ScriptedModelServer) -> Iterator[str]:
    """`oxy serve` over `quickstart`, in local mode (no API keys)."""
    with uvicorn_server(create_app(ServeSettings(project=quickstart(tmp_path, model)))) as url:
        yield url


TOP_SQL = (
    "select p.name, sum(o.quantity) as units from orders o join products p using (product_id)\n"
    "group by p.name order by units desc limit 3"
)
ANSWER = "Espresso beans sell best: 176 units, then oat milk with 135."


def record_answer_text(driver: WebDriver) -> None:
    """Keep every value the last answer's text takes, to see it arrive in pieces."""
    driver.execute_script(
        """
        window.seenText = [];
        new MutationObserver(() => {
          const texts = document.querySelectorAll('[data-testid=message-assistant]:last-of-type [data-testid=answer-text]');
          const text = [...texts].map((t) => t.textContent).join('|');
          if (text && text !== window.seenText.at(-1)) window.seenText.push(text);
        }).observe(document.querySelector('[data-testid=messages]'), {subtree: true, childList: true, characterData: true});
        """
    )


def test_chat_streams_a_tool_call_table_and_answer_then_continues_and_reloads_the_thread(
    browser: WebDriver, served: str, model: ScriptedModelServer, tmp_path: Path
) -> None:
    model.set_script(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": TOP_SQL}, id="c1")]),
            Reply(text=ANSWER, chunk_delay=0.03),
            Reply(text="Filter papers sell least."),
        ]
    )
    open_page(browser, served + "/")
    agents = browser.find_element(*by_testid("agent-select"))
    assert [o.text for o in agents.find_elements(By.TAG_NAME, "option")] == ["analyst"]
    assert browser.find_element(*by_testid("agent-description")).text == (
        "Answers questions about the coffee shop's products and orders with SQL."
    )
    assert browser.find_element(*by_testid("thread-list-empty")).is_displayed()

    record_answer_text(browser)
    ask(browser, "What sells best?")
    visible(browser, "stop-button")
    status = wait_finished(browser, 1)
    assert status.get_attribute("data-status") == "ok"
    assert re.fullmatch(r"✓ \d+\.\d\d s · 2 model calls · \d+ → \d+ tokens · 1 tool call", status.text)

    # The answer arrived token by token: growing prefixes of the final text.
    seen: list[str] = browser.execute_script("return window.seenText")
    assert seen[-1] == ANSWER and len(seen) > 3
    assert all(ANSWER.startswith(text) for text in seen)

    turn = last_turn(browser)
    card = turn.find_element(*by_testid("tool-call"))
    assert card.find_element(*by_testid("tool-call-name")).text == "execute_sql"
    # The SQL sent is the SQL run: one block, labelled with the database it ran on.
    assert card.find_element(*by_testid("tool-call-sql")).text == TOP_SQL
    assert [e.text for e in card.find_elements(*by_testid("sql"))] == ["SQL · shop (duckdb)\n" + TOP_SQL]
    table = card.find_element(*by_testid("table"))
    assert table_of(table) == [
        ["name", "units"],
        ["Espresso beans", "176"],
        ["Oat milk", "135"],
        ["Cold brew concentrate", "88"],
    ]
    assert table.find_element(*by_testid("table-count")).text == "3 rows · shop"
    assert card.find_element(*by_testid("tool-result")).get_attribute("open") is None
    assert browser.find_element(*by_testid("send-button")).is_displayed()
    assert not browser.find_element(*by_testid("stop-button")).is_displayed()
    browser.save_screenshot(str(tmp_path / "answer.png"))

    # The new thread shows in the sidebar; the next question continues it, with its history.
    item = visible(browser, "thread-item")
    assert item.find_element(*by_testid("thread-title")).text == "What sells best?"
    assert item.get_attribute("aria-current") == "true"
    thread_id = item.get_attribute("data-thread-id")
    assert browser.current_url == f"{served}/#thread={thread_id}"
    ask(browser, "And the least?")
    wait_finished(browser, 2)
    assert last_turn(browser).find_element(*by_testid("answer-text")).text == "Filter papers sell least."
    assert len(browser.find_elements(*by_testid("thread-item"))) == 1
    history = [m.content for m in model.requests[-1].messages if isinstance(m, UserMessage)]
    assert history == ["What sells best?", "And the least?"]

    # A fresh page lists the thread; opening it draws both turns again from their runs' events.
    open_page(browser, served + "/")
    assert browser.find_elements(*by_testid("message-user")) == []
    browser.find_element(By.CSS_SELECTOR, f'[data-thread-id="{thread_id}"]').click()
    wait_for(browser, lambda d: len(d.find_elements(*by_testid("run-status"))) == 2, "the thread's turns")
    assert [e.text for e in browser.find_elements(*by_testid("message-user"))] == [
        "What sells best?",
        "And the least?",
    ]
    answers = browser.find_elements(*by_testid("message-assistant"))
    assert [a.find_elements(*by_testid("answer-text"))[-1].text for a in answers] == [
        ANSWER,
        "Filter papers sell least.",
    ]
    assert table_of(answers[0].find_element(*by_testid("table")))[1] == ["Espresso beans", "176"]
    browser.save_screenshot(str(tmp_path / "thread-reloaded.png"))
    no_console_errors(browser)


def test_stop_cancels_the_run(browser: WebDriver, served: str, model: ScriptedModelServer) -> None:
    model.set_script([Reply(text="Too late.", delay=30)])
    open_page(browser, served + "/")
    ask(browser, "Take your time")
    visible(browser, "stop-button").click()
    status = wait_finished(browser, 1)
    assert status.get_attribute("data-status") == "cancelled"
    assert status.text == "■ stopped"
    assert visible(browser, "send-button").is_enabled()
    no_console_errors(browser)


def test_the_page_asks_for_an_api_key_and_keeps_it(
    browser: WebDriver, tmp_path: Path, model: ScriptedModelServer
) -> None:
    root = quickstart(tmp_path, model)
    with KeyStore.open(project_root=root) as keys:
        _, token = keys.create(tenant=LOCAL_TENANT, name="browser test")
    model.set_script([Reply(text="Hello.")])
    with uvicorn_server(create_app(ServeSettings(project=root))) as url:
        browser.get(url + "/")
        # The API answers 401 to the agent list: the page asks for a key, and again for a bad one.
        assert "needs an API key" in visible(browser, "key-dialog").text
        browser.find_element(*by_testid("key-input")).send_keys("oxy_not-a-key")
        browser.find_element(*by_testid("key-save")).click()
        wait_for(
            browser, lambda d: "refused" in d.find_element(*by_testid("key-reason")).text, "a second ask"
        )
        browser.find_element(*by_testid("key-input")).send_keys(token)
        browser.find_element(*by_testid("key-save")).click()
        wait_for(
            browser,
            lambda d: d.find_element(*by_testid("app")).get_attribute("data-ready") == "true",
            "ready",
        )
        assert browser.execute_script("return localStorage.getItem('oxy.apiKey')") == token

        # Every request carries it, the streamed run included; a reload asks no more.
        ask(browser, "Hi")
        assert wait_finished(browser, 1).get_attribute("data-status") == "ok"
        open_page(browser, url + "/")
        assert not browser.find_element(*by_testid("key-dialog")).is_displayed()
        assert len(browser.find_elements(*by_testid("thread-item"))) == 1
        no_console_errors(browser, allow="status of 401")


# ------------------------------------------------------------------------------------- stand-in


def canned_run(run_id: str, prompt: str) -> list[Event]:
    """Every kind of event the page draws, as the engine would send them."""
    agent = ("analyst",)
    tool = ("analyst", "execute_sql")
    rows = tuple((f"product {i:02d}", i * 3, None if i == 7 else round(i * 1.5, 2)) for i in range(60))
    sales = [{"product": p, "revenue": r} for p, r in (("Latte", 420), ("Espresso", 310), ("Mocha", 150))]
    daily = [
        {"day": f"2024-03-0{d}", "cups": c, "size": s}
        for d, c, s in ((1, 10, "S"), (2, 14, "S"), (3, 9, "S"), (1, 6, "L"), (2, 8, "L"), (3, 12, "L"))
    ]
    return [
        RunStarted(run_id=run_id, target="agents/analyst.agent.yml", input=prompt),
        StepStarted(source=agent, name="analyst", step_type="agent"),
        TextDelta(source=agent, text="Checking <b>the</b> "),
        TextDelta(source=agent, text="data & <script>alert(1)</script>"),
        UsageEvent(source=agent, model="scripted", input_tokens=120, output_tokens=9),
        ToolCallEvent(
            source=agent,
            call_id="c1",
            name="execute_sql",
            arguments=json.dumps({"sql": "select * from sales"}),
        ),
        SqlEvent(source=tool, sql="select * from sales -- all of it", database="shop", dialect="duckdb"),
        TableEvent(
            source=tool, columns=("product", "n", "share"), rows=rows, truncated=True, database="shop"
        ),
        ToolResultEvent(
            source=agent, call_id="c1", name="execute_sql", content="| product | n |\n| --- | --- |"
        ),
        ChartEvent(
            source=agent,
            title="Revenue by product",
            spec={
                "data": {"values": sales},
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "x": {"field": "product", "type": "nominal"},
                    "y": {"field": "revenue", "type": "quantitative"},
                },
            },
        ),
        ChartEvent(
            source=agent,
            spec={
                "title": "Cups a day",
                "data": {"values": daily},
                "mark": "line",
                "encoding": {
                    "x": {"field": "day", "type": "temporal"},
                    "y": {"field": "cups", "type": "quantitative"},
                    "color": {"field": "size", "type": "nominal"},
                },
            },
        ),
        ChartEvent(
            source=agent,
            title="A heatmap",
            spec={"data": {"values": sales}, "mark": "rect", "encoding": {"x": {"field": "product"}}},
        ),
        ErrorEvent(source=tool, error_type="ToolError", message="a <tool> failed (on purpose)"),
        TextDelta(source=agent, text="Latte sells best."),
        UsageEvent(source=agent, model="scripted", input_tokens=300, output_tokens=4),
        StepFinished(source=agent, name="analyst", status="ok", output="Latte sells best."),
        RunFinished(run_id=run_id, status="ok", output="Latte sells best.", duration_s=0.42),
    ]


def stand_in_app() -> Any:
    """The HTTP contract of `oxy serve` (agents, runs, threads), answering every run with `canned_run`."""
    app = FastAPI()
    threads: dict[str, dict[str, Any]] = {}
    runs: dict[str, list[Event]] = {}

    @app.get("/api/agents")
    async def agents() -> list[dict[str, str]]:
        return [
            {
                "name": "analyst",
                "path": "agents/analyst.agent.yml",
                "description": "Canned.",
                "type": "default",
            }
        ]

    @app.post("/api/agents/{name}/runs")
    async def run(name: str, request: Request) -> StreamingResponse:
        body = await request.json()
        thread_id = body.get("thread_id") or f"t{len(threads) + 1}"
        run_id = f"r{len(runs) + 1}"
        events = runs[run_id] = canned_run(run_id, body["prompt"])
        now = "2024-03-01T12:00:00Z"
        thread = threads.setdefault(
            thread_id,
            {
                "thread_id": thread_id,
                "agent": name,
                "title": body["prompt"],
                "created_at": now,
                "updated_at": now,
            },
        )
        thread.setdefault("messages", []).extend(
            [
                {"role": "user", "content": body["prompt"]},
                {"role": "assistant", "content": "Latte sells best."},
            ]
        )

        async def stream() -> AsyncIterator[bytes]:
            for i, event in enumerate(events, 1):
                yield f"event: {event.kind}\nid: {i}\ndata: {event_to_json(event)}\n\n".encode()

        headers = {"X-Oxy-Run-Id": run_id, "X-Oxy-Thread-Id": thread_id}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @app.get("/api/threads")
    async def thread_list() -> list[dict[str, Any]]:
        return [{k: v for k, v in t.items() if k != "messages"} for t in threads.values()]

    @app.get("/api/threads/{thread_id}")
    async def thread(thread_id: str) -> dict[str, Any]:
        return threads[thread_id]

    app.mount("/", StaticFiles(directory=STATIC, html=True))
    return app


def test_page_renders_every_event_kind(browser: WebDriver, tmp_path: Path) -> None:
    with uvicorn_server(stand_in_app()) as url:
        open_page(browser, url + "/")

        ask(browser, "Which product <i>sells</i> best?")
        status = wait_finished(browser, 1)
        assert status.text == "✓ 0.42 s · 2 model calls · 420 → 13 tokens · 1 tool call"
        turn = last_turn(browser)

        # Model text is text: the markup in it shows as written and adds no elements.
        texts = [e.text for e in turn.find_elements(*by_testid("answer-text"))]
        assert texts == ["Checking <b>the</b> data & <script>alert(1)</script>", "Latte sells best."]
        assert turn.find_elements(By.CSS_SELECTOR, "b, script, i") == []
        assert browser.find_element(*by_testid("message-user")).text == "Which product <i>sells</i> best?"

        # The table sits in its tool call's card: 50 rows, then the rest on demand.
        card = turn.find_element(*by_testid("tool-call"))
        assert card.find_element(*by_testid("tool-call-name")).text == "execute_sql"
        assert card.find_element(*by_testid("sql")).text.endswith("select * from sales -- all of it")
        table = card.find_element(*by_testid("table"))
        assert len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) == 50
        more = table.find_element(*by_testid("table-more"))
        assert more.text == "10 more rows"
        assert table.find_element(*by_testid("table-truncated")).is_displayed()
        more.click()
        rows = table_of(table)
        assert (
            len(rows) == 61
            and rows[0] == ["product", "n", "share"]
            and rows[8] == ["product 07", "21", "NULL"]
        )

        charts = turn.find_elements(*by_testid("chart"))
        assert [c.get_attribute("data-mark") for c in charts] == ["bar", "line", "unsupported"]
        assert len(charts[0].find_elements(By.CSS_SELECTOR, "rect[data-testid=chart-mark]")) == 3
        assert len(charts[1].find_elements(By.CSS_SELECTOR, "path[data-testid=chart-mark]")) == 2
        assert charts[1].find_element(*by_testid("chart-legend")).text.split() == ["L", "S"]
        assert charts[2].find_element(*by_testid("chart-spec")).get_attribute("open") == "true"
        assert turn.find_element(*by_testid("error")).text == "ToolError: a <tool> failed (on purpose)"

        browser.save_screenshot(str(tmp_path / "every-event-kind.png"))
        no_console_errors(browser)


# ------------------------------------------------------------------------------ asking the person


def sse(event: Event) -> bytes:
    return f"event: {event.kind}\ndata: {event_to_json(event)}\n\n".encode()


def input_app(answers: list[dict[str, Any]], follows: list[str]) -> Any:
    """A stand-in whose run pauses to ask the person: "Run the tests" for an approval, then a
    question; "Restart" for an approval whose stream then drops (the server restarting), answered
    by resuming the run as `r2`. Every answer posted lands in `answers`, every followed stream in
    `follows`."""
    app = FastAPI()
    agent = ("coder",)
    waiting: dict[str, anyio.Event] = {}

    @app.get("/api/agents")
    async def agents() -> list[dict[str, str]]:
        return [
            {"name": "coder", "path": "agents/coder.agent.yml", "description": "Asks.", "type": "default"}
        ]

    @app.get("/api/threads")
    async def thread_list() -> list[dict[str, Any]]:
        return []

    async def pause(request: InputRequested) -> AsyncIterator[bytes]:
        waiting[request.request_id] = anyio.Event()
        yield sse(request)
        await waiting[request.request_id].wait()
        answer = answers[-1]
        yield sse(
            InputAnswered(
                source=agent,
                request_id=request.request_id,
                approved=answer.get("approve", True),
                always=answer.get("always", False),
                text=answer.get("answer"),
            )
        )

    @app.post("/api/agents/{name}/runs")
    async def run(name: str, request: Request) -> StreamingResponse:
        prompt = (await request.json())["prompt"]

        async def tests() -> AsyncIterator[bytes]:
            yield sse(RunStarted(run_id="r1", target="agents/coder.agent.yml", input=prompt))
            command = json.dumps({"command": "pytest -q"})
            yield sse(ToolCallEvent(source=agent, call_id="c1", name="bash", arguments=command))
            approval = InputRequested(
                source=agent,
                request_id="p1",
                input_kind="permission",
                tool="bash",
                what="run `pytest -q` <b>now</b>",
                why="rule ask: bash(*)",
                rule="bash(*)",
                call_id="c1",
                timeout_s=600,
            )
            async for message in pause(approval):
                yield message
            yield sse(ToolResultEvent(source=agent, call_id="c1", name="bash", content="3 passed"))
            question = InputRequested(
                source=agent,
                request_id="q1",
                input_kind="question",
                tool="ask_user",
                what="Which <i>database</i>?",
                options=("prod", "dev"),
            )
            async for message in pause(question):
                yield message
            yield sse(TextDelta(source=agent, text="Done on staging."))
            yield sse(RunFinished(run_id="r1", status="ok", output="Done on staging.", duration_s=0.5))

        async def restart() -> AsyncIterator[bytes]:
            yield sse(RunStarted(run_id="r1", target="agents/coder.agent.yml", input=prompt))
            yield sse(
                InputRequested(
                    source=agent,
                    request_id="p9",
                    input_kind="permission",
                    tool="write_file",
                    what="write `notes.md`",
                    why="no permission rule matches it",
                )
            )

        stream = restart() if prompt == "Restart" else tests()
        headers = {"X-Oxy-Run-Id": "r1", "X-Oxy-Thread-Id": "t1"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @app.post("/api/runs/{run_id}/input")
    async def answer(run_id: str, request: Request) -> Any:
        body = await request.json()
        answers.append({"run_id": run_id, **body})
        if body["request_id"] == "p9":
            return {"run_id": "r2", "resumed": True}
        event = waiting.get(body["request_id"])
        if event is None or event.is_set():
            message = f"Request {body['request_id']!r} is answered already."
            return JSONResponse({"error": {"type": "conflict", "message": message}}, status_code=409)
        event.set()
        return {"run_id": run_id, "resumed": False}

    @app.get("/api/runs/{run_id}/events")
    async def events(run_id: str, request: Request) -> StreamingResponse:
        follows.append(f"{run_id}?{request.url.query}")

        async def stream() -> AsyncIterator[bytes]:
            yield sse(RunStarted(run_id=run_id, target="agents/coder.agent.yml", input="Restart"))
            yield sse(TextDelta(source=agent, text="Wrote notes.md."))
            yield sse(RunFinished(run_id=run_id, status="ok", output="Wrote notes.md.", duration_s=0.1))

        return StreamingResponse(stream(), media_type="text/event-stream")

    app.mount("/", StaticFiles(directory=STATIC, html=True))
    return app


def input_card(driver: WebDriver, kind: str) -> WebElement:
    return wait_for(
        driver,
        lambda d: next(
            (
                c
                for c in d.find_elements(*by_testid("input-request"))
                if c.get_attribute("data-input-kind") == kind
            ),
            None,
        ),
        f"a {kind} card",
    )


def outcome_is(card: WebElement, text: str) -> Callable[[WebDriver], bool]:
    return lambda d: card.find_element(*by_testid("input-outcome")).text == text


def test_page_asks_for_approval_and_an_answer(browser: WebDriver, tmp_path: Path) -> None:
    answers: list[dict[str, Any]] = []
    with uvicorn_server(input_app(answers, [])) as url:
        open_page(browser, url + "/")
        ask(browser, "Run the tests")

        # A permission card: what (the command as code, markup as text), why, three buttons.
        card = input_card(browser, "permission")
        what = card.find_element(*by_testid("input-what"))
        assert what.text == "run pytest -q <b>now</b>"
        assert what.find_element(By.TAG_NAME, "code").text == "pytest -q"
        assert card.find_elements(By.CSS_SELECTOR, "b") == []
        assert card.find_element(*by_testid("input-why")).text == "rule ask: bash(*)"
        assert [b.text for b in card.find_elements(By.TAG_NAME, "button")] == [
            "Approve",
            "Always allow",
            "Deny",
        ]
        browser.save_screenshot(str(tmp_path / "permission.png"))
        card.find_element(*by_testid("input-always")).click()
        wait_for(browser, outcome_is(card, "Approved for this conversation"), "the approval")
        assert card.find_elements(By.TAG_NAME, "button") == []

        # A question card: its options as buttons, and a free answer sent with Enter.
        question = input_card(browser, "question")
        assert question.find_element(*by_testid("input-what")).text == "Which <i>database</i>?"
        assert [b.text for b in question.find_elements(*by_testid("input-option"))] == ["prod", "dev"]
        question.find_element(*by_testid("input-text")).send_keys("staging", Keys.ENTER)
        wait_for(browser, outcome_is(question, "Answered: staging"), "the answer")

        assert wait_finished(browser, 1).get_attribute("data-status") == "ok"
        assert last_turn(browser).find_element(*by_testid("answer-text")).text == "Done on staging."
        assert answers == [
            {"run_id": "r1", "request_id": "p1", "approve": True, "always": True},
            {"run_id": "r1", "request_id": "q1", "answer": "staging"},
        ]
        browser.save_screenshot(str(tmp_path / "answered.png"))
        no_console_errors(browser)


def test_an_answer_after_a_restart_follows_the_resumed_run(browser: WebDriver) -> None:
    answers: list[dict[str, Any]] = []
    follows: list[str] = []
    with uvicorn_server(input_app(answers, follows)) as url:
        open_page(browser, url + "/")
        ask(browser, "Restart")
        card = input_card(browser, "permission")
        assert card.find_element(*by_testid("input-why")).text == "no permission rule matches it"
        # The stream ends with the run still waiting; the card can still answer it.
        wait_for(browser, lambda d: last_turn(d).get_attribute("aria-busy") == "false", "the stream to drop")
        card.find_element(*by_testid("input-approve")).click()
        wait_for(browser, outcome_is(card, "Approved"), "the approval")

        # The run goes on as r2, drawn in the same turn.
        assert wait_finished(browser, 1).get_attribute("data-status") == "ok"
        assert len(browser.find_elements(*by_testid("message-assistant"))) == 1
        turn = last_turn(browser)
        assert turn.find_element(*by_testid("answer-text")).text == "Wrote notes.md."
        assert "new run" in turn.find_element(*by_testid("run-note")).text
        assert answers == [{"run_id": "r1", "request_id": "p9", "approve": True, "always": False}]
        assert follows == ["r2?follow=true&after=0"]
        no_console_errors(browser)
