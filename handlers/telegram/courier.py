"""The Telegram courier: an outbox Message becomes a Bot API call; the answer, a Delivery."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

from telegram import Bot, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.messages import Keyboard
from bot.transport.outbox import Delivery, Failed, Message, Retry, Sent, Turn, Unreachable, no_wait

# An edit that changes nothing, or cannot happen any more, counts as done (or, for a message
# that must be seen, becomes a new message).
_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
# The chat is gone for good (a deleted account).
_NO_CHAT = ("user is deactivated", "peer_id_invalid")
# The person has not started the bot yet (an officer named in the config, say): worth retrying.
_NOT_YET = ("chat not found",)


# Sends go through the public `Bot.do_api_request`, which asks for `Bot.send_message` instead:
# that one turns every answer into a Message object the bot never reads (a sixth of the event
# loop's time, bench/README.md), so the advice is declined here, once.
warnings.filterwarnings("ignore", r"Please use 'Bot\.", PTBUserWarning, __name__)
_METHODS = {"send": "sendMessage", "edit": "editMessageText",
            "keyboard": "editMessageReplyMarkup", "document": "sendDocument",
            "photo": "sendPhoto"}


class _Gone:
    """The message to edit is gone or too old to edit."""


def markup(keyboard: Keyboard) -> dict[str, Any] | None:
    """An inline keyboard as the Bot API's JSON (no objects built for it)."""
    if not keyboard:
        return None
    return {"inline_keyboard": [[{"text": b.label, "callback_data": b.data} for b in row]
                                for row in keyboard]}


class TelegramCourier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(self, message: Message, turn: Turn = no_wait) -> Delivery:
        # one Message is one message in the chat here: `turn` is never needed
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
        """One Bot API call; what it returns is not read, so it is not parsed into objects."""
        fields: dict[str, Any] = {"chat_id": message.chat_id}
        if message.keyboard:  # none: an edit takes the buttons away
            fields["reply_markup"] = markup(message.keyboard)
        if message.op in ("edit", "keyboard"):
            assert message.message_id is not None
            fields["message_id"] = message.message_id
        if message.op in ("send", "edit"):
            fields |= {"text": message.text, "parse_mode": ParseMode.HTML}
        elif message.op != "keyboard":
            assert message.body is not None
            kind = "document" if message.op == "document" else "photo"
            fields[kind] = InputFile(message.body, filename=message.filename)
            if message.text:
                fields |= {"caption": message.text, "parse_mode": ParseMode.HTML}
        await self.bot.do_api_request(_METHODS[message.op], api_kwargs=fields)
