"""Telegram handlers for staff: a staff member's command, press or typed text → bot.staff.desk.

Registered in group -1, ahead of the child's conversation (group 0). An update is *taken* (handled
in its unit of work, then ApplicationHandlerStop) only when it is a staff matter of a staff
member; anything else falls through untouched to the child handlers.
"""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.staff.chat import Caller
from bot.staff.desk import COMMANDS, StaffDesk
from bot.transport.outbox import Outbox, Work
from handlers.telegram.render import OwesText, command_name, staff_lang

Context = ContextTypes.DEFAULT_TYPE


class StaffHandlers:
    def __init__(self, desk: StaffDesk, outbox: Outbox) -> None:
        self.desk, self.outbox = desk, outbox

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        application.add_handlers([
            CommandHandler(list(COMMANDS), self.on_command, filters=private),
            CallbackQueryHandler(self.on_press, pattern=r"^q"),
            MessageHandler(private & filters.TEXT & ~filters.COMMAND
                           & OwesText(self.desk.owes_text), self.on_text),
        ], group=-1)

    def schedule(self, job_queue: JobQueue) -> None:  # type: ignore[type-arg]
        """The moderators' digest, every `[moderation] digest_minutes`."""

        async def digest(context: Context) -> None:
            await self.desk.digest()

        job_queue.run_repeating(digest, interval=self.desk.digest_seconds,
                                first=self.desk.digest_seconds)

    def _caller(self, update: Update, context: Context, work: Work) -> Caller:
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        link = f"https://t.me/{context.bot.username}?start={{code}}"
        return Caller(user.id, chat.id, staff_lang(user, self.desk.catalog.texts.langs), work, link)

    async def _is_staff(self, update: Update) -> bool:
        user, chat = update.effective_user, update.effective_chat
        return user is not None and chat is not None and await self.desk.is_staff(user.id)

    async def on_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None or not await self._is_staff(update):
            return  # not staff: the child handlers answer "unknown command"
        name, args = command_name(message.text or ""), list(context.args or [])
        if name == "stats":  # read-only, and the chart takes a moment: drawn before the commit
            await self.outbox.work_first(update.update_id, lambda work: self.desk.stats(
                self._caller(update, context, work)))
        else:
            async with self.outbox.work(update.update_id) as work:
                if work.fresh:
                    await self.desk.command(self._caller(update, context, work), name, args)
        raise ApplicationHandlerStop

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self._is_staff(update):
            return  # the child handler answers it as any button it does not know
        with contextlib.suppress(BadRequest):  # too old to answer: the press still counts
            await query.answer()
        pressed = query.message
        card = (pressed.message_id if isinstance(pressed, Message) and pressed.reply_markup
                else None)
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.desk.press(self._caller(update, context, work), query.data or "",
                                      card)
        raise ApplicationHandlerStop

    async def on_text(self, update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None or not self.desk.owes_text(user.id):
            return  # not typed input a staff member owes: the child conversation takes it
        if not await self._is_staff(update):
            return
        async with self.outbox.work(update.update_id) as work:
            if work.fresh:
                await self.desk.typed(self._caller(update, context, work), message.text or "")
        raise ApplicationHandlerStop
