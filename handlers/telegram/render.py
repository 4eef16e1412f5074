"""Engine replies → Telegram messages (HTML parse mode, inline keyboards)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.messages import Keyboard, Reply


@dataclass(frozen=True)
class Caller:
    """A staff member in a chat, with the language they read."""

    user_id: int
    chat_id: int
    lang: str
    bot: Bot


def staff_lang(user: User) -> str:
    """Staff read English when their Telegram is in English, Vietnamese otherwise."""
    return "en" if (user.language_code or "").startswith("en") else "vi"


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )


async def send(bot: Bot, chat_id: int, replies: tuple[Reply, ...]) -> None:
    """Send replies in order; a chat that blocked the bot is not an error worth crashing on."""
    for reply in replies:
        try:
            await bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML,
                                   reply_markup=markup(reply.keyboard))
        except Forbidden:
            return


async def settle_pressed(message: Message, note: str | None, keyboard: Keyboard | None) -> None:
    """Show what was chosen on the pressed message (and drop its buttons), or refresh them."""
    try:
        if keyboard is not None:
            await message.edit_reply_markup(reply_markup=markup(keyboard))
        elif note is not None:
            await message.edit_text(f"{message.text_html}\n\n<i>{html.escape(note)}</i>",
                                    parse_mode=ParseMode.HTML, reply_markup=None)
    except BadRequest:
        # The message is gone, too old to edit, or already shows this: nothing to settle.
        return
