"""Test oxy projects without a real model: a scripted model, in-process or as an HTTP server.

```python
from oxy.testing import Reply, ScriptedModelServer, tool_call

with ScriptedModelServer([Reply(tool_calls=[tool_call("run_sql", {"sql": "select 1"})]), Reply(text="One.")]) as server:
    ...  # point a model's api_url at server.base_url
```

See docs/testing.md.
"""

from .cassette_script import from_cassette
from .script import Drop, Fail, Reply, Script, ScriptedRequest, ScriptExhausted, Turn, tool_call
from .scripted_model import ScriptedModel
from .server import ScriptedModelServer

__all__ = [
    "Drop",
    "Fail",
    "Reply",
    "Script",
    "ScriptExhausted",
    "ScriptedModel",
    "ScriptedModelServer",
    "ScriptedRequest",
    "Turn",
    "from_cassette",
    "tool_call",
]
