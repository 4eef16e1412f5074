"""A message that is itself a call for help: "cứu em với", "giúp em với", "sos", "help me".

Such a message tells nothing the detector could weigh ("cứu em" is no disclosure), yet it is the
plainest thing a frightened child types. Typed anywhere, it is answered like /sos and 🆘: 111 at
once, a case, and the question whether an adult from the forum should write here. Only a whole
message that is the call counts ("giúp em với ạ", "cô ơi cứu em"), never a sentence that
contains the words ("em cần giúp đỡ về bài tập" stays an answer). Matched on folded text in
children's chat spellings ("cuu e vs", "giup e voiii"): a whole message this short leaves no room
for the collisions folding makes inside sentences.
"""

from __future__ import annotations

import re

from bot.textnorm import chat_word, fold

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Marked words that fold into a call's words but mean something else: "cừu" (a sheep), "cựu"
# (former), "cửu" (nine).
_NOT_A_CALL = frozenset({"cừu", "cựu", "cửu", "cưu"})

# Whom the child calls, before the call: "cô ơi", "ai đó", "làm ơn", "mọi người ơi".
_CALLING = (r"(?:lam on|xin|please|pls|plz|ai|ai do|co|thay|chu|bac|anh|chi|ad|admin|bot"
            r"|moi nguoi|oi|oi oi)")
_WHO = r"(?:em|toi|minh|con|chau|to|tui|tao|us|me)"
_CALLS = (
    r"sos",
    r"(?:cuu|giup|giup do|ho tro)(?: (?:" + _WHO + r"|voi|gap|ngay|di))*",
    _WHO + r" (?:dang )?(?:can|gap|bi) (?:nguy hiem|giup|giup do|ho tro|duoc giup|cuu)"
    r"(?: (?:ngay|gap|voi|do))*",
    r"(?:please |pls |plz )?help(?: (?:me|us|please|now|pls|plz))*",
    r"i (?:really )?need (?:some )?help(?: (?:now|please))*",
    r"i (?:am|m) in danger(?: now)?",
)
_PLEA = re.compile(rf"(?:{_CALLING} )*(?:{'|'.join(_CALLS)})(?: (?:a|nhe|nha|voi|di|please|oi))*")


def words(text: str) -> str:
    """The message folded, in plain words: no marks, no punctuation or emoji, chat spellings
    expanded ("cứu e vs!!" → "cuu em voi")."""
    folded = _NOT_WORD.sub(" ", fold(text)).split()
    return " ".join(chat_word(word) for word in folded)


def asks_for_help(text: str, labels: frozenset[str] = frozenset()) -> bool:
    """True when the whole message is a call for help, or is one of `labels` (the 🆘 button's
    words in every language, as `words` gives them: typed instead of pressed)."""
    plain = words(text)
    if "🆘" in text and len(plain.split()) <= 4:  # the emoji, alone or nearly: a call
        return True
    if len(plain) > 60 or not plain or not _NOT_A_CALL.isdisjoint(text.lower().split()):
        return False
    return plain in labels or _PLEA.fullmatch(plain) is not None
