"""Small Telegram helpers shared by the handlers."""

from __future__ import annotations

from telegram import User


def staff_lang(user: User) -> str:
    """Staff read English when their Telegram is in English, Vietnamese otherwise."""
    return "en" if (user.language_code or "").startswith("en") else "vi"


def command_name(text: str) -> str:
    """"/Queue@childforum_bot args" → "queue"."""
    return (text or "/").split()[0][1:].split("@")[0].lower()
