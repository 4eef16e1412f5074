"""Telegram handlers for staff: a staff member's command, press or typed text → bot.staff.desk.

Registered in group -1, ahead of the child's conversation (group 0). An update is *taken* (handled
in its unit of work, then ApplicationHandlerStop) only when it is a staff matter of a staff
member; anything else falls through untouched to the child handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Message, Update
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
from handlers.telegram.render import (
    OwesText,
    command_name,
    staff_caller,
    staff_work,
    stop_spinner,
)

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
        return staff_caller(update, work, self.desk.catalog.texts.langs, _invite_link(context))

    async def _in_work(self, update: Update, context: Context,
                       act: Callable[[Caller], Awaitable[object]]) -> None:
        await staff_work(self.outbox, update, act, self.desk.catalog.texts.langs,
                         _invite_link(context))

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
                self._caller(update, context, work), args=args))
            raise ApplicationHandlerStop
        await self._in_work(update, context, lambda caller: self.desk.command(caller, name, args))

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or not await self._is_staff(update):
            return  # the child handler answers it as any button it does not know
        await stop_spinner(query)
        pressed = query.message
        card = (pressed.message_id if isinstance(pressed, Message) and pressed.reply_markup
                else None)
        await self._in_work(update, context, lambda caller: self.desk.press(
            caller, query.data or "", card))

    async def on_text(self, update: Update, context: Context) -> None:
        user, message = update.effective_user, update.effective_message
        if user is None or message is None or not self.desk.owes_text(user.id):
            return  # not typed input a staff member owes: the child conversation takes it
        if await self._is_staff(update):
            await self._in_work(update, context, lambda caller: self.desk.typed(
                caller, message.text or ""))


def _invite_link(context: Context) -> str:
    """The link an invite code is sent in: it opens the bot with the code."""
    return f"https://t.me/{context.bot.username}?start={{code}}"
