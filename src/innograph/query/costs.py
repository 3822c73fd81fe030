"""What a query cost when it last ran on a version: admission by expected cost.

A version never changes, so a query that worked long on it once (its worker used that much CPU
without answering) is long every time: the pool sends it to the long lane at once, or turns it
away at once when the long places are full, instead of letting it take a regular worker's CPU
until it is found out, and then killing that worker. Queries are told apart by all that
decides their cost (``QueryRequest.work``: the text without its comments and spacing, the
dataset, base IRI, limits, format and encoding): a comment is the same query, a renamed
variable (which a JSON or XML answer repeats on every row) is another.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["LongQueries"]


class LongQueries:
    """The CPU seconds each long query used on its version, the most recent ``capacity``, kept
    by hash (a text may be as long as the endpoint allows)."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._worked: OrderedDict[int, float] = OrderedDict()
        self._lock = threading.Lock()

    def worked(self, work: Hashable) -> float:
        """CPU seconds that work used before without answering sooner (0: never seen long)."""
        key = hash(work)
        with self._lock:
            seconds = self._worked.get(key, 0.0)
            if seconds:
                self._worked.move_to_end(key)
            return seconds

    def note(self, work: Hashable, cpu_s: float) -> None:
        """That work has used ``cpu_s`` seconds so far: the longest run is kept."""
        key = hash(work)
        with self._lock:
            self._worked[key] = max(cpu_s, self._worked.get(key, 0.0))
            self._worked.move_to_end(key)
            while len(self._worked) > self._capacity:
                self._worked.popitem(last=False)

    def forget(self, work: Hashable) -> None:
        """That work answered quickly: it was long by chance (a loaded machine), not by nature."""
        with self._lock:
            self._worked.pop(hash(work), None)
