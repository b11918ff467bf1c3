"""`.sql` files: a query, with optional front matter in a leading block comment.

```sql
/*
  oxy:
    database: local
    embed:
      - total weekly sales for all stores
*/
SELECT SUM(Weekly_Sales) FROM 'oxymart.csv';
```

The comment is YAML once its markers are blanked out, so errors keep the file's own lines and columns.
A leading comment that does not start with `oxy:` is an ordinary comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, ValidationError

from oxy.config._base import StrictModel
from oxy.config._common import StrList
from oxy.config._issues import ConfigErrors
from oxy.config._validation_errors import translate_validation_error
from oxy.config._yaml import YamlDocument, parse_yaml
from oxy.errors import ConfigError

__all__ = ["SqlFile", "SqlFrontMatter", "parse_sql_file", "parse_sql_text"]

_FRONT_MATTER = re.compile(r"\A(\s*)/\*(\s*oxy\s*:.*?)\*/", re.DOTALL)


class SqlFrontMatter(StrictModel):
    """What a `.sql` file says about itself."""

    database: str | None = Field(
        default=None, description="A database name from config.yml; the default one when unset."
    )
    embed: StrList = Field(
        default_factory=list[str], description="Questions this query answers, embedded for retrieval."
    )


class _Document(StrictModel):
    oxy: SqlFrontMatter


@dataclass(frozen=True)
class SqlFile:
    """A parsed `.sql` file."""

    path: Path
    sql: str
    """The query, without the front matter comment."""
    front_matter: SqlFrontMatter | None
    """None when the file has no `oxy:` comment."""
    source: YamlDocument | None = field(default=None, repr=False, compare=False)
    """The front matter as parsed, with positions, for error messages."""

    @property
    def database(self) -> str | None:
        return None if self.front_matter is None else self.front_matter.database


def parse_sql_file(path: Path, *, file: str | None = None) -> SqlFile:
    """Read `path`; errors name it `file` (project-relative), or `path` as given."""
    name = str(path) if file is None else file
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=name) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"file is not UTF-8 text ({exc.reason} at byte {exc.start})", file=name) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", file=name) from None
    return parse_sql_text(text, path=path, file=name)


def parse_sql_text(text: str, *, path: Path, file: str) -> SqlFile:
    """Split `text` into front matter and query; raise `ConfigError`s for bad front matter."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return SqlFile(path=path, sql=text, front_matter=None)
    leading, inner = match.group(1), match.group(2)
    yaml_text = leading + "  " + inner  # `/*` becomes two spaces: lines and columns stay the file's own
    doc = parse_yaml(yaml_text, file=file)
    try:
        parsed = _Document.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigErrors(translate_validation_error(exc, _Document, doc, kind="front matter")) from None
    body = text[match.end() :].lstrip("\r\n")
    return SqlFile(path=path, sql=body, front_matter=parsed.oxy, source=doc)
