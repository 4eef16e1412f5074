"""Small Telegram helpers shared by the handlers."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import NoReturn

from telegram import CallbackQuery, Message, Update, User
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, filters

from bot.localized import BASE_LANG
from bot.staff.chat import Caller
from bot.transport.outbox import Outbox, Work


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


def staff_caller(update: Update, work: Work, langs: tuple[str, ...], deep_link: str = "") -> Caller:
    """The staff member acting in an update of their private chat."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return Caller(user.id, chat.id, staff_lang(user, langs), work, deep_link)


async def staff_work(outbox: Outbox, update: Update, act: Callable[[Caller], Awaitable[object]],
                     langs: tuple[str, ...], deep_link: str = "") -> NoReturn:
    """A staff matter done in the update's unit of work: the desk's change, what it says and
    "update handled" commit together, so a redelivery, or a replay after a crash, changes
    nothing twice; no later handler sees the update."""
    async with outbox.work(update.update_id) as work:
        if work.fresh:
            await act(staff_caller(update, work, langs, deep_link))
    raise ApplicationHandlerStop


async def stop_spinner(query: CallbackQuery) -> None:
    """Answer a press (its button stops spinning); one too old to answer still counts."""
    with contextlib.suppress(BadRequest):
        await query.answer()
