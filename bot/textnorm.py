"""Text normalisation shared by matching, language tagging and safeguarding."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Zero-width and bidirectional control characters: invisible, never meaningful in an answer.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def nfc(text: str) -> str:
    """Compose decomposed (NFD) input, as some phone keyboards send it."""
    return unicodedata.normalize("NFC", text)


def clean(text: str) -> str:
    """NFC, invisible characters removed, runs of whitespace collapsed, ends trimmed."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", nfc(text))).strip()


def fold(text: str) -> str:
    """Lower-case text without tone marks or diacritics (đ → d), for matching what children type."""
    decomposed = unicodedata.normalize("NFD", clean(text).lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d"))
