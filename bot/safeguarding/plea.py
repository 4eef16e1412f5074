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

# Whom the child calls, before the call: "cô ơi", "ai đó", "làm ơn", "mọi người ơi", "có ai
# không", "someone".
_CALLING = (r"(?:lam on|xin|please|pls|plz|ai|ai do|co|thay|chu|bac|anh|chi|ad|admin|bot"
            r"|moi nguoi|mn|mng|oi|oi oi|co ai|co ai khong|someone|anyone|can someone"
            r"|can anyone)")
_WHO = r"(?:em|toi|minh|con|chau|to|tui|tao|us|me)"
_CALLS = (
    r"sos",
    r"(?:cuu|giup|giup do|ho tro)(?: (?:" + _WHO + r"|voi|gap|ngay|di))*",
    _WHO + r" (?:dang )?(?:can|gap|bi) (?:nguoi )?(?:nguy hiem|giup|giup do|ho tro|duoc giup"
    r"|cuu)(?: (?:ngay|gap|voi|do))*",
    r"(?:please |pls |plz )?help(?: (?:me|us|please|now|pls|plz))*",
    r"i (?:really )?need (?:some )?help(?: (?:now|please|pls|plz))*",
    r"i (?:am|m) in danger(?: now)?",
)
# Fear said with the call, before or after it: "em sợ quá", "em đang gặp nguy hiểm".
_FEAR = (r"(?:" + _WHO + r" )?(?:so|so qua|so lam|dang gap nguy hiem|dang nguy hiem"
         r"|dang nguy hiem lam|gap nguy hiem)")
_CALL = rf"(?:{'|'.join(_CALLS)})"
_END = r"(?: (?:a|nhe|nha|voi|di|please|pls|plz|oi))*"
# One call or several ("cứu cứu cứu", "sos cứu em"), called to someone, fear beside it.
_PLEA = re.compile(rf"(?:{_FEAR} )?(?:{_CALLING} )*{_CALL}{_END}(?: {_CALL}{_END})*"
                   rf"(?: {_FEAR})?")
_LONG_CUU = re.compile(r"\bcuu+\b")  # "cứuuuu": a call stretched, not squeezed to "cu"


def words(text: str) -> str:
    """The message folded, in plain words: no marks, no punctuation or emoji, chat spellings
    expanded ("cứu e vs!!" → "cuu em voi")."""
    folded = _LONG_CUU.sub("cuu", _NOT_WORD.sub(" ", fold(text))).split()
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
