"""Faults, as an attacker and a crashing machine would bring them: the database going away, kills
between a commit and its send, forged and stale presses, floods, one chat's 429, characters XML
cannot hold, numbers that are not ASCII digits, and the export command line."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import docx
import openpyxl
import pytest

from bot.simulator import BotApiSimulator
from tests.e2e import ROOT, TOKEN, BotProcess, Child, texts, write_config
from tests.test_e2e_webhook import free_port

ADMIN, MODERATOR = 123456789, 234567890  # config.example.toml: whole province; DHA and KTM
KEY = "a-long-enough-pseudonym-key-for-tests"


def rows(database: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, params).fetchall()


def cli(*args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CHILDFORUM_PSEUDONYM_KEY": KEY, **(env or {})}
    return subprocess.run([sys.executable, "-m", "handlers.cli", *args], capture_output=True,
                          text=True, env=environment, cwd=ROOT, timeout=timeout)


@pytest.fixture
async def fast_bot(simulator: BotApiSimulator, database: Path, tmp_path: Path
                   ) -> AsyncIterator[BotProcess]:
    """The bot with a high flood limit (these tests press fast) and no pacing."""
    config = write_config(tmp_path / "config.toml", simulator, database,
                          changes={"flood_messages = 20": "flood_messages = 500"})
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    await process.start()
    yield process
    await process.stop()


# --- 1, 2: the database goes away, at work and at start -----------------------------------------

async def test_a_locked_database_pauses_the_bot_which_then_carries_on_by_itself(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path, tmp_path: Path) -> None:
    child = Child(simulator, 7001)
    await child.say("/start")
    config = str(tmp_path / "config.toml")
    assert cli("health", "--config", config).returncode == 0
    blocker = sqlite3.connect(database, timeout=1, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock, past 5 s
    try:
        simulator.send_text(7001, "/help")
        await asyncio.sleep(7)
        assert simulator.new_messages(7001) == []  # nothing answered, nothing lost
        assert simulator.pending_updates  # Telegram still holds it unconfirmed
        sick = cli("health", "--config", config)
        assert sick.returncode == 1 and "database unavailable" in sick.stderr, sick
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    replies = await simulator.wait_for_messages(7001, 1, timeout=40)
    assert "Em đồng ý" in texts(replies)  # the /help, answered once the lock went
    await simulator.wait_until(lambda: cli("health", "--config", config).returncode == 0,
                               timeout=30)
    log = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert log.count("The database is unavailable") == 1, log  # once per outage
    assert "The database is back" in log


@pytest.mark.parametrize("trouble", ["corrupt", "locked"])
async def test_a_bad_database_at_start_exits_at_once_with_one_line(
        simulator: BotApiSimulator, tmp_path: Path, trouble: str) -> None:
    database = tmp_path / "forum.sqlite3"
    config = write_config(tmp_path / "config.toml", simulator, database)
    blocker = None
    if trouble == "corrupt":
        database.write_bytes(b"this is not a database, just some bytes " * 200)
    else:
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("CREATE TABLE x (y)")
        blocker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    done = cli("run", "--config", str(config), env={"CHILDFORUM_TOKEN": TOKEN}, timeout=30)
    took = time.monotonic() - started
    if blocker is not None:
        blocker.close()
    assert done.returncode != 0 and took < 20, (took, done)  # the busy timeout is 5 s
    problem = done.stderr.strip().splitlines()
    assert len(problem) == 1 and "cannot use the database" in problem[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("trouble", ["unreachable", "refused"])
async def test_a_bot_api_that_fails_the_start_exits_with_one_line(
        simulator: BotApiSimulator, tmp_path: Path, trouble: str) -> None:
    """No network (nothing listens at the API's address) or a token the API refuses: one line
    saying which, and nothing after it (the HTTP sessions opened for getMe are closed)."""
    changes = {}
    if trouble == "unreachable":
        changes = {f'api_base_url = "{simulator.base_url}"':
                   f'api_base_url = "http://127.0.0.1:{free_port()}/bot"'}
    config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                          changes=changes)
    token = TOKEN if trouble == "unreachable" else "not-a-token"
    done = await asyncio.to_thread(  # the simulator answers in this loop meanwhile
        cli, "run", "--config", str(config), env={"CHILDFORUM_TOKEN": token}, timeout=60)
    simulator.errors.clear()  # the refused token was the point
    assert done.returncode == 1, done
    said = "could not be reached" if trouble == "unreachable" else "refused to start the bot"
    problem = done.stderr.strip().splitlines()
    assert len(problem) == 1 and said in problem[0], done.stderr
    assert token not in done.stderr  # a secret: never in the journal


# --- 3: webhook mode needs its secret ------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "short-secret"])
async def test_webhook_mode_refuses_to_start_without_a_long_secret(
        simulator: BotApiSimulator, tmp_path: Path, secret: str | None) -> None:
    config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                          changes={'mode = "polling"': 'mode = "webhook"',
                                   "port = 8443": f"port = {free_port()}"})
    env = {"CHILDFORUM_TOKEN": TOKEN, "CHILDFORUM_WEBHOOK_SECRET": secret or ""}
    done = cli("run", "--config", str(config), env=env, timeout=30)
    assert done.returncode == 2 and "CHILDFORUM_WEBHOOK_SECRET" in done.stderr, done
    assert not [m for m, _ in simulator.requests if m == "setWebhook"]


async def test_a_webhook_port_another_process_holds_is_one_line_before_anything_is_set(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as holder:  # another process's, say
        port = holder.getsockname()[1]
        config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                              changes={'mode = "polling"': 'mode = "webhook"',
                                       "port = 8443": f"port = {port}"})
        env = {"CHILDFORUM_TOKEN": TOKEN, "CHILDFORUM_WEBHOOK_SECRET": "s" * 40}
        done = await asyncio.to_thread(cli, "run", "--config", str(config), env=env,
                                       timeout=30)
    assert done.returncode == 2, done
    problem = done.stderr.strip().splitlines()
    assert len(problem) == 1 and f"cannot listen on 127.0.0.1:{port}" in problem[0], done.stderr
    assert not [m for m, _ in simulator.requests if m == "setWebhook"]


async def test_a_webhook_update_with_an_impossible_id_is_ignored(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    port = free_port()
    secret = "s" * 40
    config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                          changes={'mode = "polling"': 'mode = "webhook"',
                                   "port = 8443": f"port = {port}"})
    os.environ["CHILDFORUM_WEBHOOK_SECRET"] = secret
    process = BotProcess(simulator, config, tmp_path / "bot.log")
    try:
        await process.start(ready_on="setWebhook")
        update = simulator.send_text(7101, "/start")
        async with aiohttp.ClientSession() as http:
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            huge = await http.post(f"http://127.0.0.1:{port}/childforum",
                                   json={**update, "update_id": 2**70}, headers=headers)
            assert huge.status == 200
            fine = await http.post(f"http://127.0.0.1:{port}/childforum", json=update,
                                   headers=headers)
            assert fine.status == 200
        assert "Em có đồng ý" in texts(await simulator.wait_for_messages(7101, 1, timeout=15))
    finally:
        os.environ.pop("CHILDFORUM_WEBHOOK_SECRET", None)
        await process.stop()
    assert "impossible id" in (tmp_path / "bot.log").read_text(encoding="utf-8")


# --- 4, 5: a kill between a commit and its send ---------------------------------------------------

async def committed(database: Path, chat_id: int, simulator: BotApiSimulator) -> None:
    await simulator.wait_until(lambda: bool(rows(
        database, "SELECT 1 FROM outbox WHERE chat_id = ? AND state = 'pending'", chat_id)),
        timeout=20)


async def test_a_kill_between_a_staff_commit_and_its_send_repeats_nothing_and_loses_nothing(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    child = Child(simulator, 7201)
    await child.register()
    await child.answer_topic("2.", "Suối gần trường sâu", "Làm rào chắn", "Xã")
    await child.tap("✅")
    moderator = Child(simulator, MODERATOR)
    card = (await moderator.say("/queue"))[-1]
    # The moderator's and the child's chats stall: the approval commits, its messages wait.
    simulator.hold(MODERATOR)
    simulator.hold(7201)
    approve = next(data for label, data in card.buttons() if label.startswith("✅"))
    simulator.press(MODERATOR, card.message_id, approve)
    await committed(database, 7201, simulator)
    fast_bot.kill()
    await fast_bot.process.wait()  # type: ignore[union-attr]
    simulator.release(MODERATOR)
    simulator.release(7201)
    await fast_bot.start()
    notice = await simulator.wait_for_messages(7201, 1, timeout=30)
    assert "đã được chấp nhận" in texts(notice), texts(notice)
    await simulator.wait_idle(quiet=0.5, timeout=20)
    said = texts(simulator.new_messages(MODERATOR))
    assert "trước" not in said and "already" not in said  # no "already approved by you"
    assert rows(database, "SELECT count(*) FROM audit_log WHERE action = 'approve'") == [(1,)]

    # /grant, killed the same way: one grant, one audit row, and the admin hears of it.
    admin = Child(simulator, ADMIN)
    simulator.hold(ADMIN)
    simulator.send_text(ADMIN, "/grant 7777 officer DHA")
    await committed(database, ADMIN, simulator)
    fast_bot.kill()
    await fast_bot.process.wait()  # type: ignore[union-attr]
    simulator.release(ADMIN)
    await fast_bot.start()
    granted = await simulator.wait_for_messages(ADMIN, 1, timeout=30)
    assert "7777" in texts(granted)
    assert rows(database, "SELECT count(*) FROM staff_grants WHERE user_id = 7777") == [(1,)]
    assert rows(database, "SELECT count(*) FROM audit_log WHERE action = 'grant'") == [(1,)]
    await admin.say("/help")  # the bot goes on
    simulator.errors.clear()  # presses answered twice across the kills: refused, harmless


async def test_a_reason_asked_before_a_restart_is_taken_after_it(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    """What a moderator was asked to type is kept in the database: after a restart their text is
    still the reason, not a message to the child conversation."""
    child = Child(simulator, 7202)
    await child.register()
    await child.answer_topic("2.", "Suối gần trường sâu", "Làm rào chắn", "Xã")
    await child.tap("✅")
    moderator = Child(simulator, MODERATOR)
    await moderator.say("/queue")
    await moderator.tap("❌")
    assert "Gõ lý do" in texts(await moderator.tap("Lý do khác"))
    assert rows(database, "SELECT count(*) FROM staff_prompts") == [(1,)]
    fast_bot.kill()
    await fast_bot.process.wait()  # type: ignore[union-attr]
    await fast_bot.start()
    said = texts(await moderator.say("Em gửi lại khi đủ ý nhé"))
    assert "Đã từ chối" in said, said
    assert rows(database, "SELECT reject_note FROM proposals") == [("Em gửi lại khi đủ ý nhé",)]
    assert rows(database, "SELECT count(*) FROM staff_prompts") == [(0,)]


async def test_a_kill_after_an_export_file_is_queued_sends_it_once(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    """/export in chat: the file is queued with the update marked done; a kill before it goes
    out sends it after the restart, once (issue 8: no file sent twice)."""
    child = Child(simulator, 7212)
    await child.register()
    await child.answer_topic("2.", "Suối gần trường sâu", "Làm rào chắn", "Xã")
    await child.tap("✅")
    admin = Child(simulator, ADMIN)
    await admin.say("/export")
    for label in ("Huyện Đắk Hà", "Word", "⬜ chờ duyệt", "Tiếp"):  # (a report: no key needed)
        await admin.tap(label)
    latest = admin.latest_keyboard()
    simulator.hold(ADMIN)  # the admin's chat stalls: the file, once queued, waits
    simulator.press_button(ADMIN, "Năm diễn đàn 2023", message_id=latest.message_id)
    await simulator.wait_until(lambda: bool(rows(
        database, "SELECT 1 FROM outbox WHERE chat_id = ? AND state = 'pending'"
        " AND body IS NOT NULL", ADMIN)), timeout=30)
    fast_bot.kill()
    await fast_bot.process.wait()  # type: ignore[union-attr]
    simulator.release(ADMIN)
    await fast_bot.start()
    await simulator.wait_until(lambda: any(m.document for m in simulator.messages(ADMIN)), 30)
    await simulator.wait_idle(quiet=1.0, timeout=30)
    files = [m for m in simulator.messages(ADMIN) if m.document]
    assert len(files) == 1 and (files[0].filename or "").endswith(".docx")
    simulator.errors.clear()  # the press answered again after the restart: harmless


@pytest.mark.timeout(300)  # twenty restarts of the bot: two minutes on a loaded machine
async def test_no_action_goes_without_a_reply_across_kills(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    """Kill the bot at random moments right after a child acts; every action gets a reply."""
    child = Child(simulator, 7301)
    await child.register()
    rng = random.Random(8)
    actions = ["/help", "/my", "xin chào", "/profile", "/cancel", "/help", "/language",
               "/cancel", "/my", "chào bot"] * 2  # 20 kills
    missing = []
    for number, action in enumerate(actions):
        before = len(simulator.messages(7301))
        simulator.send_text(7301, action)
        await asyncio.sleep(rng.uniform(0.0, 0.08))
        fast_bot.kill()
        await fast_bot.process.wait()  # type: ignore[union-attr]
        await fast_bot.start()
        try:
            await simulator.wait_until(lambda b=before: len(simulator.messages(7301)) > b,
                                       timeout=20)
        except TimeoutError:
            missing.append((number, action))
    assert missing == []
    await simulator.wait_until(lambda: rows(
        database, "SELECT count(*) FROM outbox WHERE state = 'pending'") == [(0,)], timeout=20)
    simulator.errors.clear()  # edits and presses repeated across the kills


async def test_a_topic_journey_killed_after_every_step_sends_one_proposal(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    """A kill right after each step of a topic (presses and typed answers): every step is
    answered, the answers are all kept, one proposal is stored."""
    child = Child(simulator, 7311)
    await child.register()
    rng = random.Random(11)
    steps: list[tuple[str, str]] = [("tap", "2."), ("say", "Suối gần trường sâu"),
                                    ("say", "Làm rào chắn"), ("tap", "Xã"), ("tap", "✔️"),
                                    ("tap", "⏭"), ("tap", "✅")]
    def seen() -> tuple[int, object]:  # a new message, or the pressed keyboard changed
        messages = simulator.messages(7311)
        return len(messages), [m.buttons() for m in messages[-2:]]

    for kind, value in steps:
        before = seen()
        if kind == "say":
            simulator.send_text(7311, value)
        else:
            latest = child.latest_keyboard()
            label = next(found for found, _ in latest.buttons() if found.startswith(value))
            simulator.press_button(7311, label, message_id=latest.message_id)
        await asyncio.sleep(rng.uniform(0.0, 0.08))
        fast_bot.kill()
        await fast_bot.process.wait()  # type: ignore[union-attr]
        await fast_bot.start()
        await simulator.wait_until(lambda b=before: seen() != b, 20)
        await simulator.wait_idle(quiet=0.3, timeout=20)
    assert "DHA-0001" in texts(simulator.messages(7311)[-3:])
    assert rows(database, "SELECT ref, seen, proposal, actors FROM proposals") == [
        ("DHA-0001", "Suối gần trường sâu", "Làm rào chắn", "commune")]
    simulator.errors.clear()  # presses answered twice across the kills: refused, harmless


# --- 6: consent needs the child's own step first -------------------------------------------------

async def test_forged_and_stale_guardian_presses_record_no_consent(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    simulator.send_text(7401, "/start")
    await simulator.wait_for_messages(7401, 1)
    simulator.press(7401, 99, "0|guardian|yes")  # forged: no "I agree" before it
    assert "bắt đầu lại" in texts(await simulator.wait_for_messages(7401, 2))
    assert rows(database, "SELECT count(*) FROM children WHERE chat_id = 7401") == [(0,)]

    child = Child(simulator, 7402)
    await child.say("/start")
    guardian = (await child.tap("Em đồng ý"))[-1]  # the guardian question, with its buttons
    assert "không giữ thông tin nào" in texts(await child.say("/delete"))
    yes = next(data for label, data in guardian.buttons() if label.startswith("Có"))
    simulator.press(7402, guardian.message_id, yes)  # the old button, after /delete
    await simulator.wait_for_messages(7402, 1)
    assert rows(database, "SELECT count(*) FROM children WHERE chat_id = 7402") == [(0,)]
    assert rows(database, "SELECT count(*) FROM consent_steps") == [(0,)]


# --- 7: one chat's 429 and a flood ---------------------------------------------------------------

async def test_one_chats_429_does_not_delay_another_childs_reply(
        simulator: BotApiSimulator, fast_bot: BotProcess) -> None:
    for chat in (7501, 7502):
        await Child(simulator, chat).say("/start")
    simulator.fail_next(7501, 429, retry_after=6)
    started = time.monotonic()
    simulator.send_text(7501, "/help")
    simulator.send_text(7502, "/help")
    await simulator.wait_for_messages(7502, 1, timeout=10)
    other = time.monotonic() - started
    await simulator.wait_for_messages(7501, 1, timeout=20)
    limited = time.monotonic() - started
    assert other < 2.0 and limited >= 6.0, (other, limited)
    simulator.errors.clear()  # the injected 429


async def test_a_flood_is_cut_short_as_it_arrives(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    """The default limit, 20 messages in 10 seconds: 200 at once get about 20 answers."""
    await Child(simulator, 7601).say("/start")
    simulator.new_messages(7601)
    started = time.monotonic()
    for number in range(200):
        simulator.send_text(7601, f"tin nhắn {number}")
    await simulator.wait_idle(quiet=1.0, timeout=60)
    took = time.monotonic() - started
    answers = simulator.new_messages(7601)
    assert sum("Em gửi nhanh quá" in m.plain for m in answers) == 1
    assert len(answers) <= 2 * 20 + 1, len(answers)
    assert took < 20, took
    assert rows(database, "SELECT count(*) FROM inbox WHERE done_at IS NULL") == [(0,)]


async def test_in_a_flood_a_call_for_help_and_a_disclosure_are_still_read(
        simulator: BotApiSimulator, bot: BotProcess, database: Path) -> None:
    """A child types fast: past the limit, "/sos" and a disclosure still reach a person (a case
    each, the hotline), while the rest of the flood is cut short. (The flood's lines are
    ordinary ones: "em sợ lắm 1", "I'm so scared", is itself read past the limit once the
    detector weighs it, as it did from 2026-12-01.)"""
    child = Child(simulator, 7602)
    await child.register()
    simulator.new_messages(7602)
    for number in range(30):
        simulator.send_text(7602, f"alo alo {number}")
    simulator.send_text(7602, "bố em say rượu đánh em chảy máu, em không dám về nhà")
    simulator.send_text(7602, "/sos")
    await simulator.wait_idle(quiet=1.0, timeout=60)
    answers = " ".join(m.plain for m in simulator.new_messages(7602))
    assert "Em gửi nhanh quá" in answers and "111" in answers
    assert rows(database, "SELECT source FROM cases ORDER BY id") == [("detector",), ("sos",)]


# --- 8, 9: what a child may type -------------------------------------------------------------

async def test_characters_xml_cannot_hold_never_break_the_exports(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path,
        tmp_path: Path) -> None:
    child = Child(simulator, 7701)
    await child.register()
    await child.answer_topic("2.", "Đường \uffff trơn\ufffe lắm \x07", "Cần biển báo \ud7ff ok",
                             "Xã")
    await child.tap("✅")
    await asyncio.sleep(0.3)
    seen = rows(database, "SELECT seen FROM proposals")[0][0]
    assert seen == "Đường trơn lắm", seen  # stripped on the way in
    # And a row that got them some other way (an older version, an edit) is guarded on the way out.
    rows(database, "UPDATE proposals SET status = 'approved', proposal = 'x\uffffy'")
    for fmt in ("xlsx", "docx"):
        out = tmp_path / f"out.{fmt}"
        done = cli("export", "--config", str(tmp_path / "config.toml"), "--format", fmt,
                   "--out", str(out))
        assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    assert any("xy" in str(cell.value) for sheet in book for row in sheet.iter_rows()
               for cell in row)
    report = docx.Document(str(tmp_path / "out.docx"))
    written = "\n".join([p.text for p in report.paragraphs] + [
        cell.text for table in report.tables for row in table.rows for cell in row.cells])
    assert "xy" in written


async def test_numbers_that_are_not_ascii_digits_get_a_kind_answer(
        simulator: BotApiSimulator, fast_bot: BotProcess, database: Path) -> None:
    child = Child(simulator, 7801)
    await child.register()
    for typed in ("①", "²", "⁵", "٣"):
        answer = texts(await child.say(typed))  # at the topic menu
        assert "chọn" in answer, answer
    simulator.press(7801, 1, "①|pick|x")
    simulator.press(7801, 1, "9" * 30 + "|topic|injuries")
    assert len(await simulator.wait_for_messages(7801, 2, timeout=10)) >= 2
    moderator = Child(simulator, ADMIN)
    assert "/grant" in texts(await moderator.say("/grant ① moderator DHA"))
    assert "/grant" in texts(await moderator.say("/grant " + "9" * 23 + " moderator DHA"))
    simulator.press(ADMIN, 1, "q1|approve|" + "9" * 23)
    await simulator.wait_for_messages(ADMIN, 1, timeout=10)
    await child.say("/help")  # still answering
    log = (Path(fast_bot.log)).read_text(encoding="utf-8")
    assert "Traceback" not in log, log[-2000:]


# --- 10: the export command line ---------------------------------------------------------------

def test_the_export_command_line_refuses_clearly(tmp_path: Path) -> None:
    database = tmp_path / "forum.sqlite3"
    sqlite3.connect(database).close()
    config = ROOT / "config.example.toml"

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return cli("export", "--config", str(config), "--database", str(database),
                   "--format", "csv", *args)

    before = database.read_bytes()
    onto_db = export("--out", str(database))
    assert onto_db.returncode == 2 and "database itself" in onto_db.stderr
    assert database.read_bytes() == before
    mistyped = cli("export", "--config", str(config), "--database", str(tmp_path / "typo.db"),
                   "--format", "csv", "--out", str(tmp_path / "a.csv"))
    assert mistyped.returncode == 2 and "no database" in mistyped.stderr
    assert not (tmp_path / "typo.db").exists()
    folder = export("--out", str(tmp_path))
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    nowhere = export("--out", str(tmp_path / "missing" / "a.csv"))
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    ancient = export("--from", "0001-01-01", "--out", str(tmp_path / "a.csv"))
    assert ancient.returncode == 2 and "not a forum date" in ancient.stderr
    first = export("--out", str(tmp_path / "a.csv"))
    assert first.returncode == 0, first.stderr
    again = export("--out", str(tmp_path / "a.csv"))
    assert again.returncode == 2 and "--force" in again.stderr
    assert export("--out", str(tmp_path / "a.csv"), "--force").returncode == 0
    for done in (onto_db, mistyped, folder, nowhere, ancient, again):
        assert "Traceback" not in done.stderr
