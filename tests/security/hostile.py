"""What the security tests share: a canary that records every request it gets, raw HTTP (only
the headers a test names), hostile profile texts made from the seed, and a check of an HTML page
for anything a browser would run.

Each threat of ../shared/reference/THREATS.md §3 is named by its row id (Q1…, S1…, W1…, D1…)
in the test that covers it; SECURITY.md maps every row to its test.
"""

from __future__ import annotations

import http.client
import http.server
import json
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

import conftest
from conftest import SEED

# Markup a hostile page prints: a script, a script end inside JSON-LD, an event handler.
PAYLOAD = (
    '<script>alert("xss")</script></script><script>alert(2)</script>'
    "<img src=x onerror=alert(3)> javascript:alert(4) {{7*7}}"
)


class Canary(conftest.Canary):
    """A canary that answers Turtle (what a fetched FROM, LOAD or owl:imports would read)."""

    def __init__(self) -> None:
        super().__init__(b"@prefix ex: <urn:canary:> . ex:s ex:p ex:o .\n", "text/turtle")

    def silent(self) -> bool:
        """No request reached the canary; then proves that one would have been seen."""
        time.sleep(0.2)
        quiet = self.hits == []
        fetch(f"{self.url}/self-check")
        assert self.hits[-1] == ("GET", "/self-check"), self.hits
        return quiet


@dataclass(frozen=True)
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def fetch(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    target: str | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a new connection; ``target`` sends a request line as it is (no quoting)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    start = time.monotonic()
    try:
        path = target or (parts.path + (f"?{parts.query}" if parts.query else ""))
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read(), time.monotonic() - start)
    finally:
        connection.close()


def seed_with(replacements: dict[str, str], first_line: str | None = None) -> str:
    """The seed's text with each old string replaced (each must be there), and a first line."""
    text = SEED.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return f"{first_line}\n{text}" if first_line else text


# --- what a browser would run ------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "srcset"}
ACTIVE_TAGS = {"iframe", "object", "embed", "frame", "base", "meta", "img"}


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.json_ld: list[object] = []
        self._script: str | None = None
        self._data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: an event handler")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = "".join(c for c in value if c > " ").lower()
                if scheme.startswith(("javascript:", "vbscript:")) or (
                    scheme.startswith("data:") and scheme != "data:,"
                ):
                    self.problems.append(f"<{tag} {name}={value!r}>: a script link")
        if tag == "meta" and "http-equiv" not in values:
            return  # <meta charset> and <meta name=…> are plain
        if tag in ACTIVE_TAGS:
            self.problems.append(f"<{tag}>: not a tag our pages use")
        if tag == "script":
            kind = (values.get("type") or "").lower()
            if values.get("src") is None and kind != "application/ld+json":
                self.problems.append(f"<script type={kind!r}>: an inline script")
            self._script, self._data = kind, []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._data.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            if self._script == "application/ld+json":
                text = "".join(self._data)
                try:
                    self.json_ld.append(json.loads(text))
                except ValueError:
                    self.problems.append(f"JSON-LD block is not JSON: {text[:80]!r}")
            self._script = None


@dataclass(frozen=True)
class Scanned:
    problems: list[str]
    json_ld: list[object]


def scan(page: str) -> Scanned:
    """What a browser would run on ``page``: event handlers, script links, inline scripts,
    tags our pages never use, JSON-LD blocks that a ``</script>`` cut short."""
    parser = _Scan()
    parser.feed(page)
    parser.close()
    return Scanned(parser.problems, parser.json_ld)
