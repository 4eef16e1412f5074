"""A text in several languages. Vietnamese is the base: every text has it, and a language
without its own text reads the Vietnamese (docs/language.md, "Adding a language")."""

from __future__ import annotations

BASE_LANG = "vi"


class Localized(dict[str, str]):
    """One text by language code; a language without its own reads the Vietnamese."""

    def __missing__(self, lang: str) -> str:
        if lang == BASE_LANG:
            raise KeyError(lang)
        return self[BASE_LANG]
