"""A per-person flood limit: answered once per burst, not once per message."""

from __future__ import annotations

from collections import deque
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # first message over the limit: tell the person once
    DROP = "drop"  # further messages in the same burst


class FloodGuard:
    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def check(self, person: int, now: float) -> Verdict:
        times = self._seen.setdefault(person, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.pop(person, None)
            return Verdict.ALLOW
        if now - self._warned.get(person, -self.window - 1) > self.window:
            self._warned[person] = now
            return Verdict.WARN
        return Verdict.DROP

    def forget_idle(self, now: float) -> None:
        """Drop people with no recent message, so memory stays small."""
        for person in [p for p, t in self._seen.items() if not t or now - t[-1] > self.window]:
            self._seen.pop(person, None)
            self._warned.pop(person, None)
