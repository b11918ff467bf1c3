"""The execution layer: `Executable` and its combinators, the `ExecutionContext` with its typed
`RuntimeHandle` and `Caller`, templates, running SQL into table outputs, and whole runs."""
