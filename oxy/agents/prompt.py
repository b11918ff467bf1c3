"""An agent's system prompt for one run: its variant (A/B), the template (inline or a `*.prompt.md`
file), the values of the prompt's variables, and what the run records about it."""

from __future__ import annotations

import functools
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oxy.config.agent import AgentVariant, DefaultAgentConfig
from oxy.config.prompts import is_prompt_ref, load_prompt, text_hash
from oxy.errors import ConfigError
from oxy.execution.templates import TemplateOrigin

__all__ = [
    "AgentPrompt",
    "agent_prompt",
    "apply_variant",
    "choose_variant",
    "instructions_line",
    "prompt_for",
]


@dataclass(frozen=True)
class AgentPrompt:
    template: str
    origin: TemplateOrigin
    defaults: dict[str, Any]
    """The prompt file's variable defaults: the run's own variables (a workflow task's) win over them."""
    values: dict[str, Any]
    """The variant's `variables`: they win over the run's."""
    info: dict[str, Any]
    """What `run_started` records: `name` (the prompt file, or `<agent file>#system_instructions`),
    `version` (the file's, else None), `sha256` (of the template text) and `variant` (else None)."""


def choose_variant(
    config: DefaultAgentConfig, *, file: str, name: str | None = None, key: str | None = None
) -> AgentVariant | None:
    """The variant a run uses: the one called `name`; else one picked by weight, by a hash of `key`
    when given (a thread keeps its variant), at random otherwise. None when the agent has none."""
    variants = config.variants or []
    if name is not None:
        chosen = next((v for v in variants if v.name == name), None)
        if chosen is None:
            known = ", ".join(v.name for v in variants) or "none; add `variants:` to the agent"
            raise ConfigError(f"no variant {name!r} (variants: {known})", file=file)
        return chosen
    weighted = [v for v in variants if v.weight > 0]
    if not weighted:
        return None
    total = sum(v.weight for v in weighted)
    if key is None:
        point = random.random() * total
    else:
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        point = int.from_bytes(digest[:8], "big") / 2**64 * total
    for variant in weighted:
        point -= variant.weight
        if point < 0:
            return variant
    return weighted[-1]


def apply_variant(config: DefaultAgentConfig, variant: AgentVariant | None) -> DefaultAgentConfig:
    """The agent as `variant` runs it: its prompt and model in place of the agent's."""
    if variant is None:
        return config
    update: dict[str, Any] = {}
    if variant.system_instructions is not None:
        update["system_instructions"] = variant.system_instructions
    if variant.model is not None:
        update["model"] = variant.model
    return config.model_copy(update=update) if update else config


def prompt_for(
    config: DefaultAgentConfig, *, root: Path, file: str, name: str | None = None, key: str | None = None
) -> tuple[DefaultAgentConfig, AgentPrompt]:
    """The agent as one run uses it (its variant chosen as `choose_variant` says, and applied), and
    that run's prompt."""
    variant = choose_variant(config, file=file, name=name, key=key)
    config = apply_variant(config, variant)
    return config, agent_prompt(config, root=root, file=file, variant=variant)


def agent_prompt(
    config: DefaultAgentConfig, *, root: Path, file: str, variant: AgentVariant | None
) -> AgentPrompt:
    """The prompt of `config` (with `variant` already applied) for the agent in `file`."""
    text = config.system_instructions
    name = variant.name if variant is not None else None
    values = dict(variant.variables) if variant is not None else {}
    if not is_prompt_ref(text):
        own = variant is None or variant.system_instructions is None  # else the variant's text: no line
        line = instructions_line(root / file) if own else None
        origin = TemplateOrigin(file=file, line=line, key="system_instructions")
        info = {
            "name": f"{file}#system_instructions",
            "version": None,
            "sha256": text_hash(text),
            "variant": name,
        }
        return AgentPrompt(text, origin, {}, values, info)
    prompt = load_prompt(root, text, referrer=file)
    defaults = {k: v for k, v in prompt.variables.items() if v is not None}
    info = {"name": prompt.file, "version": prompt.version, "sha256": prompt.sha256, "variant": name}
    origin = TemplateOrigin(file=prompt.file, line=prompt.line)
    return AgentPrompt(prompt.text, origin, defaults, values, info)


_BLOCK_SCALAR = re.compile(r"^\s*[|>][+-]?\d*\s*(#.*)?$")


@functools.lru_cache(maxsize=256)
def instructions_line(path: Path, key: str = "system_instructions") -> int | None:
    """The line where the value of top-level `key` starts (the next line for a `|` block)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    prefix = f"{key}:"
    for number, line in enumerate(lines, start=1):
        if line.startswith(prefix):
            rest = line[len(prefix) :]
            return number + 1 if _BLOCK_SCALAR.match(rest) or not rest.strip() else number
    return None
