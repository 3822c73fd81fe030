"""The ledger that accounts for every source line: mapped, template, blank or unmapped."""

from __future__ import annotations

from ..records import LineClass, LineKind


class Ledger:
    """Collects how each line was used; lines nobody claimed end up unmapped."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._claims: dict[int, tuple[LineKind, str]] = {}

    def text(self, number: int) -> str:
        return self.lines[number - 1]

    def mapped(self, number: int, field: str) -> None:
        self._claims[number] = ("mapped", field)

    def template(self, number: int, field: str) -> None:
        self._claims.setdefault(number, ("template", field))

    def is_claimed(self, number: int) -> bool:
        return number in self._claims

    def classes(self) -> tuple[LineClass, ...]:
        result = []
        for number, text in enumerate(self.lines, start=1):
            claim: tuple[LineKind, str] = ("blank", "")
            if text.strip():
                claim = self._claims.get(number, ("unmapped", ""))
            result.append(LineClass(number, *claim, text))
        return tuple(result)
