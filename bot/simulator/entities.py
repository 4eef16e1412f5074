"""Telegram's parse modes (HTML, MarkdownV2, Markdown) reduced to "visible text or an error".

The rules and the error wording follow tdlib's parser (td/telegram/MessageEntity.cpp), so a
message the simulator accepts is one Telegram accepts too.
"""

from __future__ import annotations

import re

HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z]{1,10});")
_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"


class EntityError(ValueError):
    """The text does not parse in the given parse mode (message as Telegram words it)."""


def visible_text(text: str, parse_mode: str | None) -> str:
    """Return the text a user sees once `parse_mode` markup is applied; raise EntityError."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    return text


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    """Decode the HTML entity at text[i] == '&'; unknown ones stay a literal '&'."""
    match = _ENTITY_RE.match(text, i)
    if match is None:
        return "&", 1
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), match.end() - i
        return "&", 1
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name], match.end() - i
    return "&", 1


def _unescape(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            char, used = _decode_entity(value, i)
            out.append(char)
            i += used
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_html(text: str) -> str:
    """Visible text of Telegram-HTML `text`."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            decoded, used = _decode_entity(text, i)
            out.append(decoded)
            i += used
        elif char != "<":
            out.append(char)
            i += 1
        elif text.startswith("</", i):
            i = _html_end_tag(text, i, stack)
        else:
            i = _html_start_tag(text, i, stack)
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _html_start_tag(text: str, begin: int, stack: list[str]) -> int:
    """Parse the start tag at text[begin]; push it; return the index after '>'."""
    offset = _byte_offset(text, begin)
    i = begin + 1
    while i < len(text) and not text[i].isspace() and text[i] != ">":
        i += 1
    if i >= len(text):
        raise EntityError(f"Unclosed start tag at byte offset {offset}")
    tag = text[begin + 1 : i].lower()
    if tag not in HTML_TAGS:
        raise EntityError(f'Unsupported start tag "{tag}" at byte offset {offset}')
    attributes: dict[str, str] = {}
    while True:
        i = _skip_spaces(text, i)
        if i >= len(text):
            raise EntityError(f"Unclosed start tag at byte offset {offset}")
        if text[i] == ">":
            break
        i = _html_attribute(text, i, tag, offset, attributes)
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    stack.append(tag)
    return i + 1


def _html_attribute(text: str, i: int, tag: str, offset: int, out: dict[str, str]) -> int:
    """Parse one `name=value` attribute starting at text[i]; return the index after it."""
    start = i
    while i < len(text) and not text[i].isspace() and text[i] not in "=>":
        i += 1
    name = text[start:i].lower()
    if not name:
        raise EntityError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
    i = _skip_spaces(text, i)
    if tag == "blockquote" and name == "expandable" and text[i : i + 1] != "=":
        out[name] = ""  # the one attribute Telegram accepts without a value
        return i
    if i >= len(text) or text[i] != "=":
        raise EntityError(
            f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
            f"at byte offset {offset}"
        )
    i = _skip_spaces(text, i + 1)
    if i >= len(text):
        raise EntityError(f"Unclosed start tag at byte offset {offset}")
    if text[i] in "'\"":
        end = text.find(text[i], i + 1)
        if end < 0:
            raise EntityError(f"Unclosed start tag at byte offset {offset}")
        out[name] = _unescape(text[i + 1 : end])
        return end + 1
    end = i
    while end < len(text) and (text[end].isalnum() or text[end] in ".-"):
        end += 1
    if end == i:
        raise EntityError(f"Unexpected end of name token at byte offset {_byte_offset(text, i)}")
    out[name] = text[i:end].lower()
    return end


def _html_end_tag(text: str, begin: int, stack: list[str]) -> int:
    """Parse the end tag at text[begin]; pop its start tag; return the index after '>'."""
    offset = _byte_offset(text, begin)
    if not stack:
        raise EntityError(f"Unexpected end tag at byte offset {offset}")
    i = begin + 2
    while i < len(text) and not text[i].isspace() and text[i] != ">":
        i += 1
    name = text[begin + 2 : i].lower()
    i = _skip_spaces(text, i)
    if i >= len(text) or text[i] != ">":
        raise EntityError(f"Unclosed end tag at byte offset {offset}")
    expected = stack.pop()
    if name and name != expected:
        raise EntityError(
            f'Unmatched end tag at byte offset {offset}, expected "</{expected}>", '
            f'found "</{name}>"'
        )
    return i + 1


