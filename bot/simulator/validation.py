"""Checks every Bot API request against the spec (bot-api-subset.json) and Telegram's limits.

Stricter than Telegram on one point, on purpose: an unknown parameter is an error, so a typo in
the bot's code fails a test instead of being silently ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from importlib import resources
from typing import Any

from bot.simulator.entities import EntityError, visible_text

SPEC_FILE = "bot-api-subset.json"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_DISCRIMINATOR_RE = re.compile(r"must be ([a-z_]+)\s*$")
_DISCRIMINATORS = ("type", "source", "status")
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip


class ApiError(Exception):
    """A request Telegram would refuse: HTTP status and description."""

    def __init__(self, description: str, code: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after  # a 429's ResponseParameters.retry_after


def bad_request(detail: str) -> ApiError:
    """A 400 error worded as Telegram does ("Bad Request: ...")."""
    return ApiError(f"Bad Request: {detail}")


@dataclass(frozen=True)
class Upload:
    """A file posted with multipart/form-data."""

    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class Field:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    must_be: str | None  # fixed value of a discriminator field ("type": "chat")


@dataclass(frozen=True)
class Spec:
    """The part of the Bot API spec the simulator validates against."""

    version: str
    methods: dict[str, dict[str, Field]]  # canonical method name -> fields
    types: dict[str, dict[str, Field]]
    subtypes: dict[str, tuple[str, ...]]
    other_methods: frozenset[str]  # lowercase names of spec methods not simulated
    lower_names: dict[str, str]  # lowercase method name -> canonical spelling

    def method_name(self, name: str) -> str | None:
        """Canonical spelling of a simulated method (Telegram ignores case)."""
        return self.lower_names.get(name.lower())


def _fields(raw: list[dict[str, Any]]) -> dict[str, Field]:
    fields = {}
    for item in raw:
        match = _DISCRIMINATOR_RE.search(item.get("description", ""))
        must_be = match.group(1) if match and item["name"] in _DISCRIMINATORS else None
        fields[item["name"]] = Field(item["name"], tuple(item["types"]), item["required"], must_be)
    return fields


@cache
def load_spec() -> Spec:
    """Load the bundled spec (works from an installed package)."""
    text = resources.files("bot.simulator").joinpath("data").joinpath(SPEC_FILE).read_text("utf-8")
    raw = json.loads(text)
    return Spec(
        version=raw["version"],
        methods={name: _fields(m["fields"]) for name, m in raw["methods"].items()},
        types={name: _fields(t.get("fields", [])) for name, t in raw["types"].items()},
        subtypes={n: tuple(t["subtypes"]) for n, t in raw["types"].items() if "subtypes" in t},
        other_methods=frozenset(name.lower() for name in raw["other_methods"]),
        lower_names={name.lower(): name for name in raw["methods"]},
    )


# --- decoding form values -------------------------------------------------------------------


def decode_params(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Turn form/query strings into the JSON values the spec's types call for."""
    fields = load_spec().methods[method]
    decoded: dict[str, Any] = {}
    for name, value in params.items():
        field = fields.get(name)
        decoded[name] = _decode(value, field.types) if field and isinstance(value, str) else value
    return _resolve_attachments(fields, decoded)


def _decode(raw: str, types: tuple[str, ...]) -> Any:
    if set(types) <= {"String", "InputFile"}:
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if "String" in types and check_value(value, types, "") is not None:
        return raw
    return value


def _resolve_attachments(fields: dict[str, Field], params: dict[str, Any]) -> dict[str, Any]:
    """Replace "attach://name" values of InputFile parameters by the upload named `name`."""
    for name, field in fields.items():
        value = params.get(name)
        if "InputFile" in field.types and isinstance(value, str) and value.startswith("attach://"):
            attached = params.get(value.removeprefix("attach://"))
            if isinstance(attached, Upload):
                params[name] = attached
                del params[value.removeprefix("attach://")]
    return params


# --- type checking ----------------------------------------------------------------------------


def check_value(value: Any, types: tuple[str, ...], path: str) -> str | None:
    """None if `value` matches one of `types`, else what is wrong with it."""
    problems = []
    for type_name in types:
        problem = _check_one(value, type_name, path)
        if problem is None:
            return None
        problems.append(problem)
    deepest = max(problems, key=lambda problem: len(problem.partition(":")[0]))
    if len(deepest.partition(":")[0]) > len(path):
        return deepest  # the value has the shape of that type, but a wrong field
    return problems[0] if len(problems) == 1 else f"{path}: expected {' or '.join(types)}"


