"""What the bot says, whatever the channel: text (HTML, user text escaped) and buttons.

The conversation engine and the staff services produce these; a channel's courier renders them
(inline keyboards on Telegram, numbered menus where a channel has no buttons).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """A message to send; `text` is HTML (user text in it is escaped)."""

    text: str
    keyboard: Keyboard = ()
