"""The Zalo channel's parts: numbered menus, typed picks, splitting, events, settings, faults."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from bot.config import Zalo, load_config
from bot.conversation.catalog import load_catalog
from bot.conversation.service import Conversations
from bot.messages import Button, Reply
from bot.simulator import ZaloSimulator
from bot.simulator.zalo import zalo_id
from bot.transport.channels import TELEGRAM, ZALO, channel_of, first_id
from bot.transport.inbox import Inbox
from bot.transport.outbox import Message, Outbox, Retry, Sender, Sent, Work
from bot.transport.pacing import Pacing
from handlers.zalo.channel import ZaloChannel, parse
from handlers.zalo.client import ZaloClient, ZaloError
from handlers.zalo.courier import ZaloCourier
from handlers.zalo.menus import MAX_CHARS, Menu, plain, render, split
from storage import addresses
from storage.db import open_database

ROOT = Path(__file__).resolve().parents[1]

KEYBOARD = (
    (Button("✅ Gửi ý kiến", "3|send|"),),
    (Button("✏️ Sửa: Em thấy", "3|edit|seen"), Button("✏️ Sửa: Em đề xuất", "3|edit|proposal")),
    (Button("⬅️ Quay lại", "3|back|", aside=True), Button("✖️ Dừng", "3|stop|", aside=True)),
)


def test_buttons_become_a_numbered_menu_with_the_ways_out_by_their_words() -> None:
    parts, menu = render("<b>Em xem lại nhé</b> &amp; gửi", KEYBOARD)
    assert parts == ["Em xem lại nhé & gửi\n\n1. ✅ Gửi ý kiến\n2. ✏️ Sửa: Em thấy\n"
                     "3. ✏️ Sửa: Em đề xuất\n⬅️ Quay lại · ✖️ Dừng"]
    assert Menu.stored(menu.buttons) == menu  # as kept in chat_menus between messages


@pytest.mark.parametrize("length", [1_950, 1_990, 2_100, 3_950])
def test_a_long_message_keeps_its_menu_whole_at_its_end(length: int) -> None:
    """Split near 2,000 characters: never inside the numbered menu ("4." at one part's end,
    its option at the next one's start), and nothing lost."""
    body = ("Em thấy suối sâu. " * 300)[:length].strip()
    parts, menu = render(body, KEYBOARD)
    choices = menu.lines()
    assert all(len(part) <= MAX_CHARS for part in parts)
    assert parts[-1].endswith(choices) and all(choices not in part for part in parts[:-1])
    assert all("1. ✅" not in part for part in parts[:-1])
    assert "".join(parts).replace("\n", "").replace(" ", "") == (
        body + choices).replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("typed", ["Gửi ý kiến", "gửi", "Sửa: Em thấy"])
def test_words_typed_with_decomposed_marks_pick_too(typed: str) -> None:
    """Some keyboards send the marks apart (NFD): the same words, the same pick."""
    import unicodedata
    menu = Menu.of(KEYBOARD)
    assert menu.pick(unicodedata.normalize("NFD", typed)) == menu.pick(typed) is not None


@pytest.mark.parametrize(("typed", "data"), [
    ("1", "3|send|"), (" 3. ", "3|edit|proposal"),
    ("gửi ý kiến", "3|send|"), ("GUI Y KIEN", "3|send|"), ("gui", "3|send|"),
    ("sua em thay", "3|edit|seen"), ("quay lai", "3|back|"), ("Dừng", "3|stop|"),
    ("4", None), ("0", None),  # no such number: an answer, not a press
    ("sua", None),  # the start of two answers: neither
    ("dừng xe ở cổng trường", None),  # an answer that starts with a way out's word
    ("chào", None),
])
def test_a_typed_reply_picks_by_number_or_words(typed: str, data: str | None) -> None:
    assert Menu.of(KEYBOARD).pick(typed) == data


def test_a_number_is_an_answer_where_only_ways_out_are_offered() -> None:
    question = ((Button("⬅️ Quay lại", "5|back|", aside=True),
                 Button("✖️ Dừng", "5|stop|", aside=True)),)
    assert Menu.of(question).pick("2") is None  # "how many children?" "2"


def test_either_language_of_a_two_language_label_picks_it() -> None:
    menu = Menu.of(((Button("Em đồng ý / I agree", "0|consent|yes"),),
                    (Button("Chưa / Not now", "0|consent|no"),)))
    assert menu.pick("I agree") == "0|consent|yes" and menu.pick("chua") == "0|consent|no"
    # As a child answers: without the "Em" of the label; "agree" likewise
    for typed in ("đồng ý", "dong y", "Đồng ý.", "agree"):
        assert menu.pick(typed) == "0|consent|yes", typed


def test_long_texts_are_cut_between_sentences_then_words() -> None:
    text = "Một câu vừa phải để thử. " * 200
    parts = split(text.strip())
    assert len(parts) == 3 and all(len(p) <= MAX_CHARS for p in parts)
    assert all(p.endswith(".") for p in parts) and " ".join(parts) == text.strip()
    word = "a" * 4500
    assert [len(p) for p in split(word)] == [2000, 2000, 500]


def test_html_reads_as_plain_text() -> None:
    assert plain('Gọi <b>111</b> &lt;miễn phí&gt; <a href="https://t.me/x">đây</a>') == (
        "Gọi 111 <miễn phí> https://t.me/x đây")


def test_events_with_or_without_the_wrapper_and_what_is_not_one() -> None:
    event = {"event_name": "message.text.received", "message": {
        "from": {"id": "a1", "display_name": "Em", "is_bot": False},
        "chat": {"id": "a1", "chat_type": "PRIVATE"}, "text": "chào", "message_id": "m1",
        "date": 1750316131602}}
    bare, wrapped = parse(event), parse({"ok": True, "result": event})
    assert bare == wrapped and bare is not None and bare.text == "chào" and bare.private
    assert bare.update_id >= 2**62 and bare.update_id == parse(event).update_id  # type: ignore
    other = parse({**event, "message": {**event["message"], "message_id": "m2"}})
    assert other is not None and other.update_id != bare.update_id
    for broken in ({}, {"ok": True}, {"event_name": "user.follow"}, [],
                   {"message": {"from": {"id": 3}, "chat": {"id": "a"}, "message_id": "m"}}):
        assert parse(broken) is None


def test_chat_ids_tell_the_channel() -> None:
    assert channel_of(123456789) == TELEGRAM and channel_of(-1001234567890) == TELEGRAM
    assert channel_of(2**52 - 1) == TELEGRAM
    assert channel_of(first_id(ZALO)) == ZALO and channel_of(first_id(ZALO) + 10**6) == ZALO


def test_zalo_refuses_to_start_without_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Zalo(enabled=True, public_url="https://forum.example.org/zalo")
    monkeypatch.delenv(settings.token_env, raising=False)
    assert "CHILDFORUM_ZALO_TOKEN" in (settings.problem() or "")
    monkeypatch.setenv(settings.token_env, "1:x")
    monkeypatch.setenv(settings.secret_env, "short")
    assert "32-256" in (settings.problem() or "")
    monkeypatch.setenv(settings.secret_env, "s" * 40)
    assert settings.problem() is None
    assert "public_url" in (Zalo(enabled=True).problem() or "")
    assert Zalo(enabled=True, mode="polling").problem() is None
    assert Zalo().problem() is None  # off


class _Failing:
    """A conversation with a bug in it (the one thing mocked: the channel's fault handling is
    what is tested, on a real database, inbox and outbox)."""

    async def handle(self, work: Work, chat_id: int, event: object,
                     pressed: object = None) -> None:
        raise ValueError("a bug")

    async def apologise(self, work: Work, chat_id: int, staff: bool = False) -> None:
        work.replies(chat_id, (Reply("sorry"),))


async def test_a_bug_while_handling_an_event_is_apologised_for_once(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "forum.sqlite3")
    try:
        config = load_config(ROOT / "config.example.toml")
        inbox, outbox = Inbox(db), Outbox(db, Pacing(), ZoneInfo("Asia/Ho_Chi_Minh"))
        channel = ZaloChannel(inbox, outbox, cast(Conversations, _Failing()),
                              load_catalog(config))
        await channel.start()
        body = {"event_name": "message.text.received", "message": {
            "from": {"id": "b7", "display_name": "Em", "is_bot": False},
            "chat": {"id": "b7", "chat_type": "PRIVATE"}, "text": "xin chào",
            "message_id": "m-bug", "date": 1}}
        assert await channel.receive(body)
        await asyncio.wait_for(channel.idle(), 10)
        await channel.stop()
        assert await inbox.unfinished(ZALO) == []  # done: not replayed at every start
        queued = await db.reader.fetchall("SELECT chat_id, payload FROM outbox")
        assert len(queued) == 1 and "sorry" in queued[0][1] and queued[0][0] >= first_id(ZALO)
        assert await channel.receive(body)  # the same message again: kept once, not queued
        assert await inbox.unfinished(ZALO) == []
        assert await db.reader.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await db.close()


class _Broken(_Failing):
    """A chat whose state cannot be read: the apology fails as well."""

    async def apologise(self, work: Work, chat_id: int, staff: bool = False) -> None:
        raise ValueError("this chat's state cannot be read")


async def test_an_event_that_cannot_even_be_apologised_for_is_not_tried_forever(
        tmp_path: Path) -> None:
    """Several workers (the handler reads the inbox at every look): a poison event is done
    without a word after one try, not read and failed twice a second for ever."""
    db = await open_database(tmp_path / "forum.sqlite3")
    try:
        config = load_config(ROOT / "config.example.toml")
        inbox, outbox = Inbox(db), Outbox(db, Pacing(), ZoneInfo("Asia/Ho_Chi_Minh"))
        tries: list[int] = []
        broken = _Broken()
        failing_handle = broken.handle

        async def counted(*args: object, **kwargs: object) -> None:
            tries.append(1)
            await failing_handle(*args, **kwargs)  # type: ignore[arg-type]

        broken.handle = counted  # type: ignore[method-assign]

        async def always() -> bool:
            return True

        channel = ZaloChannel(inbox, outbox, cast(Conversations, broken), load_catalog(config),
                              handles=always)
        await channel.start()
        assert await channel.receive({"event_name": "message.text.received", "message": {
            "from": {"id": "b8", "display_name": "Em", "is_bot": False},
            "chat": {"id": "b8", "chat_type": "PRIVATE"}, "text": "xin chào",
            "message_id": "m-poison", "date": 1}})
        await asyncio.sleep(1.6)  # three looks
        await channel.stop()
        assert tries == [1]
        assert await inbox.unfinished(ZALO) == []
    finally:
        await db.close()


async def test_an_erased_address_goes_once_nothing_waits_to_be_sent(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "forum.sqlite3")
    try:
        async with db.transaction() as tx:
            gone = await addresses.chat_for(tx, ZALO, "aa", first_id(ZALO))
            waiting = await addresses.chat_for(tx, ZALO, "bb", first_id(ZALO))
            kept = await addresses.chat_for(tx, ZALO, "cc", first_id(ZALO))
            assert (gone, waiting, kept) == (first_id(ZALO), first_id(ZALO) + 1,
                                             first_id(ZALO) + 2)
            for chat in (gone, waiting):
                await addresses.erase(tx, chat)
        outbox = Outbox(db, Pacing(), ZoneInfo("Asia/Ho_Chi_Minh"))
        await outbox.send([Message(waiting, "goodbye")])  # not sent yet
        async with db.transaction() as tx:
            assert await addresses.sweep(tx, "2000-01-01") == 1
        assert await db.reader.fetchall("SELECT external_id FROM chat_addresses"
                                        " ORDER BY chat_id") == [("bb",), ("cc",)]
        async with db.transaction() as tx:  # a day later, sent or not, it goes
            assert await addresses.sweep(tx, "9999-01-01") == 1
            # Ids are never given twice: "aa" writing again is someone new.
            assert await addresses.chat_for(tx, ZALO, "aa", first_id(ZALO)) == kept + 1
        assert await addresses.address_of(db.reader, waiting) is None
    finally:
        await db.close()


class _Quota:
    """A Zalo client whose quota runs out once, after the first part of a long text."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.refused = False

    async def send_message(self, chat_id: str, text: str) -> None:
        if len(self.sent) == 1 and not self.refused:
            self.refused = True
            raise ZaloError(429, "quota exceeded")
        self.sent.append(text)


async def test_a_long_text_stopped_midway_goes_on_from_the_next_part(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "forum.sqlite3")
    try:
        async with db.transaction() as tx:
            chat = await addresses.chat_for(tx, ZALO, "aa", first_id(ZALO))
        client = _Quota()
        courier = ZaloCourier(cast(ZaloClient, client), db)
        long = " ".join(f"Câu thứ {n} của một bản xem lại rất dài." for n in range(200))
        parts, _ = render(long, ())
        assert len(parts) == 5
        first = await courier.deliver(Message(chat, long, outbox_id=41))
        assert isinstance(first, Retry) and not first.counts and client.sent == parts[:1]
        assert isinstance(await courier.deliver(Message(chat, long, outbox_id=41)), Sent)
        assert client.sent == parts  # each part once, in order
        again = await courier.deliver(Message(chat, long, outbox_id=42))  # the same text, later
        assert isinstance(again, Sent) and client.sent == parts + parts
        client.sent.clear()
        client.refused = False
        refused = await courier.deliver(Message(chat, long, outbox_id=43))
        assert isinstance(refused, Retry) and client.sent == parts[:1]
        other = await courier.deliver(Message(chat, long, outbox_id=44))  # not 43's retry
        assert isinstance(other, Sent) and client.sent == parts[:1] + parts
    finally:
        await db.close()


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_one_zalo_chat_gets_at_most_one_message_a_second_long_texts_included(
        zalo: ZaloSimulator, tmp_path: Path) -> None:
    """Production pacing through the real sender, courier, client and simulator: a reply of
    several messages, a text sent in parts and an edit (sent again on Zalo) each wait for the
    chat's turn, while another chat is not held by it."""
    db = await open_database(tmp_path / "forum.sqlite3")
    client = ZaloClient(zalo.token, zalo.base_url)
    await client.start()
    pacing = Pacing(quiet_start=None, quiet_end=None)  # the defaults: 1 a second, a burst of 5
    sender = Sender(db, {ZALO: ZaloCourier(client, db)}, pacing, ZONE)
    outbox = Outbox(db, pacing, ZONE)
    outbox.sender = sender
    try:
        async with db.transaction() as tx:
            chat = await addresses.chat_for(tx, ZALO, zalo_id(1), first_id(ZALO))
            other = await addresses.chat_for(tx, ZALO, zalo_id(2), first_id(ZALO))
        zalo.send_text(zalo_id(1), "xin chào")  # Zalo answers only someone who wrote
        zalo.send_text(zalo_id(2), "xin chào")
        await sender.start()
        long = " ".join(f"Câu thứ {n} của một bản xem lại rất dài." for n in range(120))
        parts, _ = render(long, ())
        assert len(parts) == 3
        await outbox.send([Message(chat, "một"), Message(chat, "hai"), Message(chat, long),
                           Message(chat, "ba", op="edit", message_id=1), Message(other, "khác")])
        count = 2 + len(parts) + 1
        await zalo.wait_until(lambda: len(zalo.messages(zalo_id(1))) == count, timeout=30)
        dates = [m.date / 1000 for m in zalo.messages(zalo_id(1))]
        gaps = [later - earlier for earlier, later in pairwise(dates)]
        # One a second; the margin is for a loaded machine (a send may leave late after its turn)
        assert min(gaps) > 0.5, gaps
        assert dates[-1] - dates[0] > (count - 1) - 0.5, gaps
        [elsewhere] = zalo.messages(zalo_id(2))
        assert elsewhere.date / 1000 - dates[0] < 1.0  # another chat does not wait for this one
    finally:
        await sender.stop()
        await client.close()
        await db.close()
