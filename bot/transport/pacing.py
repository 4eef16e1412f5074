"""How fast and when messages may go out: token buckets and quiet hours (pure, clock given).

Telegram asks a bot to stay near one message a second in a chat (short bursts are fine) and under
about 30 a second in all; bulk notices should leave room for replies to people who just wrote,
and should not wake a child at night.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Pacing:
    """[outbox] in the config. `rate_limit = false` in [bot] turns every limit off (tests)."""

    messages_per_second: float = 30.0  # every message, all chats together
    notices_per_second: float = 25.0  # bulk notices (answers, reminders), within the above
    chat_per_second: float = 1.0  # one chat, sustained
    chat_burst: int = 5  # one chat, at once (a reply of several messages); edits do not count
    quiet_start: time | None = time(21, 0)  # notices wait from here...
    quiet_end: time | None = time(7, 0)  # ...to here, local time
    max_attempts: int = 8  # failed attempts (network, server errors) before giving up
    enabled: bool = True

    def unlimited(self) -> Pacing:
        return Pacing(math.inf, math.inf, math.inf, 1_000_000, self.quiet_start,
                      self.quiet_end, self.max_attempts, enabled=False)

    def share(self, workers: int) -> Pacing:
        """One worker's part when `workers` processes send for the same bot: the bot-wide rates
        split evenly (a chat's own limit stays: one worker sends a chat's queue at a time)."""
        if workers <= 1:
            return self
        return replace(self, messages_per_second=self.messages_per_second / workers,
                       notices_per_second=self.notices_per_second / workers)


class Bucket:
    """A token bucket that hands out reservations: `reserve(now)` is how long to wait."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, -math.inf

    def reserve(self, now: float) -> float:
        if math.isinf(self.rate):
            return 0.0
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self, now: float) -> bool:
        """Full again: the bucket can be forgotten."""
        return self.tokens + (now - self.at) * self.rate >= self.burst


def quiet_until(moment: datetime, pacing: Pacing, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around `moment` end (an aware datetime), or None outside them."""
    start, end = pacing.quiet_start, pacing.quiet_end
    if start is None or end is None or start == end:
        return None
    local = moment.astimezone(zone)
    now = local.time()
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside:
        return None
    day = local.date() if now < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, zone)
