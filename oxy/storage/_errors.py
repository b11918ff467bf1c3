"""The store's errors, under `OxyError` (see `oxy.errors`).

```
OxyError
└── StoreError          the run store could not be opened, migrated, read or written
    └── NotFound        no such run or thread for this tenant (another tenant's reads the same)
```
"""

from __future__ import annotations

from oxy.errors import OxyError


class StoreError(OxyError):
    """The run store could not be opened, migrated, read or written."""


class NotFound(StoreError):
    """No such run or thread for the tenant asking; another tenant's record reads the same."""
