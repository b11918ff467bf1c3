"""Which vLLM `--tool-call-parser` a model family needs (`tool_call_parser: auto`).

The table is matched in order against the lower-cased `model_ref` (a Hugging Face id or a path); the
first family whose pattern matches wins. Parser names are vLLM's (0.11 and later: `qwen3_xml`,
`granite4`, `deepseek_v31/v32`, `minimax_m2` are recent; an older vLLM that lacks one is explained). A family missing here is an error asking for an explicit
parser, never a guess: a wrong parser makes tool calls arrive as plain text.
"""

from __future__ import annotations

import re

from oxy.errors import ConfigError

__all__ = ["PARSERS", "tool_call_parser"]

PARSERS: tuple[tuple[str, str, str], ...] = (
    # (family, pattern over the model id, vLLM parser)
    ("Qwen3-Coder", r"qwen3[-_.]?coder", "qwen3_xml"),
    ("Qwen2.5 / Qwen3 / QwQ", r"qwen(2\.5|2_5|3)|qwq", "hermes"),
    ("Hermes 2 / 3", r"hermes", "hermes"),
    ("Llama 4", r"llama[-_]?4", "llama4_json"),
    ("Llama 3.1 / 3.2 / 3.3", r"llama[-_]?3[._-]?[123]", "llama3_json"),
    ("Mistral / Mixtral / Ministral / Devstral", r"mistral|mixtral|ministral|devstral|codestral", "mistral"),
    ("gpt-oss", r"gpt[-_]?oss", "openai"),
    ("Granite 4", r"granite[-_]?4", "granite4"),
    ("Granite 3", r"granite[-_]?3", "granite"),
    ("DeepSeek-V3.2", r"deepseek[-_]?v3[._]2", "deepseek_v32"),
    ("DeepSeek-V3.1", r"deepseek[-_]?v3[._]1", "deepseek_v31"),
    (
        "DeepSeek-V3 / R1 (not the R1 distills, which are Qwen or Llama)",
        r"deepseek[-_]?(v3|r1)(?![-_]distill)",
        "deepseek_v3",
    ),
    ("Kimi K2", r"kimi[-_]?k2", "kimi_k2"),
    ("GLM-4.5 / 4.6", r"glm[-_]?4[._][56]", "glm45"),
    ("Phi-4-mini", r"phi[-_]?4[-_]?mini", "phi4_mini_json"),
    ("InternLM 2.5", r"internlm", "internlm"),
    ("xLAM", r"xlam", "xlam"),
    ("MiniMax-M2", r"minimax[-_]?m2", "minimax_m2"),
    ("MiniMax-M1", r"minimax[-_]?m1", "minimax"),
    ("Jamba", r"jamba", "jamba"),
)

_COMPILED = tuple((family, re.compile(pattern), parser) for family, pattern, parser in PARSERS)


def tool_call_parser(model_ref: str, *, model: str, file: str = "config.yml") -> str:
    """The parser for `model_ref`'s family; a `ConfigError` naming the model when the family is unknown."""
    ref = model_ref.lower()
    for _, pattern, parser in _COMPILED:
        if pattern.search(ref):
            return parser
    families = ", ".join(family for family, _, _ in PARSERS)
    raise ConfigError(
        f"model {model!r}: oxy does not know which vLLM tool-call parser {model_ref!r} needs (known families: "
        f"{families}); set `serve.tool_call_parser` to one (vLLM's docs list them), or null to serve "
        "without tool calls",
        file=file,
    )
