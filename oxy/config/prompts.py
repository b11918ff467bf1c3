"""Prompt files (`*.prompt.md`): an agent's system instructions kept apart, with a version.

```markdown
---
version: 3
description: The analyst's instructions.
variables:
  tone:
    type: string
    default: plain
---
You are a data analyst. Answer in a {{ tone }} tone.
```

An agent names one instead of inline text (`system_instructions: prompts/analyst.prompt.md`). The
front matter (YAML between `---` lines, optional) gives the prompt's `version` and declares the
`variables` its template reads, as JSON Schemas whose `default` is the value unless an agent's
variant sets another. Every run records the prompt's name, version and a hash of its text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from oxy.config._base import StrictModel
from oxy.config._common import Variables
from oxy.config._issues import ConfigErrors
from oxy.config._paths import confine
from oxy.config._validation_errors import translate_validation_error
from oxy.config._yaml import parse_yaml
from oxy.errors import ConfigError

__all__ = ["PROMPT_SUFFIX", "PromptFile", "PromptFrontMatter", "is_prompt_ref", "load_prompt", "text_hash"]

PROMPT_SUFFIX = ".prompt.md"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)


class PromptFrontMatter(StrictModel):
    version: str | int | None = Field(default=None, description="Recorded with every run that uses it.")
    description: str | None = None
    variables: Variables | None = Field(
        default=None, description="Variables the template reads, as JSON Schemas; `default` is the value."
    )


@dataclass(frozen=True)
class PromptFile:
    file: str
    """Project-relative path."""
    text: str
    """The template, front matter removed."""
    line: int
    """The file's line where `text` starts (template errors point into the file)."""
    version: str | None
    variables: dict[str, Any]
    """Declared variables and their defaults (`None` where a schema gives none)."""

    @property
    def sha256(self) -> str:
        return text_hash(self.text)


def is_prompt_ref(system_instructions: str) -> bool:
    """Whether `system_instructions` names a prompt file rather than being the text itself."""
    value = system_instructions.strip()
    return value.endswith(PROMPT_SUFFIX) and "\n" not in value and "{" not in value


def text_hash(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of `text` (what runs record to tell prompts apart)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_prompt(root: Path, ref: str, *, referrer: str) -> PromptFile:
    """Read the prompt file `ref` (relative to the project root, confined to it); errors name
    `referrer` for a missing file and the prompt file itself for bad front matter."""
    ref = ref.strip()
    path = confine(root, ref, what="prompt file", file=referrer)
    try:
        stat = path.stat()
        cached = _LOADED.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size) and cached[2].file == ref:
            return cached[2]  # a server builds the agent each run: read the file once while unchanged
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"system_instructions: prompt file {ref!r} not found (paths are relative to the project root)",
            file=referrer,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read prompt file: {exc}", file=ref) from None
    prompt = _parse(text, ref)
    _LOADED[path] = (stat.st_mtime_ns, stat.st_size, prompt)
    return prompt


_LOADED: dict[Path, tuple[int, int, PromptFile]] = {}


def _parse(text: str, ref: str) -> PromptFile:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return PromptFile(ref, text, 1, None, {})
    doc = parse_yaml("\n" + (match.group(1) or ""), file=ref)  # the `---` line keeps its number
    try:
        front = PromptFrontMatter.model_validate(doc.data or {})
    except ValidationError as exc:
        raise ConfigErrors(
            translate_validation_error(exc, PromptFrontMatter, doc, kind="front matter")
        ) from None
    body = text[match.end() :]
    line = text[: match.end()].count("\n") + 1
    defaults = {name: schema.get("default") for name, schema in (front.variables or {}).items()}
    version = None if front.version is None else str(front.version)
    return PromptFile(ref, body, line, version, defaults)
