"""Does a message disclose harm? Two tiers, and the words that weighed.

    tier 1  disclosure: the child gets the hotline reply (111) at once, and a case is opened;
    tier 2  needs a look: nothing is said to the child; a case is opened and a proposal holding
            the text waits (never approved, never exported) until safeguarding staff clear it;
    tier 0  nothing found.

The model (bot.safeguarding.model, learnt from the corpus) decides both tiers; the phrase rules of
bot.safeguarding.lexicon add to tier 2 (they catch some wordings the model misses, and are not
precise enough to speak to a child on their own), except a self-harm phrase that speaks for itself
("không muốn sống nữa", "kill myself"): that child gets the hotline reply whatever the model
says. No detector is trusted alone: a person looks at every case, and moderators can flag
anything by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.safeguarding.lexicon import detect_disclosure
from bot.safeguarding.model import shipped
from bot.safeguarding.plea import asks_for_help, has_call

NOTHING, DISCLOSURE, NEEDS_A_LOOK = 0, 1, 2


@dataclass(frozen=True)
class Assessment:
    tier: int  # NOTHING, DISCLOSURE or NEEDS_A_LOOK
    probability: float  # the model's P(harm)
    kind: str  # the kind of harm it looks like ("physical_home", "self_harm" ...)
    weighed: tuple[str, ...]  # the words that weighed most (shown to staff)
    rule: str = ""  # the lexicon phrase that matched, if one did

    @property
    def found(self) -> bool:
        return self.tier != NOTHING


def assess(text: str) -> Assessment:
    model = shipped()
    probability = model.probability(text)
    rule = detect_disclosure(text)
    if probability >= model.tier1 or (rule is not None and rule.strong
                                       and rule.category == "self_harm"):
        tier = DISCLOSURE
    elif probability >= model.tier2 or rule is not None:
        tier = NEEDS_A_LOOK
    else:
        return Assessment(NOTHING, probability, "", ())
    return Assessment(tier, probability, model.kind(text), tuple(model.weighed(text)),
                      rule.matched if rule else "")


def calls_for_help(text: str, labels: frozenset[str] = frozenset()) -> bool:
    """A call for help, answered like 🆘: the whole message a call (bot.safeguarding.plea), or
    a call told with what the detector finds ("cứu em, bố đang đập cửa phòng"); a call beside
    anything else ("cứu em bài này với, mai nộp rồi") is not one."""
    return asks_for_help(text, labels) or (has_call(text) and assess(text).found)


def urgent(text: str) -> bool:
    """Must be read however fast the child writes (a flood is otherwise cut short unread): a
    call for help ("cứu em", /sos) or anything the detector finds."""
    return asks_for_help(text) or assess(text).found
