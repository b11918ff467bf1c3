"""`webfetch`: a web page as text for the model, from the hosts the toolset allows, size-capped.

Only `http` and `https` URLs whose host is in `allowed_hosts` (`docs.python.org`, or
`*.python.org` for its subdomains) are fetched; each redirect is checked the same way before it is
followed. At most `max_bytes` of the body are read. HTML becomes markdown-like text (headings,
links, lists, code blocks; scripts and styles dropped) with the standard library's parser; other
text types come back as they are; anything else is refused.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from oxy.errors import ToolError

__all__ = ["allowed", "fetch", "html_to_text"]

MAX_REDIRECTS = 5
TIMEOUT_S = 20.0


def allowed(url: str, hosts: list[str]) -> str:
    """The host of `url` when the toolset may fetch it; a `ToolError` saying why not otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(f"{url!r} is not an http(s) URL")
    host = parts.hostname.lower()
    for pattern in hosts:
        pattern = pattern.lower()
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return host
    shown = ", ".join(hosts) if hosts else "none (set `allowed_hosts` on the workspace tool)"
    raise ToolError(f"{host!r} is not an allowed host; webfetch may fetch from: {shown}")


async def fetch(url: str, *, hosts: list[str], max_bytes: int) -> str:
    allowed(url, hosts)
    async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            async with client.stream("GET", url, headers={"User-Agent": "oxy-webfetch"}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    allowed(url, hosts)
                    continue
                if response.status_code >= 400:
                    raise ToolError(f"{url} answered HTTP {response.status_code}")
                body, cut = await _read(response, max_bytes)
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                text = _decode(body, kind, url=url, encoding=response.encoding)
                note = (
                    f"\n\n[… the page is longer than {max_bytes:,} bytes; the rest was not read]"
                    if cut
                    else ""
                )
                return f"{url}\n\n{text}{note}"
    raise ToolError(f"{url} redirected more than {MAX_REDIRECTS} times")


async def _read(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return bytes(body[:max_bytes]), True
    return bytes(body), False


def _decode(body: bytes, kind: str, *, url: str, encoding: str | None) -> str:
    text = body.decode(encoding or "utf-8", errors="replace")
    if kind in ("text/html", "application/xhtml+xml") or (not kind and "<html" in text[:2000].lower()):
        return html_to_text(text)
    if kind.startswith("text/") or kind in ("application/json", "application/xml", ""):
        return text
    raise ToolError(f"{url} is {kind}, not a page or text; webfetch reads text only")


_BLOCKS = {"p", "div", "section", "article", "header", "footer", "main", "table", "tr", "ul", "ol", "br"}
_SKIP = {"script", "style", "noscript", "template", "svg", "head"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        self._pre = 0
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "pre":
            self._pre += 1
            self.out.append("\n```\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self.out.append("[")
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag in ("td", "th"):
            self.out.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self.out.append("\n```\n")
        elif tag == "a":
            self.out.append(f"]({self._href})" if self._href else "]")
            self._href = None
        elif tag in _BLOCKS or re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.out.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
