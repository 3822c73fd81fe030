"""One error hierarchy: each error carries a public message, an HTTP status and an exit code.

Callers turn these into a one-line message (CLI) or a response (web) in one place; users never
see a traceback.
"""

from __future__ import annotations


class InnographError(Exception):
    """Base of every error innograph reports to a person."""

    http_status = 500
    exit_code = 1

    @property
    def public_message(self) -> str:
        return str(self)


class UsageError(InnographError):
    """Bad input from the person running a command or sending a request."""

    http_status = 400
    exit_code = 2


class ProfileError(UsageError):
    """A profile text that cannot be read; names the file, the line and what was expected."""

    def __init__(self, source: str, line: int, expected: str) -> None:
        self.source = source
        self.line = line
        self.expected = expected
        super().__init__(f"{source}:{line}: {expected}")
