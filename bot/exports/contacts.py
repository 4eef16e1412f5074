"""Contact details in children's words, masked in what leaves the bot (exports, the Word report,
the answers workbook): a phone number, an e-mail address, a social-network link or handle.

A child writes "nhà em ở thôn 3, sđt bố em 0912 345 678" in a proposal: the moderator reads it
on the card (and may reject it for personal data), but no file an officer sends on should carry
it. Pure: no I/O. What it finds, and misses, on texts written by people who never saw it:
tests/data/heldout/README.md. Names are not found (a name is a word like any other).
"""

from __future__ import annotations

import re
from functools import lru_cache

PHONE, EMAIL, ACCOUNT = "[số điện thoại]", "[email]", "[tài khoản mạng]"

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}")
# A person's page on a social network, with or without https:// and www./m.
_LINK = re.compile(
    r"(?i)(?:https?://)?(?:www\.|m\.|vt\.|vm\.)?"
    r"(?:facebook\.com|fb\.com|fb\.me|zalo\.me|tiktok\.com|instagram\.com|youtube\.com"
    r"|twitter\.com|x\.com|t\.me|messenger\.com|m\.me)/[^\s,;)\]]+")
# @name: an account, in the letters networks allow (a letter in it; "@ 7h", "em @ trường",
# "@mọi người" tagging a group, or a formula's "@SUM(" are not)
# (and a short word without digit, dot or underscore is a name tagged: "@Ban tổ chức")
_HANDLE = re.compile(r"(?<![\w@.])@(?=[A-Za-z0-9_.]*[A-Za-z])"
                     r"(?=[A-Za-z0-9_.]{5}|[A-Za-z0-9_.]*[0-9_.][A-Za-z0-9_.]*(?![\w(]))"
                     r"[A-Za-z0-9_.]{3,30}(?![\w(])")
# A phone number as people type it: 0…, 84…, +84…, (+84)…; digits in groups of any size,
# split by spaces, dots or dashes. Checked by its digits below.
# A landline's area code may come in brackets: "(0260) 3862 123".
_PHONE = re.compile(r"(?<!\d)(?<!\d[.,/])(?:\(\s*\+?84\s*\)|\+\s*84|84|0|\(\s*0(?=\d{2,3}\s*\)))"
                    r"(?:[\s.)-]{0,3}\d){8,10}(?!\d|[.,/]\d)")


def _is_phone(found: str) -> bool:
    digits = re.sub(r"\D", "", found)
    if found.lstrip("( ").startswith(("+", "84")) and digits.startswith("84"):
        national = digits[2:]
        return len(national) in (9, 10) and not national.startswith("0")
    # Viet Nam: mobiles 0 + 9 digits (03, 05, 07, 08, 09); landlines 02 + 9 digits.
    return (len(digits) == 10 and digits[1] in "35789") or (len(digits) == 11
                                                            and digits[1] == "2")


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=4096)  # the Word report writes a proposal's words two or three times
def mask(text: str) -> str:
    """`text` with every contact detail found replaced by a word in brackets. Each kind is
    looked for only where it can be (".com/" or ".me/", an "@", nine digits): an export masks
    every text of every row, and most have none of them."""
    if "/" in text and (".com/" in (low := text.lower()) or ".me/" in low):
        text = _LINK.sub(ACCOUNT, text)  # (slow: tried at every position of the text)
    if "@" in text:
        text = _HANDLE.sub(ACCOUNT, _EMAIL.sub(EMAIL, text))
    if len(_DIGIT.findall(text)) >= 9:
        text = _PHONE.sub(lambda m: PHONE if _is_phone(m.group()) else m.group(), text)
    return text
