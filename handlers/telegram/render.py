"""Small Telegram helpers shared by the handlers."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message, User
from telegram.ext import filters

from bot.localized import BASE_LANG


def staff_lang(user: User, langs: tuple[str, ...]) -> str:
    """Staff read the language their Telegram is set to when the bot has it, else Vietnamese."""
    code = (user.language_code or "").split("-")[0].lower()
    return code if code in langs else BASE_LANG


def command_name(text: str) -> str:
    """"/Queue@childforum_bot args" → "queue"."""
    return (text or "/").split()[0][1:].split("@")[0].lower()


class OwesText(filters.MessageFilter):
    """Plain text from someone a desk is waiting to hear from (a field they were asked for)."""

    def __init__(self, owes: Callable[[int], bool]) -> None:
        super().__init__(name="OwesText")
        self.owes = owes

    def filter(self, message: Message) -> bool:
        return message.from_user is not None and self.owes(message.from_user.id)
