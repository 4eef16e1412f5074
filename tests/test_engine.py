"""The flow engine alone, as pure functions: no Telegram, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.conversation import engine
from bot.conversation.catalog import Catalog, load_catalog
from bot.conversation.engine import Command, Media, Press, Start, State, Text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(load_config(ROOT / "config.example.toml"))


def press(outcome: engine.Outcome, label_start: str) -> Press:
    """Press the button whose label starts with `label_start` in the last reply."""
    for row in outcome.replies[-1].keyboard:
        for button in row:
            if button.label.startswith(label_start):
                return Press(button.data)
    raise AssertionError(f"no button {label_start!r} in {outcome.replies[-1]}")


def registered(catalog: Catalog, lang: str = "vi") -> State:
    outcome = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True)
    assert isinstance(outcome.effect, engine.Consented)
    state = outcome.state
    assert state is not None
    for value in (lang, "DHA", "10-12", "unsaid"):
        state = engine.step(catalog, state, Press(f"{state.rev}|pick|{value}")).state
        assert state is not None
    assert state.profile_complete and not state.profile_queue
    return state


def test_nothing_is_kept_before_both_consents(catalog: Catalog) -> None:
    first = engine.step(catalog, None, Start())
    assert first.state is None and "111" in first.replies[0].text
    agreed = engine.step(catalog, None, press(first, "Em đồng ý"))
    assert agreed.state is None and agreed.effect is None and agreed.consenting
    declined = engine.step(catalog, None, press(agreed, "Chưa"))
    assert declined.state is None and declined.effect is None
    for event in (Text("xin chào"), Media("sticker"), Command("help")):
        assert engine.step(catalog, None, event).state is None


def test_registration_is_one_tap_each_and_typed_choices_work(catalog: Catalog) -> None:
    first = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True)
    assert "Which language" in first.replies[-1].text  # asked in both languages
    state = engine.step(catalog, first.state, Text("tieng viet")).state
    assert state is not None and state.profile["lang"] == "vi"
    state = engine.step(catalog, state, Text("dak ha")).state  # typed without tone marks
    assert state is not None and state.profile["district"] == "DHA"
    state = engine.step(catalog, state, Text("2")).state  # typed by number
    assert state is not None and state.profile["age_band"] == "10-12"
    outcome = engine.step(catalog, state, Text("hmm"))
    assert outcome.state == state and "chọn một ý" in outcome.replies[0].text


def test_before_consent_a_short_reminder_and_delete_erases(catalog: Catalog) -> None:
    reminder = engine.step(catalog, None, Text("alo"))
    assert reminder.replies[0].text.startswith("Để bắt đầu") and reminder.replies[0].keyboard
    assert len(reminder.replies[0].text) < 200
    erase = engine.step(catalog, None, Command("delete"))
    assert isinstance(erase.effect, engine.Erase)


def test_the_language_question_has_no_back_to_gender(catalog: Catalog) -> None:
    state = registered(catalog)
    asked = engine.step(catalog, state, Command("language"))
    labels = [b.label for row in asked.replies[-1].keyboard for b in row]
    assert "⬅️ Quay lại" not in labels and "✖️ Dừng" in labels


def test_several_choices_can_be_typed(catalog: Catalog) -> None:
    state = registered(catalog)
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|online")).state
    state = engine.step(catalog, state, Text("Bị lừa trên mạng")).state
    state = engine.step(catalog, state, Text("Dạy kỹ năng")).state
    assert state is not None and state.step == "actors"
    typed = engine.step(catalog, state, Text("1, nha truong va 6"))
    assert typed.state is not None and typed.state.answers["actors"] == (
        "family", "school", "nation")
    # What was kept is said (no "Done" is needed), and a "xong" typed out of habit at the next
    # question is not taken as its answer.
    assert typed.replies[0].text.startswith("✓ Đã chọn: Gia đình, Nhà trường")
    late = engine.step(catalog, typed.state, Text("Xong!"))
    assert late.state == typed.state and "đã được ghi" in late.replies[0].text
    assert engine.step(catalog, state, Text("1, bầu trời")).state == state
    # What was ticked before stays ticked (a Zalo tester ticked the commune, then typed two
    # more, and lost the commune).
    ticked = engine.step(catalog, state, Press(f"{state.rev}|toggle|commune")).state
    assert ticked is not None and ticked.answers["actors"] == ("commune",)
    both = engine.step(catalog, ticked, Text("1, 2")).state
    assert both is not None and both.answers["actors"] == ("family", "school", "commune")


def test_the_review_always_fits_one_message(catalog: Catalog) -> None:
    state = engine.State(profile={"district": "DHA", "lang": "vi"}, profile_queue=(),
                         facilitator=True, topic="climate", step=engine.REVIEW,
                         answers={"group_size": "25", "group_ages": ("10-12",),
                                  "school": "s" * 800, "commune": "c" * 800, "seen": "x" * 800,
                                  "proposal": "p" * 800, "actors": ("family",),
                                  "message": "m" * 800})
    review = engine.prompt(catalog, state)
    assert len(review.text) < 4096 and "…" in review.text


def test_a_held_disclosure_is_used_only_if_the_child_says_so(catalog: Catalog) -> None:
    state = registered(catalog)
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|violence")).state
    assert state is not None
    held = engine.hold(catalog, state, "em thấy bạn bị đánh hội đồng")
    assert held is not None and "Dùng câu này" in engine.prompt(catalog, held).keyboard[0][0].label
    kept = engine.step(catalog, held, Press(f"{held.rev}|keep|"))
    assert kept.state is not None and kept.state.answers["seen"] == "em thấy bạn bị đánh hội đồng"
    assert kept.state.held is None and kept.state.step == "proposal"
    rewrite = engine.step(catalog, held, Press(f"{held.rev}|rewrite|"))
    assert rewrite.state is not None and rewrite.state.step == "seen"
    assert rewrite.state.answers == {} and rewrite.state.held is None
    typed = engine.step(catalog, held, Text("Người lớn còn quát mắng"))
    assert typed.state is not None and typed.state.answers["seen"] == "Người lớn còn quát mắng"
    menu = engine.step(catalog, registered(catalog), Command("help")).state
    assert menu is not None and engine.hold(catalog, menu, "bố đánh em") is None


def test_full_topic_flow_review_edit_and_submit(catalog: Catalog) -> None:
    state = registered(catalog)
    outcome = engine.step(catalog, state, Press(f"{state.rev}|topic|injuries"))
    assert outcome.state is not None and outcome.state.step == "seen"
    outcome = engine.step(catalog, outcome.state, Text("Suối gần trường sâu <b>&</b>"))
    outcome = engine.step(catalog, outcome.state, Text("Làm rào chắn"))
    assert outcome.state is not None and outcome.state.step == "actors"
    outcome = engine.step(catalog, outcome.state, press(outcome, "Xã"))
    assert outcome.keyboard is not None and outcome.replies == ()
    assert outcome.state is not None
    outcome = engine.step(catalog, outcome.state, Press(f"{outcome.state.rev}|toggle|school"))
    assert outcome.state is not None
    outcome = engine.step(catalog, outcome.state, Press(f"{outcome.state.rev}|ok|"))
    outcome = engine.step(catalog, outcome.state, press(outcome, "⏭"))
    review = outcome.replies[-1].text
    assert "Suối gần trường sâu &lt;b&gt;&amp;&lt;/b&gt;" in review
    assert "Nhà trường, Xã, phường" in review
    outcome = engine.step(catalog, outcome.state, press(outcome, "✏️ Sửa: Em đề xuất"))
    assert outcome.state is not None and outcome.state.editing
    outcome = engine.step(catalog, outcome.state, Text("Làm rào chắn và biển báo"))
    assert outcome.state is not None and outcome.state.step == engine.REVIEW
    outcome = engine.step(catalog, outcome.state, press(outcome, "✅"))
    assert isinstance(outcome.effect, engine.Submit)
    assert outcome.effect.answers == {
        "seen": "Suối gần trường sâu <b>&</b>", "proposal": "Làm rào chắn và biển báo",
        "actors": ("school", "commune"), "message": ""}
    assert outcome.state is not None and outcome.state.topic is None


def test_back_and_stop(catalog: Catalog) -> None:
    state = registered(catalog)
    outcome = engine.step(catalog, state, Press(f"{state.rev}|topic|online"))
    outcome = engine.step(catalog, outcome.state, Text("Bị lừa trên mạng"))
    outcome = engine.step(catalog, outcome.state, press(outcome, "⬅️"))
    assert outcome.state is not None and outcome.state.step == "seen"
    assert outcome.state.answers["seen"] == "Bị lừa trên mạng"  # kept while going back
    outcome = engine.step(catalog, outcome.state, press(outcome, "✖️"))
    assert outcome.state is not None and outcome.state.topic is None
    assert outcome.state.answers == {}


def test_bad_inputs_are_answered_and_change_nothing(catalog: Catalog) -> None:
    state = registered(catalog)
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|labour")).state
    assert state is not None
    for event, expected in [
        (Text("   \u200b "), "chưa viết"),
        (Text("x" * 10_000), "10000"),
        (Text("😀🎉"), "biểu tượng"),
        (Media("sticker"), "chỉ đọc được chữ"),
        (Press("forged-data"), "không hiểu lựa chọn"),
        (Press(f"{state.rev + 5}|topic|labour"), "câu hỏi trước"),
        (Press(f"{state.rev}|pick|DHA"), "không hiểu lựa chọn"),
    ]:
        outcome = engine.step(catalog, state, event)
        assert outcome.state == state, event
        assert expected in outcome.replies[0].text, (event, outcome.replies[0].text)


def test_old_buttons_go_stale_when_the_conversation_moves(catalog: Catalog) -> None:
    state = registered(catalog)
    menu = engine.prompt(catalog, state)
    moved = engine.step(catalog, state, Press(menu.keyboard[0][0].data)).state
    assert moved is not None and moved.rev == state.rev + 1
    again = engine.step(catalog, moved, Press(menu.keyboard[1][0].data))
    assert again.state == moved and "câu hỏi trước" in again.replies[0].text


def test_commands_mid_flow_keep_the_draft(catalog: Catalog) -> None:
    state = registered(catalog)
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|climate")).state
    state = engine.step(catalog, state, Text("Lũ lụt")).state
    assert state is not None
    helped = engine.step(catalog, state, Command("help"))
    assert helped.state == state and "/delete" in helped.replies[0].text
    language = engine.step(catalog, state, Command("language"))
    assert language.state is not None
    english = engine.step(catalog, language.state, Press(f"{language.state.rev}|pick|en"))
    assert english.state is not None and english.state.lang == "en"
    assert english.state.answers == {"seen": "Lũ lụt"} and english.state.step == "proposal"
    assert "question 2/4" in english.replies[-1].text


def test_delete_needs_confirmation(catalog: Catalog) -> None:
    state = registered(catalog)
    asked = engine.step(catalog, state, Command("delete"))
    assert asked.state is not None and asked.state.confirming_delete
    kept = engine.step(catalog, asked.state, press(asked, "Giữ lại"))
    assert kept.effect is None and kept.state is not None and not kept.state.confirming_delete
    asked = engine.step(catalog, kept.state, Command("delete"))
    erased = engine.step(catalog, asked.state, press(asked, "Xóa hết"))
    assert isinstance(erased.effect, engine.Erase) and erased.state is None


@pytest.mark.parametrize(("typed", "erased"), [
    ("có", True), ("Xóa hết", True), ("dạ có ạ", True), ("co", True), ("ok", True),
    ("không", False), ("chưa", False), ("giữ lại nhé", False), ("ko", False),
    ("cô", None), ("Suối gần trường rất sâu", None),
])
def test_the_erase_question_answered_in_words(catalog: Catalog, typed: str,
                                              erased: bool | None) -> None:
    """Typed at "erase everything?" (on Zalo there is nothing to press): a yes erases, a no
    keeps, anything else is the answer to the question the child was at ("có" and "không"
    were saved as answers, and nothing erased, in a tester's run)."""
    child = registered(catalog)
    topic = engine.step(catalog, child, Press(f"{child.rev}|topic|injuries"))
    assert topic.state is not None and topic.state.step == "seen"
    asked = engine.step(catalog, topic.state, Command("delete"))
    after = engine.step(catalog, asked.state, Text(typed))
    if erased:
        assert isinstance(after.effect, engine.Erase) and after.state is None
        return
    assert after.effect is None and after.state is not None
    assert not after.state.confirming_delete
    assert after.state.answers.get("seen") == (None if erased is False else typed)


def test_every_callback_fits_telegram_limit(catalog: Catalog) -> None:
    state = registered(catalog)
    for flow in catalog.topics:
        current = engine.step(catalog, state, Press(f"{state.rev}|topic|{flow.id}"))
        for reply in current.replies:
            for row in reply.keyboard:
                assert all(len(b.data.encode()) <= 64 for b in row)


def test_facilitators_are_spoken_to_as_adults(catalog: Catalog) -> None:
    state = engine.State(profile={"district": "DHA", "lang": "vi"}, profile_queue=(),
                         facilitator=True)
    assert "Thầy cô" in engine.prompt(catalog, state).text
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|online")).state
    assert state is not None and state.step == "group_size"
    assert "Thầy cô" in engine.prompt(catalog, state).text
    child = registered(catalog)
    assert "Thầy cô" not in engine.prompt(catalog, child).text


def test_facilitators_are_greeted_and_thanked_as_adults(catalog: Catalog) -> None:
    """Returning, resuming and leaving: a facilitator is not called "em"."""
    state = engine.State(profile={"district": "DHA", "lang": "vi"}, profile_queue=(),
                         facilitator=True)
    back = engine.step(catalog, state, engine.Start())
    assert "Chào thầy cô" in back.replies[0].text
    bye = engine.step(catalog, state, Press(f"{state.rev}|done|"))
    assert "Cảm ơn thầy cô" in bye.replies[0].text and "111" in bye.replies[0].text
    started = engine.step(catalog, state, Press(f"{state.rev}|topic|online")).state
    assert started is not None
    assert "Chào thầy cô" in engine.step(catalog, started, engine.Start()).replies[0].text
    child = registered(catalog)
    assert "Cảm ơn em" in engine.step(catalog, child, Press(f"{child.rev}|done|")).replies[0].text


def test_facilitators_are_told_of_a_photo_an_emoji_or_an_old_button_as_adults(
        catalog: Catalog) -> None:
    state = engine.State(profile={"district": "DHA", "lang": "vi"}, profile_queue=(),
                         facilitator=True)
    child = registered(catalog)
    for event in (engine.Media("photo"), Text("😀😀"), Press("99|topic|online")):
        adult = engine.step(catalog, state, event).replies[0].text
        assert "thầy cô" in adult.lower() and "Em " not in adult, adult
        assert "Em " in engine.step(catalog, child, event).replies[0].text
    assert "thầy cô" in engine.text(catalog, state, "error.edited")
    assert "\n\n" in engine.text(catalog, None, "error.edited")  # a stranger: both languages


def test_the_guardian_step_counts_only_right_after_the_childs_own_consent(
        catalog: Catalog) -> None:
    """A forged guardian press, or an old one pressed after /delete, records nothing."""
    forged = engine.step(catalog, None, Press("0|guardian|yes"))
    assert forged.state is None and forged.effect is None and not forged.consenting
    assert "Em đồng ý" in forged.replies[-1].keyboard[0][0].label  # back to the first question
    agreed = engine.step(catalog, None, Press("0|consent|yes"))
    assert agreed.consenting
    assert agreed.pressed_note == "✓ Em đồng ý / I agree"  # the answer stays readable
    # Typing in between keeps the child at the guardian question.
    typed = engine.step(catalog, None, Text("ok"), consenting=True)
    assert typed.consenting and "guardian" in typed.replies[-1].keyboard[0][0].data
    done = engine.step(catalog, None, press(agreed, "Có, đã đồng ý"), consenting=True)
    assert isinstance(done.effect, engine.Consented) and done.state is not None
    # /delete before the guardian's answer forgets the child's own consent too.
    erased = engine.step(catalog, None, Command("delete"), consenting=True)
    assert isinstance(erased.effect, engine.Erase) and not erased.consenting


def _sos_button(reply: engine.Reply) -> Press:
    found = [button for row in reply.keyboard for button in row
             if engine.parse_press(button.data) is not None
             and engine.parse_press(button.data)[1] == "sos"]  # type: ignore[index]
    assert len(found) == 1 and found[0].label.startswith("🆘"), reply.text[:80]
    return Press(found[0].data)


def test_every_screen_with_buttons_has_the_help_button(catalog: Catalog) -> None:
    """Issue 9: whatever a detector says, the child always has a way to ask for help."""
    seen: list[str] = []

    def check(state: State | None, reply: engine.Reply) -> None:
        pressed = engine.step(catalog, state, _sos_button(reply), consenting=True)
        assert isinstance(pressed.effect, engine.Help) and pressed.state == state
        seen.append(reply.text[:30])

    first = engine.step(catalog, None, Start())
    check(None, first.replies[-1])  # the welcome and consent
    guardian = engine.step(catalog, None, press(first, "Em đồng ý"))
    check(None, guardian.replies[-1])  # the guardian's consent
    outcome = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True)
    for value in ("vi", "DHA", "10-12", "unsaid"):  # language, area, age, gender
        assert outcome.state is not None
        check(outcome.state, engine.prompt(catalog, outcome.state))
        outcome = engine.step(catalog, outcome.state, Press(f"{outcome.state.rev}|pick|{value}"))
    state = outcome.state
    assert state is not None
    check(state, engine.prompt(catalog, state))  # the topic menu
    outcome = engine.step(catalog, state, Press(f"{state.rev}|topic|violence"))
    asking = outcome.state
    for _ in range(10):
        assert outcome.state is not None
        current = engine.prompt(catalog, outcome.state)
        check(outcome.state, current)  # each question, "is this happening?", the review
        if outcome.state.step == engine.REVIEW:
            break
        if outcome.state.step == engine.HAPPENING:
            outcome = engine.step(catalog, outcome.state, press(outcome, "Không"))
        elif "|toggle|" in current.keyboard[0][0].data:  # a multi-choice: one, then OK
            toggled = engine.step(catalog, outcome.state, Press(current.keyboard[0][0].data))
            assert toggled.state is not None
            outcome = engine.step(catalog, toggled.state, Press(f"{toggled.state.rev}|ok|"))
        else:
            outcome = engine.step(catalog, outcome.state, Text("Cần thêm đèn đường"))
    assert outcome.state is not None and outcome.state.step == engine.REVIEW
    assert asking is not None
    held = engine.hold(catalog, asking, "em thấy bạn bị đánh hội đồng")
    assert held is not None
    check(held, engine.prompt(catalog, held))  # "use what you wrote?"
    asked = engine.step(catalog, state, Command("delete"))
    assert asked.state is not None
    check(asked.state, engine.prompt(catalog, asked.state))  # "erase everything?"
    review = engine.prompt(catalog, outcome.state)
    send = next(b.data for row in review.keyboard for b in row if b.label.startswith("✅"))
    sent = engine.step(catalog, outcome.state, Press(send))
    assert isinstance(sent.effect, engine.Submit) and sent.state is not None
    check(sent.state, engine.submitted(catalog, sent.state, "DHA-0001"))  # "thank you, sent"
    assert len(seen) == 16, seen  # 2 consents, 4 profile, menu, 4 questions, 4 more, thanks


def test_asking_for_help_keeps_the_answer_waiting_to_be_used(catalog: Catalog) -> None:
    state = registered(catalog)
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|violence")).state
    assert state is not None
    held = engine.hold(catalog, state, "em thấy bạn bị đánh hội đồng")
    assert held is not None
    for event in (Command("sos"), Press(f"{held.rev}|sos|")):
        helped = engine.step(catalog, held, event)
        assert isinstance(helped.effect, engine.Help)
        assert helped.state is not None and helped.state.held == held.held
    answered = engine.step(catalog, held, Press(f"{held.rev}|contact|4.no"))
    assert isinstance(answered.effect, engine.Contact) and answered.state == held
    assert answered.pressed_note == "✓ Không, cảm ơn"  # what they chose stays on the message
    assert "Dùng câu này" in answered.replies[-1].keyboard[0][0].label  # asked again
    kept = engine.step(catalog, held, Press(f"{held.rev}|keep|"))
    assert kept.state is not None and kept.state.answers["seen"] == held.held


def test_help_before_consent_leads_back_to_the_consent(catalog: Catalog) -> None:
    first = engine.step(catalog, None, Start())
    helped = engine.step(catalog, None, _sos_button(first.replies[-1]))
    assert isinstance(helped.effect, engine.Help) and helped.state is None
    for consenting, button in ((False, "Em đồng ý"), (True, "Có, đã đồng ý")):
        answered = engine.step(catalog, None, Press("0|contact|3.no"), consenting=consenting)
        assert isinstance(answered.effect, engine.Contact) and answered.state is None
        assert answered.consenting == consenting
        assert answered.pressed_note == "✓ Không, cảm ơn / No, thank you"  # both: no language yet
        assert answered.replies[-1].keyboard[0][0].label.startswith(button)


def _at_happening(catalog: Catalog, lang: str = "vi") -> State:
    """A violence draft answered to the end: the review's "is this happening?" is asked."""
    outcome = engine.step(catalog, registered(catalog, lang),
                          Press(f"{registered(catalog, lang).rev}|topic|violence"))
    for _ in range(10):
        assert outcome.state is not None
        if outcome.state.step == engine.HAPPENING:
            return outcome.state
        current = engine.prompt(catalog, outcome.state)
        if "|toggle|" in current.keyboard[0][0].data:
            toggled = engine.step(catalog, outcome.state, Press(current.keyboard[0][0].data))
            assert toggled.state is not None
            outcome = engine.step(catalog, toggled.state, Press(f"{toggled.state.rev}|ok|"))
        else:
            outcome = engine.step(catalog, outcome.state, Text("Bạn em bị anh lớp trên dọa"))
    raise AssertionError("never asked whether it is happening")


@pytest.mark.parametrize(("typed", "answer"), [
    ("Dạ có", "yes"), ("Có, em cũng bị", "yes"), ("co a", "yes"), ("1", "yes"),
    ("Không ạ", "no"), ("ko", "no"), ("khong a", "no"), ("2", "no"),
    ("Em không muốn nói", "unsaid"), ("em ko muon noi", "unsaid"),
    ("không có", None), ("Cô giáo em", None), ("ừm", None), ("9", None)])
def test_the_happening_question_answered_in_words_keeps_the_draft(
        catalog: Catalog, typed: str, answer: str | None) -> None:
    """Typed instead of pressed (on Zalo, always typed): the answer it holds, or the question
    again; never the draft lost."""
    state = _at_happening(catalog)
    outcome = engine.step(catalog, state, Text(typed))
    assert outcome.state is not None and outcome.state.answers == state.answers
    assert outcome.state.topic == state.topic
    if answer is None:
        assert outcome.state.step == engine.HAPPENING and outcome.effect is None
        assert "happening" in outcome.replies[-1].keyboard[0][0].data  # asked again
        return
    assert outcome.state.step == engine.REVIEW and outcome.state.happening_asked
    assert (outcome.effect == engine.Help("review")) is (answer == "yes")
    pressed = engine.step(catalog, state, Press(f"{state.rev}|happening|{answer}"))
    assert (pressed.state, pressed.effect) == (outcome.state, outcome.effect)


def test_the_happening_question_understands_english(catalog: Catalog) -> None:
    state = _at_happening(catalog, "en")
    said = engine.step(catalog, state, Text("yes it is"))
    assert said.effect == engine.Help("review") and said.state is not None
    assert said.state.answers == state.answers


def test_a_facilitator_who_uses_a_code_again_keeps_the_groups_draft(catalog: Catalog) -> None:
    """The link opened twice, or another district's code mid-way: the group's proposal being
    written stays (now for that district); the welcome is in the facilitator's language."""
    joined = engine.join_as_facilitator(catalog, None, "DHA")
    assert joined.state is not None and joined.state.profile_queue == ("lang",)
    state = engine.step(catalog, joined.state, Press(f"{joined.state.rev}|pick|en")).state
    assert state is not None and state.facilitator
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|injuries")).state
    assert state is not None and state.topic == "injuries"
    state = engine.step(catalog, state, Text("12")).state  # the group's size
    assert state is not None and state.answers
    again = engine.join_as_facilitator(catalog, state, "DHA")
    assert again.state == state  # nothing changed: where they were, asked again
    assert "Welcome!" in again.replies[0].text and "Chào thầy cô" not in again.replies[0].text
    elsewhere = engine.join_as_facilitator(catalog, state, "KTM")
    assert elsewhere.state is not None and elsewhere.state.profile["district"] == "KTM"
    assert (elsewhere.state.topic, elsewhere.state.answers) == (state.topic, state.answers)
    assert "Kon Tum City" in elsewhere.replies[0].text


def test_facilitators_are_addressed_as_adults(catalog: Catalog) -> None:
    """The language question, help and the topic's questions (put to the group) in adult
    wording: never the child's "em"."""
    joined = engine.join_as_facilitator(catalog, None, "DHA")
    assert joined.state is not None
    assert "Thầy cô muốn dùng tiếng nào" in joined.replies[-1].text
    state = engine.step(catalog, joined.state, Press(f"{joined.state.rev}|pick|vi")).state
    assert state is not None
    helped = engine.step(catalog, state, Command("help")).replies[0].text
    assert helped.startswith("ℹ️ Thầy cô") and "của em" not in helped
    state = engine.step(catalog, state, Press(f"{state.rev}|topic|injuries")).state
    for answer in ("12", None, None, None):  # the group's steps, then the topic's first
        assert state is not None
        if answer is None:
            current = engine.prompt(catalog, state)
            if "|toggle|" in current.keyboard[0][0].data:
                toggled = engine.step(catalog, state, Press(current.keyboard[0][0].data)).state
                assert toggled is not None
                state = engine.step(catalog, toggled, Press(f"{toggled.rev}|ok|")).state
            else:
                state = engine.step(catalog, state, Press(f"{state.rev}|skip|")).state
        else:
            state = engine.step(catalog, state, Text(answer)).state
    assert state is not None and state.step == "seen", state.step
    assert "<i>Thầy cô hỏi nhóm:</i> Quanh em" in engine.prompt(catalog, state).text


