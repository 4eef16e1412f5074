"""Waiting for what a simulated bot does (both simulators: Telegram's and Zalo's)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol


class Log(Protocol):
    """A chat's messages from the bot, and how far a test has read them."""

    sent: list[Any]
    cursor: int
    arrived: asyncio.Event


async def next_sent(chat: Log, count: int, timeout: float,
                    missing: Callable[[], str]) -> list[Any]:
    """Wait for `count` messages past the cursor and return exactly those (TimeoutError saying
    `missing()` when they do not come)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(chat.sent) - chat.cursor < count:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(missing())
        chat.arrived.clear()
        with suppress(TimeoutError):
            await asyncio.wait_for(chat.arrived.wait(), remaining)
    new = chat.sent[chat.cursor : chat.cursor + count]
    chat.cursor += count
    return new


async def until(predicate: Callable[[], bool], timeout: float, errors: object) -> None:
    """Wait until `predicate()` is true (TimeoutError naming the API errors seen)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            raise TimeoutError(f"condition not met within {timeout}s; errors: {errors}")
        await asyncio.sleep(0.01)
