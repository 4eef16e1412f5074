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
    # A way out beside the answers (back, stop, skip, help). Where a channel has no buttons it is
    # offered by its words, not by a number: a number typed there stays an answer.
    aside: bool = False


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """A message to send; `text` is HTML (user text in it is escaped)."""

    text: str
    keyboard: Keyboard = ()
