"""Model serving: oxy starts, checks and supervises the vLLM (or llama.cpp) servers its agents use.

`plan_for(model)` builds a server's command line from the model's `serve:` block (the tool-call parser
of its family included), `ModelServer(plan)` runs and supervises it, `endpoint_status(model)` says how
an endpoint is doing. `oxy models serve|status` and `--with-models` are built on these.
"""

from .fleet import ModelFleet
from .parsers import PARSERS, tool_call_parser
from .plan import ServerPlan, plan_for, served_models
from .status import EndpointStatus, endpoint_status, in_flight
from .supervisor import ModelServer, ModelServerError, explain_failure

__all__ = [
    "PARSERS",
    "EndpointStatus",
    "ModelFleet",
    "ModelServer",
    "ModelServerError",
    "ServerPlan",
    "endpoint_status",
    "explain_failure",
    "in_flight",
    "plan_for",
    "served_models",
    "tool_call_parser",
]
