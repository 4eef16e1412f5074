"""Builders of the Telegram objects a simulated user sends (users, chats, message contents)."""

from __future__ import annotations

import re
import time
from typing import Any

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?")


def now() -> int:
    """Unix time, as Telegram dates are."""
    return int(time.time())


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def user(user_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    """A (human) User object."""
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        result["language_code"] = language_code
    return result


def chat(chat_id: int, chat_type: str, first_name: str) -> dict[str, Any]:
    """A Chat object: private chats carry the user's name, groups a title."""
    if chat_type == "private":
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": chat_type, "title": f"Nhóm {chat_id}"}


def text_content(text: str) -> dict[str, Any]:
    """Message fields for `text`; a leading /command gets its bot_command entity."""
    content: dict[str, Any] = {"text": text}
    match = _COMMAND_RE.match(text)
    if match:
        length = utf16_len(match.group(0))
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


def file_ids(serial: int, prefix: str) -> dict[str, str]:
    """file_id and file_unique_id of a simulated file."""
    return {"file_id": f"{prefix}-{serial}", "file_unique_id": f"u{prefix}{serial}"}


def sticker_content(serial: int, emoji: str = "🙂") -> dict[str, Any]:
    """Message fields of a sticker."""
    sticker = {
        **file_ids(serial, "sticker"),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }
    return {"sticker": sticker}


def photo_content(serial: int, caption: str | None = None) -> dict[str, Any]:
    """Message fields of a photo (two sizes)."""
    sizes = [
        {**file_ids(serial * 2, "photo"), "width": 90, "height": 90, "file_size": 1200},
        {**file_ids(serial * 2 + 1, "photo"), "width": 800, "height": 800, "file_size": 64000},
    ]
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return content


def voice_content(serial: int, duration: int = 3) -> dict[str, Any]:
    """Message fields of a voice note."""
    voice = {**file_ids(serial, "voice"), "duration": duration, "mime_type": "audio/ogg"}
    return {"voice": voice}


def location_content(latitude: float = 14.35, longitude: float = 108.0) -> dict[str, Any]:
    """Message fields of a location (default: Kon Tum)."""
    return {"location": {"latitude": latitude, "longitude": longitude}}


def contact_content(user_id: int, phone_number: str, first_name: str) -> dict[str, Any]:
    """Message fields of a shared contact."""
    contact = {"phone_number": phone_number, "first_name": first_name, "user_id": user_id}
    return {"contact": contact}


def chats_in(update: dict[str, Any]) -> list[dict[str, Any]]:
    """The Chat objects an update mentions (so the bot may write to them)."""
    found = []
    for key in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if isinstance(update.get(key), dict) and "chat" in update[key]:
            found.append(update[key]["chat"])
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        found.append(query["message"]["chat"])
    return found


def user_ids_in(update: dict[str, Any]) -> list[int]:
    """Ids of the users an update comes from."""
    ids = []
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("from"), dict):
            ids.append(int(value["from"]["id"]))
    return ids
