"""The channels people reach the bot on, and how one chat id tells them apart.

Everything below the channel adapters is keyed by one integer chat id. On Telegram it is the
chat's own id (a user's id has at most 52 bits; groups are negative). Other channels name people
by their own ids (Zalo: 80-bit hex strings), so each gets a range of chat ids of its own, above
any Telegram id, and `storage/addresses.py` keeps which (channel, own id) each was given: the
contact-and-address model of RapidPro's goflow/courier. The conversation, the staff's work and the
outbox never ask which channel a chat is on; the adapters and the outbox's couriers do, here.
"""

from __future__ import annotations

TELEGRAM = "telegram"
ZALO = "zalo"
_SPAN = 1 << 53  # Telegram's ids stay below 2**52; each other channel gets 2**53 ids
_FIRST_ID = {ZALO: _SPAN}  # a channel's first chat id (the next channel would start at 2**54)
MAX_CHAT_ID = max(_FIRST_ID.values()) + _SPAN - 1  # the highest chat id of any channel


def channel_of(chat_id: int) -> str:
    """The channel a chat id belongs to."""
    return next((name for name, first in _FIRST_ID.items()
                 if first <= chat_id < first + _SPAN), TELEGRAM)


def first_id(channel: str) -> int:
    """The first chat id of a channel that has its own range (not Telegram)."""
    return _FIRST_ID[channel]
