"""Buttons where a channel has none: a numbered menu in the message, and a typed reply that
picks from it (pure: no I/O).

    Em có đồng ý…?                       the message's text, as plain text
    1. Em đồng ý / I agree               the answers, numbered in the keyboard's order
    2. Chưa / Not now
    ⬅️ Quay lại · ✖️ Dừng · 🆘 …          ways out (Button.aside): by their words, not a number

The reply "2", or an option's words with or without tone marks ("em dong y", or their start:
"gui" for "✅ Gửi ý kiến"), picks it; a way out only by all its words. A number typed where no
numbered answer is offered (a text or number question) stays an answer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.messages import Button, Keyboard
from bot.textnorm import fold, small_int

MAX_CHARS = 2000  # Zalo's sendMessage takes 1-2000 characters
_TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""")
_NUMBERED = re.compile(r"^\d+\.\s")  # a label that carries its number already ("1. Bạo lực…")
_SYMBOLS = re.compile(r"[^\w\s]", re.UNICODE)  # emoji and punctuation, ignored when words match
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")


@dataclass(frozen=True)
class Menu:
    """What a chat was offered: numbered answers, and ways out taken by their words."""

    numbered: tuple[Button, ...]
    aside: tuple[Button, ...] = ()

    @property
    def buttons(self) -> list[tuple[str, str, bool]]:
        return ([(b.label, b.data, False) for b in self.numbered]
                + [(b.label, b.data, True) for b in self.aside])

    @classmethod
    def of(cls, keyboard: Keyboard) -> Menu:
        flat = [button for row in keyboard for button in row]
        return cls(tuple(b for b in flat if not b.aside), tuple(b for b in flat if b.aside))

    @classmethod
    def stored(cls, buttons: list[tuple[str, str, bool]]) -> Menu:
        found = [Button(label, data, aside) for label, data, aside in buttons]
        return cls(tuple(b for b in found if not b.aside), tuple(b for b in found if b.aside))

    def lines(self) -> str:
        numbered = [label if _NUMBERED.match(label) else f"{n}. {label}"
                    for n, label in enumerate((b.label for b in self.numbered), 1)]
        aside = " · ".join(b.label for b in self.aside)
        return "\n".join([*numbered, *([aside] if aside else [])])

    def pick(self, text: str) -> str | None:
        """The data of the option a typed reply names, if it names exactly one."""
        typed = fold(text).strip(" .")
        number = small_int(typed)
        if number is not None:
            return self.numbered[number - 1].data if 1 <= number <= len(self.numbered) else None
        words = _words(text)
        if not words:
            return None
        found = {b.data for b in (*self.numbered, *self.aside) if words in _names(b.label)}
        if not found:  # the start of an answer's words ("gui" for "✅ Gửi ý kiến"); never of a
            # way out, so that an answer starting "Dừng…" is not a press of "✖️ Dừng"
            found = {b.data for b in self.numbered
                     if any(f"{name} ".startswith(f"{words} ") for name in _names(b.label))}
        return found.pop() if len(found) == 1 else None


def _words(text: str) -> str:
    """Words for matching: no number, emoji, marks or case ("✅ Gia đình" → "gia dinh")."""
    text = _NUMBERED.sub("", text.strip())
    return " ".join(_SYMBOLS.sub(" ", fold(text)).split())  # marks first: NFD has them apart


def _names(label: str) -> set[str]:
    """What a label may be typed as: all of it, or one language of "Em đồng ý / I agree", and
    either without the speaker it starts with ("đồng ý" for "Em đồng ý")."""
    names = {_words(label), *(_words(part) for part in label.split(" / "))} - {""}
    return names | {name.removeprefix(who) for name in names for who in _SPEAKERS
                    if name.startswith(who) and name != who}


_SPEAKERS = ("em ", "chung em ", "thay co ", "i ", "we ")


def plain(text: str) -> str:
    """Telegram's HTML as plain text: tags dropped (a link keeps its address), entities read."""
    def tag(match: re.Match[str]) -> str:
        closing, name, rest = match.groups()
        if name.lower() == "a" and not closing:
            href = _HREF.search(rest)
            return f"{href.group(1)} " if href else ""
        return ""

    return html.unescape(_TAG.sub(tag, text))


def render(text: str, keyboard: Keyboard) -> tuple[list[str], Menu]:
    """A message as the parts to send (each at most 2,000 characters, split between sentences)
    and the menu its last part ends with."""
    menu = Menu.of(keyboard)
    body = plain(text).strip()
    choices = menu.lines()
    whole = "\n\n".join(part for part in (body, choices) if part)
    if not choices or len(whole) <= MAX_CHARS:
        return split(whole or "…"), menu
    # Too long for one: the text in parts, the menu whole at the end of the last (or after
    # it), never cut inside an option.
    parts = split(body) if body else []
    if parts and len(parts[-1]) + 2 + len(choices) <= MAX_CHARS:
        parts[-1] = f"{parts[-1]}\n\n{choices}"
    else:
        parts += _by_lines(choices)
    return parts, menu


def _by_lines(text: str, limit: int = MAX_CHARS) -> list[str]:
    """A menu in parts of whole lines (one line longer than `limit`: `split`)."""
    parts: list[str] = []
    for line in text.split("\n"):
        if parts and len(parts[-1]) + 1 + len(line) <= limit:
            parts[-1] += "\n" + line
        else:
            parts += split(line, limit)
    return parts


def split(text: str, limit: int = MAX_CHARS) -> list[str]:
    """At most `limit` characters a part, cut after a sentence or a line where one ends near the
    limit, else between words, else anywhere (a 2,000-letter word)."""
    parts = []
    while len(text) > limit:
        window = text[:limit]
        cuts = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = cuts[-1] if cuts and cuts[-1] > limit // 2 else window.rfind(" ") + 1
        if cut <= limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts

