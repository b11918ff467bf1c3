"""`oxy serve`: the project's agents and workflows over HTTP (see docs/serve.md).

```python
from oxy.serve import ServeSettings, create_app

app = create_app(ServeSettings(project=Path("projects/quickstart")))   # an ASGI app (FastAPI)
```
"""

from oxy.serve._settings import ServeSettings
from oxy.serve.app import create_app

__all__ = ["ServeSettings", "create_app"]
