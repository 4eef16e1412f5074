"""Two `childforum run` workers in webhook mode behind one proxy, sharing one PostgreSQL database:
one chat's updates applied in order and once, a job run once, nothing lost when a worker is
SIGKILLed. The simulator pushes updates to the proxy as Telegram pushes them to a webhook."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.simulator import BotApiSimulator
from bot.simulator.webhooks import SECRET_HEADER
from bot.simulator.zalo import ZaloSimulator, now_ms
from handlers.zalo.channel import parse
from handlers.zalo.service import SECRET_HEADER as ZALO_SECRET_HEADER
from storage.db import open_database
from tests.e2e import BotProcess, Child, ZaloPerson, texts, write_config
from tests.stores import fresh_postgres, query

SECRET = "workers-secret-0123456789abcdef0123456789"
ADMIN = 123456789  # from config.example.toml: the whole province
pytestmark = pytest.mark.timeout(240)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Proxy:
    """A reverse proxy: each POST to the next worker in turn; a worker that does not answer is
    skipped (as a load balancer's health check would)."""

    def __init__(self, upstreams: list[str], header: str = SECRET_HEADER) -> None:
        self.upstreams, self.header = upstreams, header
        self.forwarded = [0] * len(upstreams)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/childforum"
        self._turn = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {self.header: request.headers.get(self.header, ""),
                   "Content-Type": "application/json"}
        for _ in self.upstreams:
            index = self._turn % len(self.upstreams)
            self._turn += 1
            try:
                async with self._session.post(self.upstreams[index], data=body,
                                              headers=headers) as answer:
                    if answer.status == 200:
                        self.forwarded[index] += 1
                        return web.Response(status=200)
            except (aiohttp.ClientError, OSError):
                continue
        return web.Response(status=502)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Proxy]:
        app = web.Application()
        app.router.add_post("/childforum", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            self._session = session
            try:
                yield self
            finally:
                await runner.cleanup()


def worker_config(folder: Path, simulator: BotApiSimulator, database: str, port: int,
                  proxy: Proxy, extra: str = "", **more: str) -> Path:
    """Webhook mode behind `proxy`, two workers; `extra` appended, `more` ({old: new}) more
    lines replaced."""
    folder.mkdir()
    return write_config(folder / "config.toml", simulator, database, extra, changes={
        **more,
        'mode = "polling"': 'mode = "webhook"',
        "port = 8443": f"port = {port}",
        'public_url = "https://forum.example.org/childforum"': f'public_url = "{proxy.url}"',
        "workers = 1": "workers = 2",
        "digest_minutes = 30": "digest_minutes = 0.05",
        "flood_messages = 20": "flood_messages = 500",
    })


@pytest.fixture
async def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[tuple[BotApiSimulator, Proxy, list[BotProcess], str]]:
    monkeypatch.setenv("CHILDFORUM_WEBHOOK_SECRET", SECRET)
    with fresh_postgres() as database:
        simulator = BotApiSimulator(push_webhooks=True)
        await simulator.start()
        ports = [free_port(), free_port()]
        proxy = Proxy([f"http://127.0.0.1:{port}/childforum" for port in ports])
        async with proxy.running():
            workers = [BotProcess(simulator, worker_config(tmp_path / name, simulator, database,
                                                           port, proxy), tmp_path / f"{name}.log")
                       for name, port in zip("ab", ports, strict=True)]
            try:
                for worker in workers:
                    await worker.start(ready_on="setWebhook")
                yield simulator, proxy, workers, database
            finally:
                for worker in workers:
                    await worker.stop()
        await simulator.stop()
        assert simulator.errors == [], simulator.errors


SEEN = "Con suối số {n} sau trường sâu lắm"
PROPOSAL = "Làm rào chắn ở con suối số {n}"


async def answer_back_to_back(simulator: BotApiSimulator | ZaloSimulator,
                              chats: Sequence[Any]) -> None:
    """Each chat's two answers sent back to back (to both workers in turn), then exactly one
    question after each, no more. A reply one worker queues while the other still sends that
    chat's earlier message goes at the other's next look at the table (within a second)."""
    before = {chat: len(simulator.messages(chat)) for chat in chats}
    for n, chat in enumerate(chats):
        simulator.send_text(chat, SEEN.format(n=n))
        simulator.send_text(chat, PROPOSAL.format(n=n))
    await simulator.wait_until(lambda: all(
        len(simulator.messages(chat)) >= before[chat] + 2 for chat in chats), 30)
    await simulator.wait_idle(quiet=1.5, timeout=30)
    for chat in chats:
        replies = simulator.new_messages(chat)
        assert len(replies) == 2, [m.plain for m in replies]


async def test_in_order_once_and_one_digest(
        cluster: tuple[BotApiSimulator, Proxy, list[BotProcess], str]) -> None:
    simulator, proxy, _, database = cluster
    assert "Không còn ý kiến nào" in texts(await Child(simulator, ADMIN).say("/queue"))
    children = [Child(simulator, 9300 + n) for n in range(8)]
    for child in children:
        await child.register()
        await child.tap("2.")
    # Each child's two answers back to back: the proxy hands them to different workers.
    await answer_back_to_back(simulator, [child.user_id for child in children])
    for child in children:
        await child.tap("Xã")
        await child.tap("✔️")
        await child.skip_to_review()
        assert "DHA-" in texts(await child.tap("✅"))
    stored = dict(query(database, "SELECT seen, proposal FROM proposals"))
    assert stored == {SEEN.format(n=n): PROPOSAL.format(n=n) for n in range(len(children))}
    assert query(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == [(0,)]
    assert min(proxy.forwarded) > 20  # both workers took their share

    def digests() -> list[str]:
        return [m.plain for m in simulator.messages(ADMIN) if "🔔" in m.plain]

    await simulator.wait_until(lambda: bool(digests()), 20)
    await simulator.wait_idle(quiet=7, timeout=20)  # more digest turns: nothing new to say
    # Each worker runs the digest job; only the one holding the jobs lock sends.
    assert sum(int(re.findall(r"\d+", text)[0]) for text in digests()) == len(children)


async def test_what_staff_are_asked_to_type_reaches_either_worker(
        cluster: tuple[BotApiSimulator, Proxy, list[BotProcess], str]) -> None:
    """A press that asks for a typed reason, and the reason, go to different workers in turn:
    the reason is taken as the reason every time, never as a child's message."""
    simulator, proxy, _, database = cluster
    children = [Child(simulator, 9400 + n) for n in range(3)]
    for child in children:
        await child.register()
        await child.tap("2.")
        await child.say(SEEN.format(n=child.user_id))
        await child.say(PROPOSAL.format(n=child.user_id))
        await child.tap("Xã")
        await child.tap("✔️")
        await child.skip_to_review()
        await child.tap("✅")
    admin = Child(simulator, ADMIN)

    async def step(act: Awaitable[object], done: Callable[[str], bool]) -> str:
        """What the admin was shown by `act`, once `done` says it came: a reply one worker
        queued while the other still sent this chat's earlier message goes at the other's next
        look at the table (a second later, more on a busy machine)."""
        start = len(simulator.messages(ADMIN))
        await act
        await simulator.wait_until(
            lambda: done(texts(simulator.messages(ADMIN)[start:])), 30)
        await simulator.wait_idle(quiet=0.5, timeout=30)
        simulator.new_messages(ADMIN)
        return texts(simulator.messages(ADMIN)[start:])

    def reasons_shown(_: str) -> bool:
        return any(label.startswith("Lý do khác")
                   for label, _ in admin.latest_keyboard().buttons())

    assert "DHA-0001" in await step(admin.say("/queue"), lambda shown: "DHA-0001" in shown)
    before = list(proxy.forwarded)
    for n in range(len(children)):
        await step(admin.tap("❌"), reasons_shown)
        await step(admin.tap("Lý do khác"), lambda shown: "Gõ lý do" in shown)
        after = await step(admin.say(f"Lý do số {n}: gửi lại khi đủ ý nhé"),
                           lambda shown: "Đã từ chối" in shown)
        assert "Em đồng ý" not in after, after
    assert all(now > then for now, then in zip(proxy.forwarded, before, strict=True))
    assert sorted(note for (note,) in query(
        database, "SELECT reject_note FROM proposals WHERE status = 'rejected'")) == [
        f"Lý do số {n}: gửi lại khi đủ ý nhé" for n in range(len(children))]
    assert query(database, "SELECT count(*) FROM staff_prompts") == [(0,)]


async def test_a_worker_killed_midway_loses_nothing(
        cluster: tuple[BotApiSimulator, Proxy, list[BotProcess], str]) -> None:
    simulator, proxy, workers, database = cluster
    expected = [m.plain for m in await Child(simulator, 9399).say("/start")]
    users = [9400 + n for n in range(12)]
    for user in users:
        simulator.send_text(user, "/start")
    await simulator.wait_until(lambda: proxy.forwarded[0] >= 3, 15)
    workers[0].kill()  # SIGKILL: what it took and had not handled or sent is on disk
    # The updates it acknowledged are handled by the other worker once they have waited too
    # long; the replies it queued are sent once its claim on them runs out.
    await simulator.wait_until(lambda: all(simulator.messages(user) for user in users), 90)
    assert query(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == [(0,)]
    # Rows the killed worker had claimed (sent or not) are settled once its claim runs out.
    await simulator.wait_until(lambda: query(
        database, "SELECT count(*) FROM outbox WHERE state = 'pending'") == [(0,)], 60)
    await simulator.wait_idle(quiet=2, timeout=30)
    for user in users:  # each got what one /start gets, in order, nothing lost
        got = [m.plain for m in simulator.messages(user)]
        # A message the killed worker had sent but not yet recorded as sent goes again once its
        # claim runs out: the Bot API has no idempotency key, delivery is at least once.
        assert list(dict.fromkeys(got)) == expected, user
        assert all(got.count(text) <= 2 for text in expected), user


async def test_zalo_events_reaching_either_worker_are_handled_in_order_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zalo: ZaloSimulator) -> None:
    """Zalo posts each event to the proxy, which hands them to the workers in turn: the worker
    holding the jobs lock handles them all from the inbox, each chat's in order, once."""
    monkeypatch.setenv("CHILDFORUM_WEBHOOK_SECRET", SECRET)
    with fresh_postgres() as database:
        simulator = BotApiSimulator(push_webhooks=True)
        await simulator.start()
        ports, zalo_ports = [free_port(), free_port()], [free_port(), free_port()]
        proxy = Proxy([f"http://127.0.0.1:{port}/childforum" for port in ports])
        zalo_proxy = Proxy([f"http://127.0.0.1:{port}/zalo" for port in zalo_ports],
                           ZALO_SECRET_HEADER)
        async with proxy.running(), zalo_proxy.running():
            workers = []
            for name, port, zalo_port in zip("ab", ports, zalo_ports, strict=True):
                config = worker_config(tmp_path / name, simulator, database, port, proxy)
                text = config.read_text(encoding="utf-8")
                for old, new in (("enabled = false", "enabled = true"),
                                 ('api_base_url = "https://bot-api.zaloplatforms.com/bot"',
                                  f'api_base_url = "{zalo.base_url}"'),
                                 ("port = 8444", f"port = {zalo_port}"),
                                 ('public_url = "https://forum.example.org/zalo"',
                                  f'public_url = "{zalo_proxy.url}"')):
                    text = text.replace(old, new)
                config.write_text(text, encoding="utf-8")
                workers.append(BotProcess(simulator, config, tmp_path / f"{name}.log"))
            try:
                for worker in workers:
                    await worker.start(ready_on="setWebhook")
                people = [ZaloPerson(zalo, 800 + n) for n in range(4)]
                for person in people:
                    await person.register()
                    await person.tap("2.")
                await answer_back_to_back(zalo, [person.id for person in people])
                assert min(zalo_proxy.forwarded) >= 8  # both workers took events in
                stored = dict(query(database, "SELECT seen, proposal FROM proposals"))
                assert stored == {}  # not sent yet: the draft is in each child's state
                assert query(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL"
                             " AND channel = 'zalo'") == [(0,)]
                for person in people:
                    await person.tap("Xã")
                    await person.tap("✔️")
                    await person.skip_to_review()
                    assert "DHA-" in texts(await person.tap("✅"))
                stored = dict(query(database, "SELECT seen, proposal FROM proposals"))
                assert stored == {SEEN.format(n=n): PROPOSAL.format(n=n)
                                  for n in range(len(people))}
                # A worker took an event in (inbox, 200) and died before handling it: the
                # worker handling events finds it in the inbox.
                late = people[0]
                body = {"ok": True, "result": {"event_name": "message.text.received", "message": {
                    "from": {"id": late.id, "display_name": "Em", "is_bot": False},
                    "chat": {"id": late.id, "chat_type": "PRIVATE"}, "text": "/my",
                    "message_id": "taken-in-by-a-dead-worker", "date": now_ms()}}}
                event = parse(body)
                assert event is not None
                query(database, "INSERT INTO inbox (update_id, payload, received_at, channel)"
                      " VALUES (?, ?, ?, 'zalo')", event.update_id, json.dumps(body),
                      "2026-01-01T00:00:00+00:00")
                await zalo.wait_until(lambda: bool(zalo.new_messages(late.id)), 10)
            finally:
                for worker in workers:
                    await worker.stop()
        await simulator.stop()


async def test_a_schedule_and_a_reminder_go_once_whatever_the_number_of_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workers plan the officer's weekly files and the deadline's reminders; only the one
    holding the jobs lock makes and sends them."""
    from tests.test_e2e_exports import (
        MODERATOR,
        OFFICER,
        PROPOSALS,
        documents,
        reminder_due_now,
        schedule_due_now,
    )
    from tests.test_schedule import KEY, seed

    monkeypatch.setenv("CHILDFORUM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CHILDFORUM_PSEUDONYM_KEY", KEY)
    (old, new), deadline = reminder_due_now()
    with fresh_postgres() as database:
        db = await open_database(database)
        await seed(db, PROPOSALS)
        await db.close()
        simulator = BotApiSimulator(push_webhooks=True)
        await simulator.start()
        for chat in (OFFICER, MODERATOR, ADMIN):
            simulator.add_chat(chat, "private")
        ports = [free_port(), free_port()]
        proxy = Proxy([f"http://127.0.0.1:{port}/childforum" for port in ports])
        async with proxy.running():
            workers = [BotProcess(simulator, worker_config(
                tmp_path / name, simulator, database, port, proxy,
                schedule_due_now('["csv"]') + deadline, **{old: new}), tmp_path / f"{name}.log")
                for name, port in zip("ab", ports, strict=True)]
            try:
                for worker in workers:
                    await worker.start(ready_on="setWebhook")
                await simulator.wait_until(lambda: len(documents(simulator, OFFICER)) >= 2
                                           and simulator.messages(MODERATOR) != []
                                           and simulator.messages(ADMIN) != [], timeout=40)
                await asyncio.sleep(3)  # the other worker's turn, had it one
                await simulator.wait_idle(quiet=1, timeout=20)
                names = sorted(str(m.filename) for m in documents(simulator, OFFICER))
                assert names == ["kien-nghi-DHA-2023.csv", "kien-nghi-KTM-2023.csv"]
                for chat in (MODERATOR, ADMIN):  # (the digest of new proposals comes too)
                    reminders = [m for m in simulator.messages(chat) if "đến hạn" in m.plain]
                    assert len(reminders) == 1, [m.plain for m in simulator.messages(chat)]
            finally:
                for worker in workers:
                    await worker.stop()
        await simulator.stop()
