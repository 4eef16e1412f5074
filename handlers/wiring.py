"""The one module that wires everything together: storage, services, handlers, jobs."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes
from telegram.request import BaseRequest

from bot.answers.desk import AnswerDesk
from bot.answers.imports import AnswerSheets
from bot.answers.service import Answers
from bot.compiling.desk import CompileDesk
from bot.compiling.service import Compiling
from bot.config import Config
from bot.conversation.catalog import Catalog, load_catalog
from bot.conversation.language import tag_language
from bot.conversation.service import Conversations
from bot.jobs.delivery import Delivery
from bot.localized import BASE_LANG
from bot.retention import purge_personal_data
from bot.safeguarding.cases import REPLY_PREFIX, Cases
from bot.safeguarding.desk import CaseDesk
from bot.safeguarding.model import shipped
from bot.staff.desk import StaffDesk
from bot.staff.moderation import Moderation
from bot.staff.prompts import Prompts
from bot.translating.desk import TranslateDesk
from bot.transport.channels import TELEGRAM, ZALO
from bot.transport.flood import FloodGuard
from bot.transport.health import HEARTBEAT_SECONDS, Health
from bot.transport.inbox import Inbox
from bot.transport.outbox import Courier, Outbox, Sender
from handlers.telegram.answers import AnswerHandlers
from handlers.telegram.cases import CaseHandlers
from handlers.telegram.child import ChildHandlers, is_urgent
from handlers.telegram.compiling import CompileHandlers
from handlers.telegram.courier import TelegramCourier
from handlers.telegram.durable import ChatOrderedProcessor, DurableQueue, RawUpdates
from handlers.telegram.exports import EXPORT_JOBS, ExportHandlers
from handlers.telegram.jobqueue import SharedJobQueue, rescue_stalled
from handlers.telegram.request import AiohttpRequest
from handlers.telegram.staff import StaffHandlers
from handlers.telegram.translating import TranslateHandlers
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.staff import StaffDesks
from storage import addresses, consent
from storage import heartbeat as beats
from storage import outbox as outbox_store
from storage.db import Database, is_unavailable, open_database

if TYPE_CHECKING:  # imported where Zalo is on (see _zalo)
    from handlers.zalo.service import ZaloService

log = logging.getLogger("childforum")
COMMANDS = ("start", "my", "sos", "help", "profile", "language", "cancel", "delete")


@dataclass
class BotServer:
    application: Application  # type: ignore[type-arg]
    db: Database
    queue: DurableQueue
    catalog: Catalog
    outbox: Outbox
    health: Health
    zalo: ZaloChannel | None = None  # [zalo] enabled: the same conversation on Zalo
    prompts: Prompts | None = None  # what staff were asked to type, read back at start


async def open_configured(config: Config) -> Database:
    """The config's database: the SQLite file, or the PostgreSQL server ([storage] url)."""
    return await open_database(config.database, config.database_password(), config.pool_size,
                               config.password_env)


async def open_bot(config: Config, token: str, *, base_url: str | None = None,
                   base_file_url: str | None = None,
                   request: BaseRequest | None = None) -> BotServer:
    """Open the database and build the Application with every handler registered.

    `request` replaces the HTTP client (benchmarks pass an in-process one).
    """
    db = await open_configured(config)
    try:
        return _build(db, config, token, base_url, base_file_url, request)
    except BaseException:
        await db.close()
        raise


def load_models() -> None:
    """The safeguarding and language models load now, not while the first child waits. Their
    files' parsing leaves memory that glibc keeps for the process; it goes back to the system
    (about 6 MB of the resting process: bench/README.md)."""
    shipped()
    tag_language("chào em")
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back
        ctypes.CDLL(None).malloc_trim(0)  # the process's own symbols: libc's among them


def _build(db: Database, config: Config, token: str, base_url: str | None,
           base_file_url: str | None, request: BaseRequest | None) -> BotServer:
    catalog = load_catalog(config)
    load_models()
    inbox = Inbox(db)
    health = Health(config.health_path, config.source)
    raw_updates = RawUpdates(request or AiohttpRequest(connection_pool_size=1))
    flood = FloodGuard(config.flood_messages, config.flood_seconds)
    queue = DurableQueue(inbox, raw_updates.payloads, health, flood)
    processor = ChatOrderedProcessor()
    builder = (
        Application.builder()
        .token(token)
        .base_url(base_url or config.api_base_url)
        .base_file_url(base_file_url or config.api_base_file_url)
        .update_queue(queue)
        .get_updates_request(raw_updates)
        .concurrent_updates(processor)
        .job_queue(SharedJobQueue(db, every_process=("forget_idle", EXPORT_JOBS)))
    )
    builder = builder.request(request or AiohttpRequest())
    application = builder.build()
    moderation = Moderation(db, config.staff, {d.code for d in config.districts},
                            areas=config.area_codes)
    outbox = Outbox(db, config.pacing, config.timetable.zone)
    outbox.health = health
    cases = Cases(db, moderation, outbox, catalog, config)
    conversations = Conversations(db, catalog, config, moderation, outbox, cases)
    queue.remember_fresh = config.workers == 1  # else another worker may handle it first
    child = ChildHandlers(inbox, outbox, conversations, catalog, queue.surely_new)
    child.register(application)
    queue.on_flood, queue.urgent = child.refuse_flood, is_urgent
    if config.workers > 1:
        processor.catch_up = _catching_up(application, inbox)
        rescue_stalled(application, inbox, queue)
    answers = Answers(db, catalog, config, moderation, outbox)
    sheets = AnswerSheets(answers, config, catalog)
    # The desks, one of each, worked from Telegram and from Zalo alike.
    desks = StaffDesks(StaffDesk(moderation, catalog, outbox, config, cases),
                      AnswerDesk(answers, sheets, catalog, config),
                      CaseDesk(cases, catalog, config),
                      TranslateDesk(db, moderation, catalog, config, cases),
                      CompileDesk(Compiling(db, moderation), catalog, config))
    desks.staff.other_digests.append(desks.translating.digest)
    # What staff were asked to type: kept with each update's commit, read back at start, and
    # with several workers read before each update of a private chat.
    prompts = Prompts(db, {"staff": desks.staff.pending, "answers": desks.answers,
                           "cases": desks.cases.typing, "translating": desks.translating,
                           "case_reply": conversations.replying}, shared=config.workers > 1,
                      presses={"q": "staff", "n|": "answers", "p|": "answers", "i|": "answers",
                               "c|": "cases", f"{REPLY_PREFIX}|": "case_reply"})
    desks.prompts = prompts
    processor.before_chat = prompts.enter
    outbox.settle, outbox.restore = prompts.settle, prompts.restore
    AnswerHandlers(desks.answers, conversations, outbox).register(application)
    CaseHandlers(desks.cases, outbox).register(application)
    CompileHandlers(desks.compiling, outbox).register(application)
    TranslateHandlers(desks.translating, outbox).register(application)
    staff = StaffHandlers(desks.staff, outbox)
    staff.register(application)
    assert application.job_queue is not None
    staff.schedule(application.job_queue)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log, apologise once, and end the update's processing here.

        Without ApplicationHandlerStop, PTB would carry on with the next handler group: after a
        failed staff handler (group -1) the child conversation (group 0) would answer too.

        When the database is what failed, the update is not lost: it stays unhandled in the
        inbox and is queued again after a pause. Any other error is a bug: the update is marked
        done with the apology (so a poison update is not replayed at every start).

        A job's error: the database down is one line (none once Health said so) and the job runs
        at its next turn; any other error is a bug, logged with its traceback.
        """
        if not isinstance(update, Update):  # a job's error: no update to answer or stop
            job = context.job.name if context.job is not None else "a job"
            if context.error is not None and is_unavailable(context.error):
                # An outage, not a bug: said once (Health); the job runs again at its next turn.
                if health.ok:
                    log.warning("Job %s did not run: the database is unavailable (%s); it runs"
                                " again at its next turn", job,
                                str(context.error).strip().split("\n", 1)[0])
                return
            log.error("Error in job %s", job, exc_info=context.error)
            return
        if context.error is not None and is_unavailable(context.error):
            health.down("handling an update", context.error)
            application.create_task(_again_later(queue, update),
                                    name=f"retry-update-{update.update_id}")
            raise ApplicationHandlerStop
        log.error("Error while handling update %d", update.update_id, exc_info=context.error)
        chat = update.effective_chat
        try:
            async with outbox.work(update.update_id) as work:
                if work.fresh and chat is not None:
                    await conversations.apologise(work, chat.id, staff=await moderation.is_staff(
                        update.effective_user.id if update.effective_user else 0))
        except Exception:  # the database itself may be what failed: nothing more to do
            log.exception("Could not record the error of update %d", update.update_id)
        raise ApplicationHandlerStop

    exports = ExportHandlers(Delivery(db, config, catalog, moderation, outbox), catalog, outbox)
    exports.register(application)  # /export (group -1), the scheduled exports and reminders
    application.add_error_handler(on_error)
    _schedule_housekeeping(application, inbox, flood, db, config.retention_days,
                           [member.user_id for member in config.staff])
    _schedule_cases(application, cases, config)
    zalo = (ZaloChannel(inbox, outbox, conversations, catalog, desks, health=health,
                        handles=db.holds_jobs if config.workers > 1 else None)
            if config.zalo.enabled else None)
    return BotServer(application, db, queue, catalog, outbox, health, zalo, prompts)


def _schedule_housekeeping(application: Application, inbox: Inbox,  # type: ignore[type-arg]
                           flood: FloodGuard, db: Database, retention_days: int,
                           staff: list[int]) -> None:
    """Daily: forget handled update ids after a week and people past the retention period.
    Every few minutes: forget idle flood counters."""
    assert application.job_queue is not None

    async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
        forgotten = await purge_personal_data(db, retention_days, staff=staff)
        if forgotten:
            log.info("Retention: forgot %d people inactive for %d days", forgotten,
                     retention_days)

    async def prune_inbox(context: ContextTypes.DEFAULT_TYPE) -> None:
        await inbox.prune(keep_days=7)

    async def forget_idle(context: ContextTypes.DEFAULT_TYPE) -> None:
        flood.forget_idle(time.monotonic())

    async def forget_half_consents(context: ContextTypes.DEFAULT_TYPE) -> None:
        day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
        async with db.transaction() as tx:
            await consent.purge(tx, day_ago)

    async def forget_erased_addresses(context: ContextTypes.DEFAULT_TYPE) -> None:
        """An erased person's Zalo id goes once the goodbye is out (a day at most), and the
        record of the goodbye itself (any channel) once it is sent."""
        day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
        async with db.transaction() as tx:
            await addresses.sweep(tx, day_ago)
            await outbox_store.forget_farewells(tx)

    application.job_queue.run_repeating(prune_inbox, interval=24 * 3600, first=60)
    application.job_queue.run_repeating(forget_half_consents, interval=3600, first=180)
    application.job_queue.run_repeating(forget_erased_addresses, interval=60, first=60)
    application.job_queue.run_repeating(purge, interval=24 * 3600, first=120)
    application.job_queue.run_repeating(forget_idle, interval=300, first=300, name="forget_idle")


def _schedule_cases(application: Application, cases: Cases,  # type: ignore[type-arg]
                    config: Config) -> None:
    """Every minute: cases nobody took in time go to the admins. Daily: closed cases' words go."""
    assert application.job_queue is not None

    async def escalate(context: ContextTypes.DEFAULT_TYPE) -> None:
        late = await cases.escalate(config.escalate_minutes)
        if late:
            log.warning("Safeguarding: %d cases nobody took in %g minutes went to the admins",
                        late, config.escalate_minutes)

    async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
        await cases.purge(config.purge_days)

    application.job_queue.run_repeating(escalate, interval=60, first=30)
    application.job_queue.run_repeating(purge, interval=24 * 3600, first=240)


def _catching_up(application: Application, inbox: Inbox  # type: ignore[type-arg]
                 ) -> Callable[[Update], Awaitable[None]]:
    """Before an update: the same chat's earlier updates that another worker received and has
    not applied yet (see ChatOrderedProcessor)."""

    async def catch_up(update: Update) -> None:
        assert update.effective_chat is not None
        for payload in await inbox.earlier(update.effective_chat.id, update.update_id):
            await application.process_update(Update.de_json(payload, application.bot))

    return catch_up


async def _again_later(queue: DurableQueue, update: Update, pause: float = 2.0) -> None:
    """Queue an update again once the database had a moment (it is still unhandled)."""
    await asyncio.sleep(pause)
    await queue.again(update)


async def _stopped(server: BotServer) -> None:
    """The heartbeat file and row say the bot stopped (`childforum move-to-postgres` waits for
    it); a database that is down by now is told nothing."""
    server.health.beat(stopped=True)
    try:
        async with server.db.transaction() as tx:
            await beats.stopped(tx)
    except Exception as error:
        if not is_unavailable(error):
            raise


async def _heartbeat(server: BotServer, sender: Sender) -> None:
    """Every few seconds: a small write proves the database takes writes; then the heartbeat
    file says how things are (`childforum health` reads it)."""
    while True:
        try:
            async with server.db.transaction() as tx:
                await beats.beat(tx)
            server.health.up("the heartbeat write")
        except Exception as error:
            if not is_unavailable(error):
                raise
            server.health.down("the heartbeat write", error)
        server.health.backlog = sender.backlog
        server.health.beat()
        await asyncio.sleep(HEARTBEAT_SECONDS)


async def _set_commands(server: BotServer) -> None:
    texts, bot = server.catalog.texts, server.application.bot
    for lang in texts.langs:
        if len(lang) != 2:  # Telegram names a language by a two-letter ISO 639-1 code only
            continue
        commands = [BotCommand(name, texts.get_at(f"command.{name}", lang,
                                                  server.catalog.area_level))
                    for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=None if lang == BASE_LANG else lang)


def _zalo(server: BotServer, config: Config,
          couriers: dict[str, Courier]) -> ZaloService | None:
    """The Zalo channel's service, its courier added to `couriers` (None: Zalo is off)."""
    if server.zalo is None:
        return None
    # Loaded only where Zalo is on (its web server, client and courier).
    from handlers.zalo.client import ZaloClient
    from handlers.zalo.courier import ZaloCourier
    from handlers.zalo.service import ZaloService

    token = config.zalo.token()
    assert token is not None  # Config.zalo.problem() refused to start without one
    client = ZaloClient(token, config.zalo.api_base_url)
    couriers[ZALO] = ZaloCourier(client, server.db)
    server.zalo.telegram_link = f"https://t.me/{server.application.bot.username}"
    return ZaloService(server.zalo, client, config.zalo)


async def serve(server: BotServer, config: Config, stop: asyncio.Event) -> None:
    """Run the bot (long polling or webhook) until `stop` is set, then shut down cleanly."""
    application = server.application
    assert application.updater is not None
    try:
        async with application:
            await _set_commands(server)
            couriers: dict[str, Courier] = {TELEGRAM: TelegramCourier(application.bot)}
            zalo = _zalo(server, config, couriers)
            sender = Sender(server.db, couriers,
                            config.pacing.share(config.workers), config.timetable.zone,
                            sole=server.db.dialect == "sqlite", health=server.health)
            server.outbox.sender = sender
            await sender.start()
            heartbeat = asyncio.create_task(_heartbeat(server, sender), name="heartbeat")
            try:
                if server.prompts is not None:
                    await server.prompts.pull_all()
                if zalo is not None:
                    await zalo.start()
                replayed = await server.queue.replay(application.bot)
                if replayed:
                    log.info("Replaying %d updates received before the last stop", replayed)
                await application.start()
                if config.mode == "webhook":
                    hook = config.webhook
                    await application.updater.start_webhook(
                        listen=hook.listen, port=hook.port, url_path=hook.url_path,
                        webhook_url=hook.public_url, secret_token=config.webhook_secret(),
                        allowed_updates=Update.ALL_TYPES)
                else:
                    await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
                log.info("childforum is running (%s)", config.mode)
                await stop.wait()
            finally:  # stopped, or a start that failed: nothing left running on a closed database
                if zalo is not None:
                    await zalo.stop()
                if application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                await sender.stop()
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await heartbeat  # its transaction rolled back before the last one begins
                await _stopped(server)
    finally:
        # A start that failed at getMe (no network, a refused token) leaves the bot's HTTP
        # sessions open: PTB's shutdown skips an Application it never initialized. Idempotent.
        await application.bot.shutdown()
        await server.db.close()
