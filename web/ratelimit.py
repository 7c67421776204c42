"""A per-process sliding-window counter, for per-IP limits on sign-in and reset requests."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` events per key within `window_s` seconds."""

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def exceeded(self, key: str) -> bool:
        with self._lock:
            now = self.clock()
            exceeded = len(self._recent(key, now)) >= self.limit
            if not self._events[key]:
                del self._events[key]
            return exceeded

    def add(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._recent(key, now).append(now)
            if len(self._events) > 100_000:  # bound memory under a flood of addresses
                self._events = {k: v for k, v in self._events.items() if v}

    def hit(self, key: str) -> bool:
        """Count one event; False if the key was already at its limit (the event is refused)."""
        if self.exceeded(key):
            return False
        self.add(key)
        return True
