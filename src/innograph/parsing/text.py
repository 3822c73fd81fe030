"""Bytes to lines: encoding checks with a line number, BOM, CRLF and trailing spaces."""

from __future__ import annotations

from ..errors import ProfileError


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, source: str) -> str:
    """Decode profile bytes as UTF-8 or raise a ProfileError naming the offending line."""
    if not data.strip():
        raise ProfileError(source, 1, "expected profile text, found an empty file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ProfileError(
            source, _line_of(data, nul), "expected UTF-8 text, found binary data (a NUL byte)"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise ProfileError(
            source,
            _line_of(data, error.start),
            f"expected UTF-8 text, found the byte 0x{byte:02x} that is not valid UTF-8",
        ) from None


def split_lines(text: str) -> list[str]:
    """Lines without BOM, line endings or trailing spaces (leading indentation is kept)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines
