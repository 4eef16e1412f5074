"""The conversation engine: a pure function from (state, event) to (state, replies, effect).

No I/O and no Telegram here. States and phases::

    (no state) --consent + guardian--> profile --> menu --> topic steps --> review --send--> menu
                                          ^  /profile, /language  |  back/edit  |  stop, /cancel

A button's callback data is "rev|action|value". `rev` changes whenever the conversation moves,
so a press on a button of an older message is recognised and answered kindly.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from bot.conversation import places
from bot.conversation.catalog import (
    FACILITATOR_FIELDS,
    MAX_GROUP_SIZE,
    PROFILE_FIELDS,
    Catalog,
    Choice,
    Flow,
    Step,
    Texts,
)
from bot.localized import BASE_LANG
from bot.messages import Button, Keyboard, Reply
from bot.safeguarding.detector import calls_for_help as _calls_for_help
from bot.safeguarding.plea import words as plea_words
from bot.textnorm import chat_word, clean, fold, small_int

REVIEW = "review"
REVIEW_CHARS = 3400  # the review screen's answers, all together: a message holds 4096
REVIEW_MIN_CHARS = 120
Answer = str | tuple[str, ...]


@dataclass(frozen=True)
class Start:
    payload: str = ""  # from a deep link: t.me/<bot>?start=<payload>


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Press:
    data: str


@dataclass(frozen=True)
class Media:
    kind: str  # sticker, photo, voice, location, contact, unsupported (Zalo: not passed on)...
    caption: str = ""  # the words typed with a photo or a file: read for safeguarding


@dataclass(frozen=True)
class Command:
    name: Literal["help", "cancel", "language", "profile", "delete", "sos"]


Event = Start | Text | Press | Media | Command


@dataclass(frozen=True)
class Consented:
    """The child and their guardian agreed: start keeping the child's data."""


@dataclass(frozen=True)
class Submit:
    topic: str
    answers: Mapping[str, Answer]
    cases: tuple[int, ...] = ()  # safeguarding cases about this draft: the proposal waits for them


@dataclass(frozen=True)
class Erase:
    """Erase everything the child gave."""


@dataclass(frozen=True)
class Help:
    """The child asked for help (/sos, 🆘) or said what they told is happening: open a case,
    give the hotline and ask whether an adult of the forum may write to them here."""

    source: Literal["sos", "review"]
    text: str = ""  # the call typed ("cứu em, bố đang đập cửa"), kept with the case


@dataclass(frozen=True)
class Contact:
    """The child's answer to "may an adult of the forum write to you here?"."""

    case: int
    wants: bool


Effect = Consented | Submit | Erase | Help | Contact


@dataclass(frozen=True)
class State:
    rev: int = 1
    profile: Mapping[str, str] = field(default_factory=dict)
    profile_queue: tuple[str, ...] = PROFILE_FIELDS
    topic: str | None = None
    step: str | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    editing: bool = False
    confirming_delete: bool = False
    facilitator: bool = False  # records group proposals; joined with an invite code
    # An answer that looked like a disclosure of harm: flagged, and kept only if the child says so.
    held: str | None = None
    # The safeguarding cases opened about the current draft: its proposal waits for them all.
    cases: tuple[int, ...] = ()
    # The review's "is this happening to you or a child you know?" was answered for this draft.
    happening_asked: bool = False
    # A profile question's last screen: the page of a long list it shows, and the choices its
    # buttons offered (a page, or what a search found). A number typed picks among those.
    page: int = 0
    shown: tuple[str, ...] = ()

    @property
    def lang(self) -> str:
        return self.profile.get("lang", BASE_LANG)

    @property
    def profile_fields(self) -> tuple[str, ...]:
        return FACILITATOR_FIELDS if self.facilitator else PROFILE_FIELDS

    @property
    def editable_profile(self) -> tuple[str, ...]:
        """A facilitator's district comes with the invite; only the language is theirs to set."""
        return ("lang",) if self.facilitator else PROFILE_FIELDS

    @property
    def profile_complete(self) -> bool:
        return all(self.profile.get(name) for name in self.profile_fields)


@dataclass(frozen=True)
class Outcome:
    state: State | None
    replies: tuple[Reply, ...] = ()
    effect: Effect | None = None
    # Text to put on the pressed message in place of its buttons ("✓ Đắk Hà").
    pressed_note: str | None = None
    # A new keyboard for the pressed message, edited in place (multi-choice toggles).
    keyboard: Keyboard | None = None
    # Before consent: the child gave their own consent and the guardian's is asked next. Only
    # then is the guardian's press accepted (kept by the caller, never in the callback data).
    consenting: bool = False


def _data(rev: int, action: str, value: str = "") -> str:
    return f"{rev}|{action}|{value}"


def parse_press(data: str) -> tuple[int, str, str] | None:
    """Split callback data; None when it is not something this bot made."""
    parts = data.split("|")
    rev = small_int(parts[0]) if len(parts) == 3 else None
    if rev is None or parts[1] not in _ACTIONS:
        return None
    return rev, parts[1], parts[2]


_ACTIONS = {"consent", "guardian", "pick", "toggle", "ok", "skip", "back", "stop", "topic",
            "send", "edit", "more", "done", "delete", "keep", "rewrite", "sos", "contact",
            "happening", "page"}
_ASIDE = {"back", "stop", "skip", "sos"}  # ways out beside the answers (Button.aside)
LONG_LIST, PAGE_SIZE = 12, 8  # a profile list longer than this shows pages of 8, and a search
HAPPENING = "happening"  # the step between the last question and the review, on some topics
HAPPENING_ANSWERS = ("yes", "no", "unsaid")  # its buttons, in order


# --- Rendering -----------------------------------------------------------------------------


def text(catalog: Catalog, state: State | None, key: str, **values: object) -> str:
    """A text for someone whose state is known (`_t`), or both languages for a stranger."""
    return catalog.texts.both(key, **values) if state is None else _t(catalog, state, key,
                                                                       **values)


def _t(catalog: Catalog, state: State, key: str, **values: object) -> str:
    """A text in the person's language; facilitators (adults) get their wording where it differs."""
    if state.facilitator and f"{key}.facilitator" in catalog.texts.table:
        key = f"{key}.facilitator"
    return catalog.texts.get_at(key, state.lang, catalog.area_level, **values)


def _button(catalog: Catalog, state: State, key: str, action: str, value: str = "") -> Button:
    return Button(_t(catalog, state, key), _data(state.rev, action, value), action in _ASIDE)


def _choice_rows(choices: tuple[Choice, ...], lang: str, rev: int, action: str,
                 selected: tuple[str, ...] = (), per_row: int = 2) -> list[tuple[Button, ...]]:
    buttons = [Button(("✅ " if c.id in selected else "") + c.label[lang], _data(rev, action, c.id))
               for c in choices]
    return [tuple(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]


def welcome(catalog: Catalog) -> Reply:
    """The first message, in every language, with the consent question."""
    texts = catalog.texts
    return Reply(
        texts.both("welcome") + "\n\n" + texts.both("consent.self"),
        ((Button(texts.label("consent.self.yes"), _data(0, "consent", "yes")),),
         (Button(texts.label("consent.no"), _data(0, "consent", "no")),),
         _first_sos(catalog)),
    )


def _first_sos(catalog: Catalog) -> tuple[Button, ...]:
    """The help button before a language is picked (every screen has one)."""
    return (Button("🆘 " + catalog.texts.label("button.sos.first"), _data(0, "sos"), True),)


def typed(event: Event) -> str:
    """The words a child typed: a text, or the caption of a photo or a file."""
    return event.text if isinstance(event, Text) else (
        event.caption if isinstance(event, Media) else "")


def calls_for_help(catalog: Catalog, text: str) -> bool:
    """A call for help (bot.safeguarding.detector.calls_for_help), or the 🆘 button's words
    typed: answered like 🆘."""
    return bool(text) and _calls_for_help(text, _sos_labels(catalog.texts))


_SOS_LABELS: dict[int, tuple[Texts, frozenset[str]]] = {}


def _sos_labels(texts: Texts) -> frozenset[str]:
    """The 🆘 buttons' words in every language, as a typed message would read (plea.words);
    worked out once per catalog."""
    known = _SOS_LABELS.get(id(texts))
    if known is None or known[0] is not texts:
        known = _SOS_LABELS[id(texts)] = (texts, frozenset(
            plea_words(texts.get(key, lang)) for lang in texts.langs
            for key in ("button.sos", "button.sos.first", "button.sos.facilitator")
            if texts.own(key, lang)))
    return known[1]


def _sos(catalog: Catalog, state: State) -> tuple[Button, ...]:
    return (_button(catalog, state, "button.sos", "sos"),)


def help_button(texts: Texts, lang: str, adult: bool = False) -> Button:
    """🆘 for a message the bot sends a child (or a facilitator: `adult`) outside their
    conversation (an answer, a staff member's message): it works on any screen, old or not."""
    key = "button.sos.facilitator" if adult else "button.sos"
    return Button(texts.get(key, lang), _data(0, "sos", ""), aside=True)


def _profile_prompt(catalog: Catalog, state: State) -> Reply:
    name = state.profile_queue[0]
    choices = catalog.profile[name]
    page = _page(state, len(choices))
    rows = _choice_rows(_page_of(choices, page), state.lang, state.rev, "pick",
                        per_row=1 if name == "district" else 2)
    paged = len(choices) > LONG_LIST
    if paged:
        rows.append(_page_buttons(state, page, len(choices)))
    nav = []
    fields = state.editable_profile
    index = fields.index(name)
    if index > 0 and len(state.profile_queue) == len(fields) - index:
        nav.append(_button(catalog, state, "button.back", "back"))
    if state.profile_complete:
        nav.append(_button(catalog, state, "button.stop", "stop"))
    if nav:
        rows.append(tuple(nav))
    rows.append(_sos(catalog, state))
    # The language question is asked in both languages: it is how a child finds theirs.
    text = (catalog.texts.both("ask.lang.facilitator" if state.facilitator else "ask.lang")
            if name == "lang" else _t(catalog, state, _ask(catalog, name)))
    if paged:
        text += "\n\n<i>" + _t(catalog, state, "hint.area_search", count=len(choices)) + "</i>"
    return Reply(text, tuple(rows))


def _ask(catalog: Catalog, name: str) -> str:
    """The question's text key (the area question names the forum's level, district or
    commune and ward: `_t` says it in that level's words)."""
    return f"ask.{name}"


def _page(state: State, count: int) -> int:
    """The page of a long list the state is at (the first when the list got shorter)."""
    return state.page if 0 <= state.page * PAGE_SIZE < count else 0


def _page_of(choices: tuple[Choice, ...], page: int) -> tuple[Choice, ...]:
    """A long list (more than LONG_LIST) shows PAGE_SIZE choices at a time."""
    if len(choices) <= LONG_LIST:
        return choices
    return choices[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]


def _offered(catalog: Catalog, state: State) -> tuple[Choice, ...]:
    """The choices of the profile question the last screen offered, in its order: what a
    typed number picks from (the page shown when the state has no record of it)."""
    choices = catalog.profile[state.profile_queue[0]]
    if state.shown:
        by_id = {c.id: c for c in choices}
        return tuple(by_id[value] for value in state.shown if value in by_id)
    return _page_of(choices, _page(state, len(choices)))


def _with_shown(outcome: Outcome) -> Outcome:
    """Remember the choices the outcome's last keyboard offers at a profile question (its
    last screen), so that "2" typed next means its second button, as the child saw it."""
    state = outcome.state
    if state is None:
        return outcome
    if not state.profile_queue:
        if state.shown or state.page:
            return replace(outcome, state=replace(state, shown=(), page=0))
        return outcome
    keyboard = outcome.keyboard if outcome.keyboard is not None else next(
        (reply.keyboard for reply in reversed(outcome.replies) if reply.keyboard), None)
    if keyboard is None:  # nothing new on the screen (🆘: the channel answers)
        return outcome
    shown = tuple(parsed[2] for row in keyboard for button in row
                  if (parsed := parse_press(button.data)) and parsed[1] == "pick")
    return outcome if shown == state.shown else replace(outcome,
                                                        state=replace(state, shown=shown))


def _page_buttons(state: State, page: int, count: int) -> tuple[Button, ...]:
    last = (count - 1) // PAGE_SIZE
    buttons = []
    if page > 0:
        buttons.append(Button("◀", _data(state.rev, "page", str(page - 1))))
    buttons.append(Button(f"{page + 1}/{last + 1}", _data(state.rev, "page", "-")))
    if page < last:
        buttons.append(Button("▶", _data(state.rev, "page", str(page + 1))))
    return tuple(buttons)


def _menu(catalog: Catalog, state: State) -> Reply:
    rows: list[tuple[Button, ...]] = [
        (Button(f"{i}. {flow.title[state.lang]}", _data(state.rev, "topic", flow.id)),)
        for i, flow in enumerate(catalog.topics, 1)]
    rows.append(_sos(catalog, state))
    return Reply(_t(catalog, state, "menu"), tuple(rows))


def _answer_text(step: Step, answer: Answer | None, lang: str) -> str:
    if isinstance(answer, tuple):
        return ", ".join(c.label[lang] for c in step.choices if c.id in answer)
    return answer or ""


def _step_prompt(catalog: Catalog, state: State, flow: Flow, step: Step) -> Reply:
    number = flow.steps.index(step) + 1
    head = _t(catalog, state, "step.head", title=html.escape(flow.title[state.lang]),
              number=number, total=len(flow.steps))
    rows: list[tuple[Button, ...]] = []
    hint_key = "hint.text"
    if step.kind == "multi":
        selected = state.answers.get(step.id, ())
        assert isinstance(selected, tuple)
        rows = _choice_rows(step.choices, state.lang, state.rev, "toggle", selected)
        rows.append((_button(catalog, state, "button.ok", "ok"),))
        hint_key = "hint.multi"
    elif step.optional:
        rows.append((_button(catalog, state, "button.skip", "skip"),))
    rows.append((_button(catalog, state, "button.back", "back"),
                 _button(catalog, state, "button.stop", "stop")))
    rows.append(_sos(catalog, state))
    hint = _t(catalog, state, hint_key)
    question = html.escape(step.prompt[state.lang])
    if state.facilitator and step not in catalog.group.steps:  # the topic's, put to the group
        question = f"{_t(catalog, state, 'step.ask_group')} {question}"
    text = f"{head}\n{question}\n\n<i>{hint}</i>"
    return Reply(text, tuple(rows))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _review(catalog: Catalog, state: State, flow: Flow) -> Reply:
    lines = [_t(catalog, state, "review.head", title=html.escape(flow.title[state.lang]))]
    rows: list[tuple[Button, ...]] = [(_button(catalog, state, "button.send", "send"),)]
    # Long answers are kept whole; only their echo here is shortened to fit one message.
    limit = max(REVIEW_MIN_CHARS, REVIEW_CHARS // len(flow.steps))
    for step in flow.steps:
        shown = _shorten(_answer_text(step, state.answers.get(step.id), state.lang), limit)
        label = _t(catalog, state, f"field.{step.id}")
        lines.append(f"<b>{html.escape(label)}:</b> "
                     f"{html.escape(shown) or _t(catalog, state, 'review.empty')}")
        rows.append((Button(_t(catalog, state, "button.edit", field=label),
                            _data(state.rev, "edit", step.id)),))
    rows.append((_button(catalog, state, "button.cancel_draft", "stop"),))
    rows.append(_sos(catalog, state))
    return Reply("\n\n".join(lines), tuple(rows))


def prompt(catalog: Catalog, state: State | None) -> Reply:
    """What the child should see now to go on from where they are."""
    if state is None:
        return welcome(catalog)
    if state.held is not None:
        return Reply(_t(catalog, state, "held.ask"),
                     ((_button(catalog, state, "button.keep", "keep"),),
                      (_button(catalog, state, "button.rewrite", "rewrite"),),
                      _sos(catalog, state)))
    if state.confirming_delete:
        return Reply(_t(catalog, state, "delete.confirm"),
                     ((_button(catalog, state, "button.delete_yes", "delete", "yes"),
                       _button(catalog, state, "button.delete_no", "delete", "no")),
                      _sos(catalog, state)))
    if state.profile_queue:
        return _profile_prompt(catalog, state)
    flow = catalog.flow(state.topic, state.facilitator)
    if flow is None:
        return _menu(catalog, state)
    if state.step == REVIEW:
        return _review(catalog, state, flow)
    if state.step == HAPPENING:
        return Reply(_t(catalog, state, "happening.ask"), (
            *((_button(catalog, state, f"button.happening.{value}", "happening", value),)
              for value in HAPPENING_ANSWERS),
            _sos(catalog, state)))
    step = flow.step(state.step or "")
    return _step_prompt(catalog, state, flow, step) if step else _menu(catalog, state)


# --- Transitions ---------------------------------------------------------------------------


def _moved(old: State, new: State) -> State:
    """Bump the revision when the conversation moved, so older buttons become stale (and
    a long list the next question shows starts at its first page)."""
    return new if replace(new, rev=old.rev) == old else replace(new, rev=old.rev + 1, page=0)


def _go(catalog: Catalog, old: State, new: State, *notes: str, effect: Effect | None = None,
        pressed_note: str | None = None) -> Outcome:
    """Move to `new` and show its prompt, after optional notes."""
    new = _moved(old, new)
    replies = (*tuple(Reply(note) for note in notes), prompt(catalog, new))
    return Outcome(new, replies, effect, pressed_note)


def _say(catalog: Catalog, state: State, key: str, **values: object) -> Outcome:
    """Explain something and show the current prompt again, without moving."""
    return Outcome(state, (Reply(_t(catalog, state, key, **values)), prompt(catalog, state)))


def _guardian_question(catalog: Catalog) -> Reply:
    texts = catalog.texts
    return Reply(texts.both("consent.guardian"), (
        (Button(texts.label("consent.guardian.yes"), _data(0, "guardian", "yes")),),
        (Button(texts.label("consent.no"), _data(0, "guardian", "no")),),
        _first_sos(catalog)))


def _pre_consent(catalog: Catalog, event: Event, consenting: bool) -> Outcome:
    texts = catalog.texts
    if isinstance(event, Command) and event.name == "sos":
        return Outcome(None, (), Help("sos"), consenting=consenting)
    if isinstance(event, Press) and (parsed := parse_press(event.data)):
        _, action, value = parsed
        if action == "sos":
            return Outcome(None, (), Help("sos"), pressed_note="🆘", consenting=consenting)
        if action == "contact":  # then the consent again, shortly: the way on
            answered = _contact(catalog, None, value)
            return replace(answered, replies=(*answered.replies, consent_reminder(
                catalog, consenting)), consenting=consenting)
        if action == "consent" and value == "yes":
            return Outcome(None, (_guardian_question(catalog),),
                           pressed_note="✓ " + texts.label("consent.self.yes"), consenting=True)
        if action in ("consent", "guardian") and value == "no":
            return Outcome(None, (Reply(texts.both("consent.declined")),),
                           pressed_note="✓ " + texts.label("consent.no"))
        if action == "guardian" and value == "yes" and consenting:
            state = State()
            return Outcome(state, (Reply(texts.both("consent.thanks")), prompt(catalog, state)),
                           Consented(), pressed_note="✓ " + texts.label("consent.guardian.yes"))
        if action == "guardian":  # an old or forged button: the child's own step comes first
            return Outcome(None, (Reply(texts.both("consent.first")), welcome(catalog)))
    if isinstance(event, Command) and event.name == "delete":
        # Nothing but a safeguarding flag can exist before consent; erase that too.
        return Outcome(None, (Reply(texts.both("delete.nothing")),), Erase())
    if isinstance(event, Start):
        return Outcome(None, (welcome(catalog),))
    if isinstance(event, Media) and event.kind == "unsupported":  # an adult's file, say
        return Outcome(None, (Reply(texts.both("error.unsupported")),), consenting=consenting)
    return Outcome(None, (consent_reminder(catalog, consenting),), consenting=consenting)


def consent_reminder(catalog: Catalog, consenting: bool) -> Reply:
    """The consent still to give, in a word, with its buttons (the whole welcome is said
    once, to /start)."""
    question = _guardian_question(catalog) if consenting else welcome(catalog)
    key = "consent.reminder.guardian" if consenting else "consent.reminder"
    return Reply(catalog.texts.both(key), question.keyboard)


def _next_step(catalog: Catalog, state: State, flow: Flow, step: Step, answer: Answer,
               pressed_note: str | None = None, notes: tuple[str, ...] = ()) -> Outcome:
    answers = {**state.answers, step.id: answer}
    if state.editing:
        target = REVIEW
    else:
        index = flow.steps.index(step)
        target = flow.steps[index + 1].id if index + 1 < len(flow.steps) else REVIEW
    if target == REVIEW and flow.ask_happening and not state.happening_asked:
        target = HAPPENING
    return _go(catalog, state, replace(state, answers=answers, step=target, editing=False),
               *notes, pressed_note=pressed_note)


def _no_draft(state: State) -> State:
    """The state with no topic draft (and nothing that belonged to the draft)."""
    return replace(state, topic=None, step=None, answers={}, editing=False, cases=(),
                   happening_asked=False)


def _stop_topic(catalog: Catalog, state: State) -> Outcome:
    return _go(catalog, state, _no_draft(state), _t(catalog, state, "cancelled"))


def _happening(catalog: Catalog, state: State, value: str) -> Outcome:
    """The review's question answered: "yes" opens a case (a person looks), then the review."""
    answered = replace(state, step=REVIEW, happening_asked=True)
    note = "✓ " + _t(catalog, state, f"button.happening.{value}") \
        if value in HAPPENING_ANSWERS else "✓"
    if value == "yes":
        moved = _moved(state, answered)
        return Outcome(moved, (prompt(catalog, moved),), Help("review"), pressed_note=note)
    return _go(catalog, state, answered, pressed_note=note)


def _words(text: str, marked: bool) -> tuple[str, ...]:
    """The words of a text, tone marks kept (`marked`), or folded with chat spellings made
    plain ("ko" → "khong")."""
    if marked:
        return tuple(re.findall(r"\w+", clean(text).lower()))
    return tuple(plain for word in re.findall(r"\w+", fold(text))
                 for plain in chat_word(word).split())


def _holds(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return bool(part) and any(words[i:i + len(part)] == part
                              for i in range(len(words) - len(part) + 1))


def _happening_by_text(catalog: Catalog, state: State, text: str) -> Outcome:
    """The review's question answered in words ("Dạ có", "khong a", "2"): the answer whose
    label the text holds; several or none, the question again (the draft is kept). Tone marks
    count when the text has them ("cô" is not "có")."""
    number = small_int(fold(text).strip(" ."))
    if number is not None and 1 <= number <= len(HAPPENING_ANSWERS):
        return _happening(catalog, state, HAPPENING_ANSWERS[number - 1])
    marked = fold(text) != clean(text).lower()
    words = _words(text, marked)
    labels = {value: _words(_t(catalog, state, f"button.happening.{value}"), marked)
              for value in HAPPENING_ANSWERS}
    said = [value for value, label in labels.items() if _holds(words, label)]
    # "Em không muốn nói" holds "không" too: the longer answer is the one meant.
    said = [value for value in said
            if not any(other != value and _holds(labels[other], labels[value])
                       for other in said)]
    if len(said) == 1:
        return _happening(catalog, state, said[0])
    return _say(catalog, state, "error.press_a_button")


def _on_text(catalog: Catalog, state: State, text: str) -> Outcome:
    flow = catalog.flow(state.topic, state.facilitator)
    if state.step == HAPPENING and flow is not None:
        return _happening_by_text(catalog, state, text)
    if state.profile_queue or state.step == REVIEW or flow is None:
        return _pick_by_text(catalog, state, text)
    step = flow.step(state.step or "")
    if step is None:
        return _go(catalog, state, _no_draft(state))
    if step.kind == "multi":
        return _pick_many_by_text(catalog, state, flow, step, text)
    cleaned = clean(text)
    if step.kind == "number":
        size = small_int(cleaned.strip(" ."))
        if size is None or not 1 <= size <= MAX_GROUP_SIZE:
            return _say(catalog, state, "error.not_a_number", limit=MAX_GROUP_SIZE)
        return _next_step(catalog, state, flow, step, str(size))
    if not cleaned:
        return _say(catalog, state, "error.empty")
    if len(cleaned) > catalog.max_chars:
        return _say(catalog, state, "error.too_long", length=len(cleaned), limit=catalog.max_chars)
    if not any(ch.isalnum() for ch in cleaned):
        return _say(catalog, state, "error.no_letters")
    if fold(cleaned).strip(" .!") in DONE_WORDS:  # the last question's "Done", typed late
        return _say(catalog, state, "error.done_typed")
    return _next_step(catalog, state, flow, step, cleaned)


# Typed as a whole answer, these only ever mean the "Done" of a multi-choice question.
DONE_WORDS = frozenset({"xong", "xong roi", "done", "ok xong", "da xong"})


_WORDS = re.compile(r"\w+(?:['’]\w+)*")


def _match(choices: tuple[Choice, ...], text: str, numbered: bool = True) -> Choice | None:
    """A choice typed instead of pressed: by its number (`numbered`) or its label, tone marks
    optional."""
    typed = fold(text).strip(" .")
    number = small_int(typed) if numbered else None
    if number is not None and 1 <= number <= len(choices):
        return choices[number - 1]
    words = " ".join(_WORDS.findall(typed))
    if not words:
        return None
    # Words, not characters: "đuối nước" is in "Tai nạn, đuối nước, giao thông" (the comma
    # after a word kept a Zalo tester's typed topic from being found); "H'Drai" is one word.
    found = [c for c in choices if any(f" {words} " in " {} ".format(
        " ".join(_WORDS.findall(fold(label)))) for label in c.label.values())]
    return found[0] if len(found) == 1 else None


def _search(catalog: Catalog, state: State, choices: tuple[Choice, ...], text: str) -> Outcome:
    """Part of a name typed ("dak", "ia dal", "Tp Kon Tum"), or a name a letter off ("Đắc
    Long"): the places it may mean, as buttons (bot.conversation.places). None at a short list
    (all its places are buttons already): choose one."""
    found = places.search(choices, text)
    said = html.escape(" ".join(text.split())[:40])
    if not found.choices:
        return _say(catalog, state, "pick.none" if len(choices) > LONG_LIST
                    else "error.press_a_button", typed=said)
    rows = _choice_rows(found.choices[:PAGE_SIZE], state.lang, state.rev, "pick", per_row=1)
    rows.append(_sos(catalog, state))
    count = len(found.choices)
    key = "pick.near" if found.near else "pick.which" if count <= PAGE_SIZE else "pick.narrow"
    return Outcome(state, (Reply(_t(catalog, state, key, typed=said, count=count),
                                 tuple(rows)),))


def _pick_many_by_text(catalog: Catalog, state: State, flow: Flow, step: Step,
                       text: str) -> Outcome:
    """Several choices typed at once: "2, 3", "1 4" or "gia đình, nhà trường"; with those
    ticked before (a Zalo tester ticked "3", then typed "1, 2", and lost the 3)."""
    parts = [p for p in re.split(r"[,;/+]|\s+(?=\d)|\bva\b|\band\b", fold(text)) if p.strip()]
    chosen = [_match(step.choices, part) for part in parts]
    if not chosen or None in chosen:
        return _say(catalog, state, "error.press_a_button")
    ticked = state.answers.get(step.id, ())
    picked = {c.id for c in chosen if c} | set(ticked if isinstance(ticked, tuple) else ())
    selected = tuple(c for c in step.choices if c.id in picked)
    # Several at once need no "Done": say what was kept, so that no "xong" follows as an answer.
    note = _t(catalog, state, "picked.many", choices=", ".join(
        html.escape(c.label[state.lang]) for c in selected))
    return _next_step(catalog, state, flow, step, tuple(c.id for c in selected), notes=(note,))


def _pick_by_text(catalog: Catalog, state: State, text: str) -> Outcome:
    """Text where a button is expected: accept a typed choice, otherwise ask for a press."""
    choice: Choice | None = None
    if state.profile_queue:
        choices = catalog.profile[state.profile_queue[0]]
        band = _age_band(choices, text) if state.profile_queue[0] == "age_band" else None
        if band is not None:  # "11", "em 11 tuổi", "10 đến 12": the age, not a button's number
            return _typed_pick(catalog, state, band)
        number = small_int(fold(text).strip(" ."))
        if number is not None:  # among the buttons the child saw, never the whole list
            offered = _offered(catalog, state)
            if 1 <= number <= len(offered):
                return _typed_pick(catalog, state, offered[number - 1])
            if len(choices) > LONG_LIST:
                return _say(catalog, state, "pick.by_name")
            return _say(catalog, state, "error.press_a_button")
        if state.profile_queue[0] == "district":  # a place, written as children write it
            choice = places.exact(choices, text) or _match(choices, text, numbered=False)
            if choice:
                return _typed_pick(catalog, state, choice)
            return _search(catalog, state, choices, text)
        choice = _match(choices, text, numbered=False)
        if choice:
            return _typed_pick(catalog, state, choice)
    elif catalog.flow(state.topic, state.facilitator) is None:
        topics = tuple(Choice(f.id, f.title) for f in catalog.topics)
        choice = _match(topics, text)
        if choice:
            return _go(catalog, state, _start_topic(catalog, state, choice.id))
    return _say(catalog, state, "error.press_a_button")


_BAND = re.compile(r"(\d+)\D+(\d+)")


def _age_band(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """The age band (ids "10-12") that an age typed falls in: every number in the text ("11",
    "em 11 tuổi", "10 đến 12") in one band; a button's number (1, 2, 3) is no age here."""
    ages = [int(n) for n in re.findall(r"\d+", text) if len(n) <= 2]
    if not ages or max(ages) <= len(choices):
        return None
    found = [choice for choice in choices if (bounds := _BAND.fullmatch(choice.id))
             and all(int(bounds[1]) <= age <= int(bounds[2]) for age in ages)]
    return found[0] if len(found) == 1 else None


def _typed_pick(catalog: Catalog, state: State, choice: Choice) -> Outcome:
    """A profile choice typed (its name, or its number on the last screen): picked, and said
    on top of the next question (as a pressed button's message shows it)."""
    outcome = _pick_profile(catalog, state, choice.id)
    if outcome.pressed_note is None or not outcome.replies:
        return outcome
    first, *rest = outcome.replies
    said = f"<i>{html.escape(outcome.pressed_note, quote=False)}</i>\n\n{first.text}"
    return replace(outcome, replies=(replace(first, text=said), *rest), pressed_note=None)


def _start_topic(catalog: Catalog, state: State, topic_id: str) -> State:
    flow = catalog.flow(topic_id, state.facilitator)
    assert flow is not None
    return replace(_no_draft(state), topic=flow.id, step=flow.steps[0].id)


def _pick_profile(catalog: Catalog, state: State, value: str) -> Outcome:
    name = state.profile_queue[0]
    choice = next((c for c in catalog.profile[name] if c.id == value), None)
    if choice is None:
        return _say(catalog, state, "error.unknown_button")
    profile = {**state.profile, name: value}
    new = replace(state, profile=profile, profile_queue=state.profile_queue[1:])
    notes = (_t(catalog, new, "profile.saved"),) if not new.profile_queue else ()
    return _go(catalog, state, new, *notes, pressed_note="✓ " + choice.label[new.lang])


# "Erase everything?" answered in words (folded): a yes erases, a no keeps; any other text means
# the child moved on (it is their answer where they were). A Zalo tester's "có" and "không"
# became answers to the question behind, and nothing was erased.
# Typed with tone marks, the marks count ("cô" is not "có", "vàng" not "vâng").
_ERASE_YES = frozenset({"có", "ok", "oke", "ừ", "uh", "vâng", "dạ", "dạ có", "đồng ý", "xóa",
                        "xoá", "xóa hết", "xoá hết", "xóa đi", "xoá đi", "có xóa", "có xoá",
                        "yes", "y", "erase", "erase all"})
_ERASE_NO = frozenset({"không", "ko", "k", "kg", "hông", "chưa", "giữ", "giữ lại", "thôi",
                       "hủy", "huỷ", "không xóa", "không xoá", "đừng xóa", "đừng xoá", "no",
                       "n", "keep", "cancel"})
_ERASE_YES_FOLDED = frozenset(fold(word) for word in _ERASE_YES)
_ERASE_NO_FOLDED = frozenset(fold(word) for word in _ERASE_NO)
_POLITE = (" ạ", " a", " nha", " nhé", " nhe")


def _delete_by_text(text: str) -> bool | None:
    marked = fold(text) != clean(text).lower()
    words = " ".join(_words(text, marked))  # as the review's yes/no question reads them
    for polite in _POLITE:
        words = words.removesuffix(polite)
    yes, no = (_ERASE_YES, _ERASE_NO) if marked else (_ERASE_YES_FOLDED, _ERASE_NO_FOLDED)
    return True if words in yes else False if words in no else None


def _delete_answered(catalog: Catalog, state: State, erase: bool) -> Outcome:
    if erase:
        return Outcome(None, (Reply(_t(catalog, state, "delete.done")),), Erase(),
                       pressed_note=_chose(catalog, state, "button.delete_yes"))
    return _go(catalog, state, replace(state, confirming_delete=False),
               _t(catalog, state, "delete.kept"),
               pressed_note=_chose(catalog, state, "button.delete_no"))


def _on_press(catalog: Catalog, state: State, data: str) -> Outcome:
    parsed = parse_press(data)
    if parsed is None:
        return _say(catalog, state, "error.unknown_button")
    rev, action, value = parsed
    if action == "sos":  # the help button works on any screen, old or not
        return Outcome(state, (), Help("sos"), pressed_note="🆘")
    if action == "contact":
        return _contact(catalog, state, value)
    if rev != state.rev:
        return _say(catalog, state, "error.old_button")
    if state.step == HAPPENING and action == "happening":
        return _happening(catalog, state, value)
    if state.confirming_delete:
        return _delete_answered(catalog, state, action == "delete" and value == "yes")
    if state.profile_queue:
        return _press_profile(catalog, state, action, value)
    flow = catalog.flow(state.topic, state.facilitator)
    if flow is None:
        return _press_menu(catalog, state, action, value)
    if state.step == REVIEW:
        return _press_review(catalog, state, flow, action, value)
    step = flow.step(state.step or "")
    if step is None:  # the review question, pressed with something else
        return _say(catalog, state, "error.unknown_button")
    return _press_step(catalog, state, flow, step, action, value)


def _press_profile(catalog: Catalog, state: State, action: str, value: str) -> Outcome:
    if action == "pick":
        return _pick_profile(catalog, state, value)
    if action == "page":
        if value == "-":  # the page number itself: nothing to do
            return Outcome(state, ())
        page = small_int(value)
        count = len(catalog.profile[state.profile_queue[0]])
        if page is not None and page * PAGE_SIZE < count:
            # Not a move: the buttons already sent stay good (no new revision).
            turned = replace(state, page=page)
            return Outcome(turned, (), keyboard=_profile_prompt(catalog, turned).keyboard)
    if action == "back":
        fields = state.editable_profile
        index = fields.index(state.profile_queue[0])
        if index > 0:
            previous = fields[index - 1]
            queue = (previous, *state.profile_queue)
            return _go(catalog, state, replace(state, profile_queue=queue), pressed_note="⬅️")
    if action == "stop" and state.profile_complete:
        return _go(catalog, state, replace(state, profile_queue=()), pressed_note="✓")
    return _say(catalog, state, "error.unknown_button")


def _press_menu(catalog: Catalog, state: State, action: str, value: str) -> Outcome:
    if action == "topic" and catalog.topic(value):
        flow = catalog.topic(value)
        assert flow is not None
        return _go(catalog, state, _start_topic(catalog, state, value),
                   pressed_note="✓ " + flow.title[state.lang])
    if action == "more":
        return _go(catalog, state, state, pressed_note=_chose(catalog, state, "button.more"))
    if action == "done":
        return Outcome(state, (Reply(_t(catalog, state, "bye")),),
                       pressed_note=_chose(catalog, state, "button.done"))
    return _say(catalog, state, "error.unknown_button")


def _press_review(catalog: Catalog, state: State, flow: Flow, action: str, value: str) -> Outcome:
    if action == "send":
        return Outcome(_moved(state, _no_draft(state)), (),
                       Submit(flow.id, dict(state.answers), state.cases), pressed_note="✓")
    if action == "edit" and flow.step(value):
        return _go(catalog, state, replace(state, step=value, editing=True), pressed_note="✏️")
    if action == "stop":
        return _stop_topic(catalog, state)
    return _say(catalog, state, "error.unknown_button")


def _press_step(catalog: Catalog, state: State, flow: Flow, step: Step, action: str,
                value: str) -> Outcome:
    if action == "back":
        index = flow.steps.index(step)
        if state.editing:
            return _go(catalog, state, replace(state, step=REVIEW, editing=False))
        if index == 0:
            return _go(catalog, state, _no_draft(state))
        return _go(catalog, state, replace(state, step=flow.steps[index - 1].id))
    if action == "stop":
        return _stop_topic(catalog, state)
    if action == "skip" and step.optional:
        return _next_step(catalog, state, flow, step, "", pressed_note="⏭")
    if step.kind == "multi" and action == "toggle" and any(c.id == value for c in step.choices):
        selected = state.answers.get(step.id, ())
        assert isinstance(selected, tuple)
        toggled = tuple(c.id for c in step.choices
                        if (c.id in selected) != (c.id == value))
        new = _moved(state, replace(state, answers={**state.answers, step.id: toggled}))
        return Outcome(new, keyboard=prompt(catalog, new).keyboard)
    if step.kind == "multi" and action == "ok":
        selected = state.answers.get(step.id, ())
        if not selected:
            return _say(catalog, state, "error.choose_one")
        assert isinstance(selected, tuple)
        return _next_step(catalog, state, flow, step, selected,
                          pressed_note="✓ " + _answer_text(step, selected, state.lang))
    return _say(catalog, state, "error.unknown_button")


def _chose(catalog: Catalog, state: State, key: str) -> str:
    """What replaces a pressed message's buttons: the choice, kept readable."""
    return "✓ " + _t(catalog, state, key)


def _contact(catalog: Catalog, state: State | None, value: str) -> Outcome:
    """The answer to "may an adult write to you here?": "<case>.yes" or "<case>.no"."""
    case, _, answer = value.partition(".")
    number = small_int(case)
    if number is None or answer not in ("yes", "no"):
        if state is None:
            return Outcome(None, (Reply(catalog.texts.both("error.unknown_button")),))
        return _say(catalog, state, "error.unknown_button")
    texts = catalog.texts
    key, label = f"sos.contact.{answer}", f"button.contact.{answer}"
    thanks = Reply(texts.both(key) if state is None else _t(catalog, state, key))
    replies = (thanks,) if state is None else (thanks, prompt(catalog, state))
    chosen = "✓ " + texts.label(label) if state is None else _chose(catalog, state, label)
    return Outcome(state, replies, Contact(number, answer == "yes"), pressed_note=chosen)


def help_reply(catalog: Catalog, state: State | None, case: int) -> Reply:
    """The hotline, and whether an adult of the forum may write here (the case's buttons)."""
    texts = catalog.texts
    if state is None:
        return Reply(texts.both("sos.reply"), (
            (Button(texts.label("button.contact.yes"), _data(0, "contact", f"{case}.yes")),),
            (Button(texts.label("button.contact.no"), _data(0, "contact", f"{case}.no")),)))
    return Reply(_t(catalog, state, "sos.reply"), (
        (_button(catalog, state, "button.contact.yes", "contact", f"{case}.yes"),),
        (_button(catalog, state, "button.contact.no", "contact", f"{case}.no"),)))


def _on_command(catalog: Catalog, state: State, name: str) -> Outcome:
    if name == "sos":
        return Outcome(state, (), Help("sos"))
    if name == "help":
        return _say(catalog, state, "help")
    if name == "delete":
        return _go(catalog, state, replace(state, confirming_delete=True))
    if name == "language":
        return _go(catalog, state, replace(state, profile_queue=("lang",)))
    if name == "profile":
        return _go(catalog, state, replace(state, profile_queue=state.editable_profile))
    # cancel
    if state.profile_queue and not state.profile_complete:
        return _say(catalog, state, "error.finish_profile")
    if state.profile_queue:
        return _go(catalog, state, replace(state, profile_queue=()))
    if state.topic:
        return _stop_topic(catalog, state)
    return _say(catalog, state, "nothing_to_cancel")


def _current_step(catalog: Catalog, state: State) -> tuple[Flow, Step] | None:
    """The topic step the child is answering, if they are answering one."""
    flow = catalog.flow(state.topic, state.facilitator)
    if flow is None or state.profile_queue or state.confirming_delete:
        return None
    current = flow.step(state.step or "")
    return (flow, current) if current else None


def hold(catalog: Catalog, state: State, text: str) -> State | None:
    """After a disclosure typed as an answer: keep it aside and ask whether to use it.

    None when no text answer is expected (the disclosure is then only flagged).
    """
    current = _current_step(catalog, state)
    if current is None or current[1].kind != "text":
        return None
    return _moved(state, replace(state, held=text))


def area_of(catalog: Catalog, state: State | None) -> str | None:
    """The person's area, if the forum year is held in it; None when not said yet, or when it
    is an earlier year's (the 2023 plan's districts, gone with the reform of 1 July 2025)."""
    district = state.profile.get("district") if state is not None else None
    return district if district in catalog.area_codes else None


def _needs_area(catalog: Catalog, state: State) -> bool:
    """The profile has no area of this year's forum, and none is being asked for."""
    return "district" not in state.profile_queue and area_of(catalog, state) is None


def _area_again(catalog: Catalog, state: State) -> Outcome:
    """A child whose area is not one of this year's (registered in a district before the 2025
    reform, say): asked for it again, kindly, before anything else; the rest of the profile and
    a draft are kept, and so are the proposals sent. A facilitator's area comes with an invite:
    they are asked for a new code (typed, it makes them a facilitator of its area)."""
    note = _t(catalog, state, "area.again")
    if state.facilitator:
        return Outcome(state, (Reply(note),))
    profile = {name: value for name, value in state.profile.items() if name != "district"}
    queue = tuple(name for name in PROFILE_FIELDS
                  if name == "district" or name in state.profile_queue)
    return _go(catalog, state, replace(state, profile=profile, profile_queue=queue), note)


def _about_help(event: Event) -> bool:
    """/sos, 🆘, or the answer to "may an adult write to you here?" that follows them."""
    if isinstance(event, Command):
        return event.name == "sos"
    parsed = parse_press(event.data) if isinstance(event, Press) else None
    return parsed is not None and parsed[1] in ("sos", "contact")


def _on_held(catalog: Catalog, state: State, event: Event) -> Outcome | None:
    """The answer to "use what you wrote?"; None when the child did something else instead."""
    parsed = parse_press(event.data) if isinstance(event, Press) else None
    if parsed is None or parsed[0] != state.rev or parsed[1] not in ("keep", "rewrite"):
        return None
    released = replace(state, held=None)
    current = _current_step(catalog, released)
    if parsed[1] == "rewrite" or current is None or state.held is None:
        return _go(catalog, state, released, pressed_note="✏️")
    outcome = _on_text(catalog, released, state.held)
    return replace(outcome, pressed_note="✓") if outcome.state != released else outcome


def step(catalog: Catalog, state: State | None, event: Event,
         consenting: bool = False) -> Outcome:
    """Answer one event: the new state (None: nothing kept), replies and the effect to carry out.

    `consenting`: before consent, the child has given their own and the guardian's is asked.
    """
    return _with_shown(_answer(catalog, state, event, consenting))


def _answer(catalog: Catalog, state: State | None, event: Event,
            consenting: bool = False) -> Outcome:
    said = typed(event)
    if calls_for_help(catalog, said):  # "cứu em với", the 🆘 button's words typed: as /sos,
        as_sos = step(catalog, state, Command("sos"), consenting)  # the words on the case
        if isinstance(as_sos.effect, Help):
            as_sos = replace(as_sos, effect=replace(as_sos.effect, text=said))
        return as_sos
    if state is None:
        return _pre_consent(catalog, event, consenting)
    if state.held is not None:
        answered = _on_held(catalog, state, event)
        if answered is not None:
            return answered
        if not _about_help(event):  # help first; "use what you wrote?" still waits
            state = replace(state, held=None)
    if state.confirming_delete and isinstance(event, Text):
        erase = _delete_by_text(event.text)
        if erase is not None:
            return _delete_answered(catalog, state, erase)
    if (_needs_area(catalog, state) and not _about_help(event) and not state.confirming_delete
            and event != Command("delete")):
        return _area_again(catalog, state)
    if state.confirming_delete and not isinstance(event, Press):
        state = replace(state, confirming_delete=False)  # moved on: the text is an answer
    if isinstance(event, Press):
        return _on_press(catalog, state, event.data)
    if isinstance(event, Text):
        return _on_text(catalog, state, event.text)
    if isinstance(event, Command):
        return _on_command(catalog, state, event.name)
    if isinstance(event, Media):
        return _say(catalog, state,
                    "error.unsupported" if event.kind == "unsupported" else "error.media")
    greeting = "welcome_back" if state.topic is None and not state.profile_queue else "resume"
    return _say(catalog, state, greeting)


def join_as_facilitator(catalog: Catalog, state: State | None, district: str) -> Outcome:
    """A valid invite code makes this chat a facilitator of the invite's district. A
    facilitator who uses a code again (the link opened twice, another district's code) keeps
    the group's proposal they were writing, now for that district."""
    old = state or State(rev=0)
    lang = {"lang": old.profile["lang"]} if "lang" in old.profile else {}
    name = next(c.label for c in catalog.profile["district"] if c.id == district)
    if old.facilitator:
        joined = replace(old, profile={**old.profile, "district": district})
        note = _t(catalog, joined, "facilitator.welcome",
                  district=html.escape(name.get(joined.lang, name[BASE_LANG])))
        if joined == old:
            return Outcome(old, (Reply(note), prompt(catalog, old)))
        return _go(catalog, old, joined, note)
    joined = State(rev=old.rev, profile={"district": district, **lang}, facilitator=True,
                   profile_queue=() if lang else ("lang",))
    welcome = (_t(catalog, joined, "facilitator.welcome",
                  district=html.escape(name.get(joined.lang, name[BASE_LANG]))) if lang
               else catalog.texts.both("facilitator.welcome",
                                       district=html.escape(name[BASE_LANG])))
    return _go(catalog, old, joined, welcome)


def submitted(catalog: Catalog, state: State, ref: str) -> Reply:
    """The thank-you after a proposal was stored, with what happens next (and 🆘: a child who
    has just told something may look for help here)."""
    return Reply(_t(catalog, state, "thanks", ref=html.escape(ref)),
                 ((_button(catalog, state, "button.more", "more"),
                   _button(catalog, state, "button.done", "done")),
                  _sos(catalog, state)))