def _check_one(value: Any, type_name: str, path: str) -> str | None:
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return f"{path}: expected {type_name}"
        item_type = (type_name.removeprefix("Array of "),)
        for index, item in enumerate(value):
            problem = check_value(item, item_type, f"{path}[{index}]")
            if problem:
                return problem
        return None
    scalar_ok = {
        "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "String": lambda v: isinstance(v, str),
        "InputFile": lambda v: isinstance(v, Upload),
    }
    if type_name in scalar_ok:
        return None if scalar_ok[type_name](value) else f"{path}: expected {type_name}"
    return _check_object(value, type_name, path)


def _check_object(value: Any, type_name: str, path: str) -> str | None:
    if not isinstance(value, dict):
        return f"{path}: expected {type_name} object"
    spec = load_spec()
    subtypes = spec.subtypes.get(type_name)
    if subtypes:
        problems = [_check_object(value, sub, path) for sub in subtypes]
        if None in problems:
            return None
        relevant = [p for p in problems if p is not None and "must be" not in p]
        return relevant[0] if relevant else f"{path}: unknown kind of {type_name}"
    fields = spec.types.get(type_name)
    if not fields:
        return None  # an empty object type such as CallbackGame
    return check_fields(value, fields, path, type_name)


def check_fields(
    value: dict[str, Any], fields: dict[str, Field], path: str, what: str
) -> str | None:
    """Check an object's (or a request's) fields: unknown, missing, discriminator, types."""
    prefix = f"{path}." if path else ""
    for name in value:
        if name not in fields:
            return (
                f"{path}.{name}: unknown field of {what}" if path else f"unknown parameter {name}"
            )
    for field in fields.values():
        if field.name not in value:
            if field.required:
                return f"{prefix}{field.name}: required field of {what} is missing"
            continue
        item = value[field.name]
        if field.must_be is not None and item != field.must_be:
            return f"{prefix}{field.name}: must be {field.must_be} in {what}"
        problem = check_value(item, field.types, f"{prefix}{field.name}")
        if problem:
            return problem
    return None


# --- whole requests -----------------------------------------------------------------------------


def validate_request(method: str, params: dict[str, Any]) -> None:
    """Raise ApiError if `params` break the spec or Telegram's limits for `method`."""
    problem = check_fields(params, load_spec().methods[method], "", method)
    if problem:
        raise bad_request(problem)
    _check_text(params)
    _check_markup(params.get("reply_markup"))
    if method in _LIMITS:
        _LIMITS[method](params)


def parsed_text(text: str, parse_mode: str | None) -> str:
    """Visible text, or ApiError "can't parse entities"."""
    if parse_mode and parse_mode.lower() not in _PARSE_MODES:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    try:
        return visible_text(text, parse_mode)
    except EntityError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def _check_text(params: dict[str, Any]) -> None:
    parse_mode = params.get("parse_mode")
    if "text" in params:
        text = parsed_text(params["text"], parse_mode)
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
    if "caption" in params:
        caption = parsed_text(params["caption"], parse_mode)
        if len(caption) > MAX_CAPTION:
            raise bad_request("message caption is too long")


def _check_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            _check_inline_button(button)
    for row in markup.get("keyboard", []):
        for button in row:
            text = button if isinstance(button, str) else button.get("text")
            if not text:
                raise bad_request("keyboard button text must be non-empty")


def _check_inline_button(button: dict[str, Any]) -> None:
    if not button.get("text"):
        raise bad_request("BUTTON_TEXT_EMPTY")
    actions = [name for name in _INLINE_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(f"can't parse inline keyboard button: more than one of {actions}")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"(https?|tg)://\S+$", url):
        raise bad_request("BUTTON_URL_INVALID")


def _check_callback_answer(params: dict[str, Any]) -> None:
    if len(params.get("text", "")) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")


def _check_commands(params: dict[str, Any]) -> None:
    for command in params["commands"]:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= 256:
            raise bad_request("command description must be 1-256 characters long")


def _check_chat_action(params: dict[str, Any]) -> None:
    if params["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")


def _check_length(params: dict[str, Any], name: str, limit: int) -> None:
    if len(params.get(name, "")) > limit:
        raise bad_request(f"{name} is too long")


_LIMITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "answerCallbackQuery": _check_callback_answer,
    "setMyCommands": _check_commands,
    "sendChatAction": _check_chat_action,
    "setMyDescription": partial(_check_length, name="description", limit=512),
    "setMyShortDescription": partial(_check_length, name="short_description", limit=120),
}
