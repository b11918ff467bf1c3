"""An MCP tool result as the text a model reads: text blocks as they are, structured content as JSON
when no text carries it, images, audio and binary resources as a short note; cut at the agent's
`max_output_chars` with the cut marked. A result with `isError` is a `ToolError` (the model sees it)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import mcp_types as types

from oxy.errors import ToolError

__all__ = ["result_text"]


def result_text(result: types.CallToolResult, *, max_chars: int, tool: str) -> str:
    parts = [_block_text(block) for block in result.content]
    has_text = any(isinstance(block, types.TextContent) for block in result.content)
    if result.structured_content is not None and not has_text:
        parts.insert(0, json.dumps(result.structured_content, ensure_ascii=False, default=str))
    text = "\n".join(part for part in parts if part)
    text = cut(text, max_chars)
    if result.is_error:
        raise ToolError(f"{tool} failed: {text or 'the server gave no reason'}")
    return text


def cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return (
        f"{text[:max_chars]}\n[cut: the result has {len(text):,} characters; the first {max_chars:,} are "
        "shown (max_output_chars). Ask for less, e.g. a narrower query or a page.]"
    )


def _block_text(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        return f"[{kind}: {block.mime_type}, {_decoded_size(block.data):,} bytes, not shown to the model]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return f"[resource {resource.uri}]\n{resource.text}"
        mime = resource.mime_type or "binary"
        return f"[resource {resource.uri}: {mime}, {_decoded_size(resource.blob):,} bytes, not shown to the model]"
    if isinstance(block, types.ResourceLink):
        described = f" - {block.description}" if block.description else ""
        return f"[resource link {block.name}: {block.uri}{described}]"
    return f"[{getattr(block, 'type', 'unknown')} content, not shown to the model]"


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)