def _reserved(char: str) -> EntityError:
    return EntityError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )


def _mdv2_opener(text: str, i: int) -> tuple[str, int]:
    """Entity kind opened by the reserved character at text[i] and the index after its marker."""
    char = text[i]
    nxt = text[i + 1 : i + 2]
    if char == "_":
        return ("Underline", i + 2) if nxt == "_" else ("Italic", i + 1)
    if char == "|" and nxt == "|":
        return "Spoiler", i + 2
    if char == "!" and nxt == "[":
        return "CustomEmoji", i + 2
    if char == "`":
        if text.startswith("```", i):
            end = i + 3
            while end < len(text) and not text[end].isspace() and text[end] != "`":
                end += 1
            if text.startswith("\n", end):  # the language line's newline is not shown
                end += 1
            return "Pre", end
        return "Code", i + 1
    simple = {"*": "Bold", "~": "Strikethrough", "[": "TextUrl"}
    if char in simple:
        return simple[char], i + 1
    raise _reserved(char)


def _mdv2_closes(kind: str, text: str, i: int) -> int:
    """Length of the closing marker of `kind` at text[i], or 0 if it is not there."""
    markers = {
        "Bold": "*", "Italic": "_", "Code": "`", "Pre": "```", "TextUrl": "]",
        "CustomEmoji": "]", "Underline": "__", "Strikethrough": "~", "Spoiler": "||",
    }  # fmt: skip
    marker = markers[kind]
    if not text.startswith(marker, i):
        return 0
    if kind == "Italic" and text.startswith("__", i):
        return 0
    return len(marker)


def _mdv2_url(text: str, i: int, kind: str) -> int:
    """Skip the `(url)` after a link's ']' at text[i - 1]; return the index after ')'."""
    if not text.startswith("(", i):
        if kind == "CustomEmoji":
            raise EntityError("Custom emoji entity must contain a tg://emoji URL")
        return i
    start = i + 1
    i = start
    while i < len(text) and text[i] != ")":
        i += 2 if text[i] == "\\" else 1
    if i >= len(text):
        raise EntityError(f"Can't find end of a URL at byte offset {_byte_offset(text, start)}")
    return i + 1


def parse_markdown_v2(text: str) -> str:
    """Visible text of MarkdownV2 `text`."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and 0 < ord(text[i + 1]) <= 126:
            out.append(text[i + 1])
            i += 2
            continue
        in_code = bool(stack) and stack[-1][0] in ("Code", "Pre")
        if char not in ("`" if in_code else _MDV2_RESERVED):
            out.append(char)
            i += 1
            continue
        if char == ">" and not stack and (i == 0 or text[i - 1] == "\n"):
            i += 1  # block quotation marker at the start of a line
            continue
        closing = _mdv2_closes(stack[-1][0], text, i) if stack else 0
        if closing:
            kind, _ = stack.pop()
            i += closing
            if kind in ("TextUrl", "CustomEmoji"):
                i = _mdv2_url(text, i, kind)
            continue
        kind, after = _mdv2_opener(text, i)
        stack.append((kind, _byte_offset(text, i)))
        i = after
    if stack:
        kind, offset = stack[-1]
        raise EntityError(f"Can't find end of {kind} entity at byte offset {offset}")
    return "".join(out)


def parse_markdown(text: str) -> str:
    """Visible text of legacy Markdown `text`."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.append(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.append(char)
            i += 1
            continue
        marker = "```" if text.startswith("```", i) else {"[": "]"}.get(char, char)
        start = i + (3 if marker == "```" else 1)
        end = text.find(marker, start)
        if end < 0:
            offset = _byte_offset(text, i)
            raise EntityError(f"Can't find end of the entity starting at byte offset {offset}")
        out.append(text[start:end])
        i = end + len(marker)
        if marker == "]" and text.startswith("(", i):
            close = text.find(")", i)
            i = len(text) if close < 0 else close + 1
    return "".join(out)
