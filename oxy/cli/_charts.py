"""`oxy run --chart-dir DIR`: save each chart event of a run as a file, then pass it on."""

from __future__ import annotations

import re
from pathlib import Path

from oxy.events.sinks import EventSink
from oxy.events.types import ChartEvent, Event

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ChartFileSink(EventSink):
    """Writes `DIR/<task path>.<suffix>` for each chart (numbered when a name repeats)."""

    def __init__(self, inner: EventSink, *, folder: Path, suffix: str) -> None:
        self._inner = inner
        self.streams_text = inner.streams_text
        self._folder = folder
        self._suffix = suffix
        self._used: set[str] = set()
        self.saved: list[Path] = []

    async def emit(self, event: Event) -> None:
        if isinstance(event, ChartEvent):
            # lazy: chart rendering loads only when a chart is written
            from oxy.workflows.charts import save_chart

            path = self._folder / f"{self._name(event)}.{self._suffix}"
            save_chart(event.spec, path)
            self.saved.append(path)
        await self._inner.emit(event)

    def _name(self, event: ChartEvent) -> str:
        base = _UNSAFE.sub("_", "-".join(event.source[1:] or event.source) or "chart").strip("_") or "chart"
        name, n = base, 1
        while name in self._used:
            n += 1
            name = f"{base}-{n}"
        self._used.add(name)
        return name
