"""One module per task type; each registers its runner with `oxy.workflows._registry.task_type`.

The registry imports every module of this package the first time a workflow is built."""
