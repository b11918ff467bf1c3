"""`oxy make`: scaffold a runnable project around a data file, a folder of them, or a `.duckdb` file.

```python
from oxy.make import make_project

made = make_project(Path("shop"), source=Path("orders.csv"))
print(made.files, made.next_commands)
```
"""

from oxy.make._make import MadeProject, make_project

__all__ = ["MadeProject", "make_project"]
