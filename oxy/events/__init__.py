"""Events: what a run reports as it goes (`types`), and where the reports go (`sinks`).

Plain data, below every layer that makes or reads them: the engine emits them, the run store keeps
them, the terminal, JSONL, SSE and the web page show them."""
