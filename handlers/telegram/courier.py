"""The Telegram courier: an outbox Message becomes a Bot API call; the answer, a Delivery."""

from __future__ import annotations

from dataclasses import replace

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.messages import Keyboard
from bot.transport.outbox import Delivery, Failed, Message, Retry, Sent, Unreachable

# An edit that changes nothing, or cannot happen any more, counts as done (or, for a message
# that must be seen, becomes a new message).
_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
# The chat is gone for good (a deleted account).
_NO_CHAT = ("user is deactivated", "peer_id_invalid")
# The person has not started the bot yet (an officer named in the config, say): worth retrying.
_NOT_YET = ("chat not found",)


class _Gone:
    """The message to edit is gone or too old to edit."""


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )


class TelegramCourier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(self, message: Message) -> Delivery:
        outcome = await self._attempt(message)
        if isinstance(outcome, _Gone):
            if not message.or_send:
                return Sent()
            outcome = await self._attempt(replace(message, op="send", message_id=None))
        return Sent() if isinstance(outcome, _Gone) else outcome

    async def _attempt(self, message: Message) -> Delivery | _Gone:
        try:
            await self._call(message)
        except RetryAfter as error:
            after = error.retry_after
            seconds = after if isinstance(after, int | float) else after.total_seconds()
            return Retry(float(seconds), str(error), counts=False)
        except Forbidden as error:
            return Unreachable(error.message)
        except BadRequest as error:
            text = error.message.lower()
            if message.op in ("edit", "keyboard") and _NOT_MODIFIED in text:
                return Sent()
            if message.op in ("edit", "keyboard") and any(gone in text for gone in _EDIT_GONE):
                return _Gone()
            if any(gone in text for gone in _NO_CHAT):
                return Unreachable(error.message)
            if any(later in text for later in _NOT_YET):
                return Retry(None, error.message)
            return Failed(error.message)
        except TelegramError as error:  # network, timeouts, server errors: try again later
            return Retry(None, str(error) or type(error).__name__)
        return Sent()

    async def _call(self, message: Message) -> None:
        chat, keyboard = message.chat_id, markup(message.keyboard)
        if message.op == "send":
            await self.bot.send_message(chat, message.text, parse_mode=ParseMode.HTML,
                                        reply_markup=keyboard)
        elif message.op == "edit":
            assert message.message_id is not None
            await self.bot.edit_message_text(message.text, chat, message.message_id,
                                             parse_mode=ParseMode.HTML, reply_markup=keyboard)
        elif message.op == "keyboard":
            assert message.message_id is not None
            await self.bot.edit_message_reply_markup(chat, message.message_id,
                                                     reply_markup=keyboard)
        elif message.op == "document":
            assert message.body is not None
            await self.bot.send_document(chat, message.body, filename=message.filename,
                                         caption=message.text or None,
                                         parse_mode=ParseMode.HTML, reply_markup=keyboard)
        else:
            assert message.body is not None
            await self.bot.send_photo(chat, message.body, caption=message.text or None,
                                      parse_mode=ParseMode.HTML, reply_markup=keyboard)
