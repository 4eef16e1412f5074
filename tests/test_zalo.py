"""The Zalo channel's pure parts: numbered menus, typed picks, splitting, events, settings."""

from __future__ import annotations

import pytest

from bot.config import Zalo
from bot.messages import Button
from bot.transport.channels import TELEGRAM, ZALO, channel_of, first_id
from handlers.zalo.channel import parse
from handlers.zalo.menus import MAX_CHARS, Menu, plain, render, split

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
