"""Text for reports."""

from __future__ import annotations

__all__ = ["short"]


def short(text: str, width: int = 60) -> str:
    """`text` on one line, at most `width` characters (a prompt as a case name, a judge's reason)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
