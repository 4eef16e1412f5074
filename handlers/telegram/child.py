"""Telegram handlers for the child's conversation: parse the update, call bot/, render the reply."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import cast

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation import engine
from bot.conversation.catalog import Catalog
from bot.conversation.service import Conversations, Pressed
from bot.safeguarding.detector import urgent
from bot.transport.inbox import Inbox
from bot.transport.outbox import Message as OutMessage
from bot.transport.outbox import Outbox
from storage import inbox as inbox_store

Context = ContextTypes.DEFAULT_TYPE
ENGINE_COMMANDS = ("help", "cancel", "language", "profile", "delete", "sos")
MEDIA_KINDS = ("sticker", "photo", "voice", "audio", "video", "video_note", "animation",
               "document", "location", "venue", "contact", "poll", "dice")


def is_urgent(update: Update) -> bool:
    """An update to read even in a flood: 🆘 or its answer pressed, a call for help or a
    disclosure typed (or written under a photo)."""
    if update.callback_query is not None:
        parsed = engine.parse_press(update.callback_query.data or "")
        return parsed is not None and parsed[1] in ("sos", "contact")
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    return bool(text) and urgent(text)


def _media_kind(message: Message) -> str:
    return next((kind for kind in MEDIA_KINDS if getattr(message, kind, None)), "other")


def _addressed_to(text: str, username: str) -> bool:
    """A command with no @mention, or one that mentions `username` (case-insensitive)."""
    if not text.startswith("/"):
        return False
    _, at, mention = text.split(maxsplit=1)[0].partition("@")
    return not at or mention.lower() == username.lower()


class ChildHandlers:
    """The private-chat conversation with a child (or anyone who is not acting as staff)."""

    def __init__(self, inbox: Inbox, outbox: Outbox, conversations: Conversations,
                 catalog: Catalog, surely_new: Callable[[int], bool] = lambda _: False) -> None:
        self.inbox, self.outbox, self.conversations, self.catalog = (
            inbox, outbox, conversations, catalog)
        self.surely_new = surely_new  # the receiving queue's word that an update is unhandled

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        handlers: list[BaseHandler] = [  # type: ignore[type-arg]
            CommandHandler("start", self.on_start, filters=private),
            CommandHandler(list(ENGINE_COMMANDS), self.on_command, filters=private),
            CommandHandler("my", self.on_my, filters=private),
            CallbackQueryHandler(self.on_press),  # staff buttons ("q…") are taken in group -1
            MessageHandler(private & filters.COMMAND, self.on_unknown_command),
            MessageHandler(private & filters.TEXT, self.on_text),
            MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE,
                           self.on_edited),
            MessageHandler(private, self.on_media),
        ]
        # Group -2: the gatekeeper; -1: staff (handlers/telegram/staff.py), who may take an update
        # first; 0: the child's conversation; 1: mark handled what nobody took.
        application.add_handler(TypeHandler(Update, self.gatekeeper), group=-2)
        application.add_handlers(handlers, group=0)
        application.add_handler(TypeHandler(Update, self.finish), group=1)

    async def gatekeeper(self, update: Update, context: Context) -> None:
        """Drop redelivered updates and keep group chats out of the flow (floods are cut short
        as they arrive: handlers/telegram/durable.py)."""
        if not self.surely_new(update.update_id) and await self.inbox.is_done(update.update_id):
            raise ApplicationHandlerStop
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._answer_group(update, context)
            raise ApplicationHandlerStop

    async def refuse_flood(self, update_id: int, chat_id: int, warn: bool) -> None:
        """An update past the flood limit: recorded as handled, not handled; the first one of a
        burst gets one "slow down"."""
        async with self.outbox.work(chat=chat_id) as work:
            if not await inbox_store.store(work.tx, update_id, {}):
                return  # a redelivery of an update seen before
            await inbox_store.mark_done(work.tx, update_id)
            if warn:
                await self.conversations.say(work, chat_id, "error.flood")

    async def _answer_group(self, update: Update, context: Context) -> None:
        """In a group, answer only commands meant for this bot (no @mention, or this bot's),
        pointing to a private chat; never run the flow. Other bots' commands are theirs."""
        message, chat = update.effective_message, update.effective_chat
        if update.callback_query:
            await self._answer_query(update)
        async with self.outbox.work(update.update_id) as work:
            if (work.fresh and chat and message and message.text
                    and _addressed_to(message.text, context.bot.username)):
                link = html.escape(f"https://t.me/{context.bot.username}?start=hi")
                work.add(OutMessage(chat.id, self.catalog.texts.both("group.private_only",
                                                                     link=link)))

    async def finish(self, update: Update, context: Context) -> None:
        """Mark handled whatever no handler took (blocked-bot notices and the like)."""
        if not await self.inbox.is_done(update.update_id):
            await self.inbox.finish(update.update_id)

    async def _run(self, update: Update, context: Context, event: engine.Event) -> None:
        chat = update.effective_chat
        assert chat is not None
        query = update.callback_query
        pressed = (Pressed(query.message.message_id, query.message.text_html)
                   if query and isinstance(query.message, Message) and query.message.text
                   else None)
        await self.outbox.handle(update.update_id, chat.id, lambda work: (
            self.conversations.handle(work, chat.id, event, pressed)))
        raise ApplicationHandlerStop  # handled and marked done: `finish` has nothing to do

    async def on_start(self, update: Update, context: Context) -> None:
        payload = context.args[0] if context.args else ""
        await self._run(update, context, engine.Start(payload))

    async def on_command(self, update: Update, context: Context) -> None:
        message = cast(Message, update.effective_message)
        name = (message.text or "/").split()[0][1:].split("@")[0].lower()
        await self._run(update, context, engine.Command(name))  # type: ignore[arg-type]

    async def on_text(self, update: Update, context: Context) -> None:
        message = cast(Message, update.effective_message)
        await self._run(update, context, engine.Text(message.text or ""))

    async def on_media(self, update: Update, context: Context) -> None:
        message = cast(Message, update.effective_message)
        await self._run(update, context, engine.Media(_media_kind(message),
                                                      message.caption or ""))

    async def on_press(self, update: Update, context: Context) -> None:
        await self._answer_query(update)
        query = update.callback_query
        assert query is not None
        await self._run(update, context, engine.Press(query.data or ""))

    async def _answer_query(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        try:
            await query.answer()
        except BadRequest:
            return  # too old, or answered before a restart: nothing left to stop spinning

    async def on_my(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        assert chat is not None
        await self.outbox.handle(update.update_id, chat.id, lambda work: (
            self.conversations.mine(work, chat.id)))

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        await self._say(update, context, "error.unknown_command")

    async def on_edited(self, update: Update, context: Context) -> None:
        chat, message = update.effective_chat, update.effective_message
        assert chat is not None and message is not None
        await self.outbox.handle(update.update_id, chat.id, lambda work: (
            self.conversations.edited(work, chat.id, message.text or "")))

    async def _say(self, update: Update, context: Context, key: str) -> None:
        """A fixed answer in the child's language, then where they were."""
        chat = update.effective_chat
        assert chat is not None
        await self.outbox.handle(update.update_id, chat.id, lambda work: (
            self.conversations.explain(work, chat.id, key)))