@pytest.mark.parametrize(("typed", "topic"), [
    ("đuối nước", "injuries"), ("duoi nuoc", "injuries"), ("Tai nạn", "injuries"),
    ("thiên tai", "climate"), ("dịch bệnh", "climate"), ("xâm hại", "violence"),
])
def test_a_topic_typed_by_words_of_its_title(catalog: Catalog, typed: str, topic: str) -> None:
    """Words of a topic's title typed at the menu pick it, wherever they stand among its commas
    ("đuối nước" in "Tai nạn thương tích, đuối nước, giao thông" was not found on Zalo)."""
    picked = engine.step(catalog, registered(catalog), Text(typed))
    assert picked.state is not None and picked.state.topic == topic


@pytest.mark.parametrize(("typed", "band"), [
    ("11", "10-12"), ("em 11 tuổi", "10-12"), ("10 đến 12", "10-12"), ("7 tuoi", "6-9"),
    ("2", "10-12"), ("17", None), ("9 hay 10", None),
])
def test_an_age_typed_picks_its_band(catalog: Catalog, typed: str, band: str | None) -> None:
    """Asked their age, children type it ("11" got "choose an option" on Zalo); a number a
    button carries (1-3) is still that button."""
    state = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True).state
    assert state is not None
    for value in ("vi", "DHA"):
        state = engine.step(catalog, state, Press(f"{state.rev}|pick|{value}")).state
        assert state is not None
    assert state.profile_queue[0] == "age_band"
    after = engine.step(catalog, state, Text(typed)).state
    assert after is not None
    assert after.profile.get("age_band") == band
