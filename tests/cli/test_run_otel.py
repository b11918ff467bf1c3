"""`oxy run --otel` sends OTLP over HTTP to the endpoint the standard variables name; `--otel-file`
writes OTLP JSON lines; tracing without the SDK is a one-line error."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.cli import cli
from tests.otlp_collector import Collector, otlp_collector

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.fixture
def collector() -> Iterator[Collector]:
    with otlp_collector() as c:
        yield c


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    return root


def run(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["run", str(project / "agents/analyst.agent.yml"), "How many orders are there?", "--replay", *args],
    )
    return result.exit_code, result.stdout, result.stderr


EXPECTED = [
    "chat smollm2",
    "chat smollm2",
    "execute_sql shop",
    "execute_tool execute_sql",
    "invoke_agent analyst",
]


def test_otel_sends_the_runs_spans_to_the_otlp_endpoint(
    project: Path, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-analyst")
    code, out, err = run(project, "--otel")
    assert (code, err) == (0, ""), out
    assert "The answer is 240." in out
    assert {(path, kind) for path, kind, _ in collector.received} == {
        ("/v1/traces", "application/x-protobuf")
    }
    assert collector.span_names() == EXPECTED
    request = collector.requests()[0]
    service = [
        a.value.string_value for a in request.resource_spans[0].resource.attributes if a.key == "service.name"
    ]
    assert service == ["shop-analyst"]


def test_otel_file_writes_otlp_json_lines(project: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "traces" / "run.jsonl"
    assert run(project, "--otel-file", str(out_file))[0] == 0
    assert run(project, "--otel-file", str(out_file))[0] == 0  # a second run appends
    traces = {
        span["traceId"]
        for line in out_file.read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    }
    assert len(traces) == 2


def test_an_unreachable_endpoint_costs_seconds_and_one_warning(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    code, out, err = run(project, "--otel")
    assert code == 0 and "The answer is 240." in out
    assert err == "warning: the trace could not be exported (in 3 s); is the OTLP endpoint up?\n"


def test_an_otel_file_that_cannot_be_written_is_a_one_line_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run(project, "--otel-file", str(blocker / "traces.jsonl"))
    assert (code, out) == (1, "")
    assert err.startswith(f"error: --otel-file {blocker / 'traces.jsonl'}: cannot open it: ")


def test_tracing_without_the_sdk_is_a_one_line_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "oxy.events.otel", None)  # as if opentelemetry-sdk were missing
    code, out, err = run(project, "--otel")
    assert (code, out) == (1, "")
    assert err == (
        "error: --otel needs the OpenTelemetry SDK (oxy.events.otel is missing): pip install 'oxy-engine[otel]'\n"
    )
