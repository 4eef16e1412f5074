"""Configuration: a TOML file, validated at start with errors that name the key and the file."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

from bot.areas import FORUM_LEVELS, LEVELS, AreaError, District, forum_areas, level_in, load_areas
from bot.jobs.schedule import Timetable, parse_timetable
from bot.staff.roles import StaffMember, parse_staff
from bot.transport.pacing import Pacing

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_API_BASE_FILE_URL = "https://api.telegram.org/file/bot"
MIN_WEBHOOK_SECRET = 32
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


class ConfigError(ValueError):
    """A configuration problem, with the file and key it is about."""


@dataclass(frozen=True)
class Webhook:
    listen: str = "127.0.0.1"
    port: int = 8443
    url_path: str = "childforum"
    public_url: str = ""
    secret_token_env: str = "CHILDFORUM_WEBHOOK_SECRET"


@dataclass(frozen=True)
class Zalo:
    """[zalo]: the Zalo Bot Platform beside Telegram (docs/zalo.md). Webhook in production (Zalo
    posts each message to public_url, which reaches listen:port/url_path); polling only for
    development (Zalo keeps no offset)."""

    enabled: bool = False
    mode: str = "webhook"
    token_env: str = "CHILDFORUM_ZALO_TOKEN"
    secret_env: str = "CHILDFORUM_ZALO_SECRET"
    api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    listen: str = "127.0.0.1"
    port: int = 8444
    url_path: str = "zalo"
    public_url: str = ""

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None

    def secret(self) -> str | None:
        return os.environ.get(self.secret_env) or None

    def problem(self) -> str | None:
        """Why the Zalo channel must not start, or None."""
        if not self.enabled:
            return None
        if self.token() is None:
            return f"[zalo] is enabled: set {self.token_env} to the Zalo bot's token"
        secret = self.secret() or ""
        if self.mode == "webhook" and not 32 <= len(secret) <= 256:
            return (f"[zalo] webhook mode needs a secret: set {self.secret_env} to 32-256"
                    " random characters (Zalo sends it back with every call)")
        if self.mode == "webhook" and not self.public_url:
            return "[zalo] public_url: the https address Zalo posts messages to"
        return None


@dataclass(frozen=True)
class Config:
    source: Path
    districts: tuple[District, ...]  # the forum year's areas (districts, or communes and wards)
    database_path: Path
    forum_year: int = 2023
    area_level: str = "district"  # [areas] level: what `districts` holds
    # The areas file's other areas (the districts before 1 July 2025...): never a forum's now,
    # only named in the records and follow-up of the years that had them.
    past_areas: tuple[District, ...] = ()
    # [areas] levels: the level an earlier forum year was held at, where the file's validity
    # alone does not say (2025: districts until 30 June, communes after).
    year_levels: tuple[tuple[int, str], ...] = ()
    province: str = "Kon Tum"
    age_bands: tuple[str, ...] = ("6-9", "10-12", "13-15")
    flows_dir: Path | None = None
    languages_dir: Path | None = None  # [forum] languages_dir: one <code>.toml per added language
    token_env: str = "CHILDFORUM_TOKEN"
    api_base_url: str = DEFAULT_API_BASE_URL
    api_base_file_url: str = DEFAULT_API_BASE_FILE_URL
    mode: str = "polling"
    rate_limit: bool = True
    webhook: Webhook = field(default_factory=Webhook)
    pseudonym_key_env: str = "CHILDFORUM_PSEUDONYM_KEY"
    retention_days: int = 365
    answer_max_chars: int = 800
    flood_messages: int = 20
    flood_seconds: float = 10.0
    digest_minutes: float = 30.0  # how often moderators hear of new proposals
    # [safeguarding]: a case nobody acknowledged goes to the admins after escalate_minutes; the
    # children's words of a closed case go after purge_days.
    escalate_minutes: float = 60.0
    purge_days: float = 90.0
    staff: tuple[StaffMember, ...] = ()
    # [report]: who issues and signs the compiled Word report (see config.example.toml).
    report: tuple[tuple[str, object], ...] = ()
    # [report.areas.<code>]: what one area's own report says otherwise (its forum's date,
    # place and numbers, its signer...), over [report].
    report_areas: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()
    timetable: Timetable = field(default_factory=Timetable)
    # [outbox]: how fast messages go out; rate_limit = false lifts every limit (tests).
    pacing: Pacing = field(default_factory=Pacing)
    # The heartbeat file `childforum health` reads ([bot] health_file; default: beside the
    # database file, "<database>.health"; with a server, which several workers share, beside the
    # config and named after it: "worker-a.toml" -> "worker-a.health").
    health_file: Path | None = None
    # [storage] url: a PostgreSQL server instead of the file (its password from the environment
    # variable password_env), with a pool of pool_size connections per process; workers: how
    # many `childforum run` processes share it (they split the sending rate).
    database_url: str = ""
    password_env: str = "CHILDFORUM_DB_PASSWORD"
    pool_size: int = 10
    workers: int = 1
    zalo: Zalo = field(default_factory=Zalo)

    @property
    def health_path(self) -> Path:
        if self.health_file is not None:
            return self.health_file
        if self.database_url:
            return self.source.with_suffix(".health")
        return self.database_path.with_name(self.database_path.name + ".health")

    @property
    def database(self) -> Path | str:
        """The database to open: the server's address, or the SQLite file."""
        return self.database_url or self.database_path

    def database_password(self) -> str | None:
        """The server's password, from the environment (None: the URL or ~/.pgpass has it)."""
        return os.environ.get(self.password_env) or None

    def district(self, code: str) -> District | None:
        return next((d for d in self.districts if d.code == code), None)

    def area(self, code: str) -> District | None:
        """An area of this forum year or of the records (`past_areas`)."""
        return self.district(code) or next((a for a in self.past_areas if a.code == code), None)

    @property
    def every_area(self) -> tuple[District, ...]:
        """The forum year's areas, then the file's others (provinces, earlier years')."""
        return (*self.districts, *self.past_areas)

    def level_in(self, year: int) -> str:
        """The level the forum of `year` is held at: the config's for its own year; for
        another, `[areas] levels` or the level whose areas the file has for that year (the
        districts for 2023 in a commune config: docs/areas/README.md)."""
        if year == self.forum_year:
            return self.area_level
        chosen = dict(self.year_levels).get(year)
        return chosen or level_in(self.every_area, self.area_level, year)

    def areas_in(self, year: int) -> tuple[District, ...]:
        """The areas the forum of `year` is held in (this config's year: `districts`)."""
        if year == self.forum_year:
            return self.districts
        return forum_areas(self.every_area, self.level_in(year), year) or self.districts

    def parent_in(self, area: District, year: int) -> District | None:
        """The nearest area above `area` that existed in `year` (Tỉnh Kon Tum above Huyện Đắk
        Hà in 2023), or None."""
        seen = {area.code}
        parent = self.area(area.parent) if area.parent else None
        while parent is not None and parent.code not in seen:
            if parent.valid_in(year):
                return parent
            seen.add(parent.code)
            parent = self.area(parent.parent) if parent.parent else None
        return None

    def province_in(self, year: int, areas: tuple[District, ...] = ()) -> District | None:
        """The province of `areas` in `year` (their common parent that existed then), else the
        province-level area of the file that existed then and bears the config's province
        name; None when the file has none (inline [[districts]])."""
        parents = {self.parent_in(area, year) for area in areas}
        if len(parents) == 1 and (parent := parents.pop()) is not None \
                and parent.level == "province":
            return parent
        found = [area for area in self.past_areas
                 if area.level == "province" and area.valid_in(year)]
        named = [area for area in found if area.place_name == self.province]
        return next(iter(named or found), None)

    @property
    def area_codes(self) -> frozenset[str]:
        """Every area's code, the forum year's and the records' (the 2023 districts in a commune
        config): what a staff scope may name, so that their proposals are answered."""
        return frozenset(area.code for area in self.every_area)

    def with_database(self, target: Path | str) -> Config:
        """This config on another database: a file, or a server's postgresql:// address."""
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            return replace(self, database_url=target)
        return replace(self, database_path=Path(target), database_url="")

    def webhook_secret(self) -> str | None:
        """The secret Telegram sends back with each webhook call, from the environment."""
        return os.environ.get(self.webhook.secret_token_env) or None

    def webhook_problem(self) -> str | None:
        """Why webhook mode must not start, or None. Without a secret any POST to the webhook
        would be trusted as coming from Telegram (a forged /grant, say)."""
        if self.mode != "webhook":
            return None
        secret = self.webhook_secret()
        variable = self.webhook.secret_token_env
        if secret is None:
            return (f"webhook mode needs a secret: set {variable} to a random string of at least"
                    f" {MIN_WEBHOOK_SECRET} characters (letters, digits, _ and -)")
        if len(secret) < MIN_WEBHOOK_SECRET or not WEBHOOK_SECRET.fullmatch(secret):
            odd = sorted({ch for ch in secret if not (ch.isascii() and (ch.isalnum()
                                                                          or ch in "_-"))})
            found = (f"it has {', '.join(repr(ch) for ch in odd)}" if odd
                     else f"it has {len(secret)}")
            return (f"{variable} must be {MIN_WEBHOOK_SECRET} to 256 characters of letters,"
                    f" digits, _ and - ({found})")
        return None

    def token(self) -> str | None:
        """The bot token from the environment, or None (the simulator needs none)."""
        return os.environ.get(self.token_env) or None


class _Reader:
    """Typed access to a TOML table that reports the dotted key and the file on error."""

    def __init__(self, source: Path, table: dict[str, Any], prefix: str = "") -> None:
        self.source, self.table, self.prefix = source, table, prefix
        self.read: set[str] = set()  # the keys asked for: any other is a misspelt setting
        self.subs: dict[str, _Reader] = {}

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: [{self.prefix}{key}] {problem}")

    def unknown(self, tables: Collection[str]) -> None:
        """Refuse a key nobody reads in this table or in its `tables` ("retention_day" for
        "retention_days" would silently keep the default)."""
        for key in self.table:
            if key not in self.read:
                raise self.fail(key, "is not a setting (misspelt?)")
        for name in tables:
            if name in self.subs:
                self.subs[name].unknown(tables)

    def get(self, key: str, kind: type, default: Any) -> Any:
        self.read.add(key)
        value = self.table.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(key, f"must be {kind.__name__}, got {value!r}")
        return value

    def sub(self, key: str) -> _Reader:
        self.read.add(key)
        if key not in self.subs:
            value = self.table.get(key, {})
            if not isinstance(value, dict):
                raise self.fail(key, "must be a table")
            self.subs[key] = _Reader(self.source, value, f"{self.prefix}{key}.")
        return self.subs[key]


def _forum_areas(root: _Reader, year: int
                 ) -> tuple[tuple[District, ...], str, tuple[District, ...]]:
    """The forum year's areas and their level, and the file's other areas (for the records):
    from `[areas] file` (a CSV of the national list's layout, see bot.areas) or the inline
    [[districts]] (the district level)."""
    areas = root.sub("areas")
    path = areas.get("file", str, "")
    if not path:
        return _districts(root), "district", ()
    level = areas.get("level", str, "commune")
    if level not in LEVELS:
        raise areas.fail("level", f"must be one of {', '.join(LEVELS)}, got {level!r}")
    try:
        every = load_areas(_resolve(root.source, path))
    except AreaError as error:
        raise areas.fail("file", str(error)) from error
    chosen = forum_areas(every, level, year)
    if not chosen:
        raise areas.fail("level", f"no {level} in {path} is valid in the forum year {year}")
    return chosen, level, tuple(area for area in every if area not in chosen)


def _year_levels(root: _Reader, year: int, every: tuple[District, ...]
                 ) -> tuple[tuple[int, str], ...]:
    """[areas] levels = { 2025 = "district" }: the level of an earlier forum year, where the
    areas file has areas of both levels valid that year."""
    areas = root.sub("areas")
    table = areas.get("levels", dict, {})
    found = []
    for key, level in table.items():
        if not (key.isdigit() and 2000 <= int(key) <= 2100) or int(key) == year:
            raise areas.fail("levels", f"{key!r} must be an earlier or later forum year than"
                             f" [forum] year ({year}), as 2025 = \"district\"")
        if level not in FORUM_LEVELS:
            raise areas.fail("levels", f"{key} = {level!r}: the level must be one of"
                             f" {', '.join(FORUM_LEVELS)}")
        if not forum_areas(every, level, int(key)):
            raise areas.fail("levels", f"{key} = {level!r}: the areas file has no {level}"
                             f" valid in {key}")
        found.append((int(key), str(level)))
    return tuple(sorted(found))


def _districts(reader: _Reader) -> tuple[District, ...]:
    raw = reader.table.get("districts")
    if not isinstance(raw, list) or not raw:
        raise reader.fail("districts", "must list at least one [[districts]] table")
    districts = []
    for index, item in enumerate(raw):
        entry = _Reader(reader.source, item, f"districts[{index}].")
        code = entry.get("code", str, None)
        if not code.isalnum() or len(code) > 8:
            raise entry.fail("code", f"must be 1-8 letters or digits, got {code!r}")
        name = entry.get("name", str, None)
        districts.append(District(code, name, entry.get("name_en", str, name),
                                  entry.get("place", str, "")))
    codes = [d.code for d in districts]
    if len(set(codes)) != len(codes):
        raise reader.fail("districts", "codes must be unique")
    return tuple(districts)


# [report] keys, with the type each must have.
REPORT_TEXTS = ("issuer_body", "issuer_parent", "symbol", "recipient", "province_recipient",
                "basis", "signer_name", "drafting_unit", "forum_date", "forum_place",
                "forum_ages")
REPORT_LISTS = ("signer_lines", "copies_to", "proposals")
REPORT_COUNTS = ("forum_children", "forum_girls", "forum_boys", "forum_facilitators")


def _report_areas(reader: _Reader, known: set[str]
                  ) -> tuple[tuple[str, tuple[tuple[str, object], ...]], ...]:
    """[report.areas.<code>] tables: an area's own report settings."""
    areas = reader.sub("areas")
    found = []
    for code in areas.table:
        if code not in known:
            raise areas.fail(code, f"is not an area code of the config ({len(known)} known)")
        found.append((code, _report(areas.sub(code))))
    return tuple(found)


def _report(reader: _Reader) -> tuple[tuple[str, object], ...]:
    """The [report] table (or an area's): only known keys, each of its type."""
    values: list[tuple[str, object]] = []
    for key in reader.table:
        if key == "areas" and not reader.prefix.startswith("report.areas"):
            continue  # read by _report_areas
        if key in REPORT_TEXTS:
            values.append((key, reader.get(key, str, "")))
        elif key in REPORT_LISTS:
            items = reader.get(key, list, [])
            if not all(isinstance(item, str) for item in items):
                raise reader.fail(key, "must be a list of strings")
            values.append((key, tuple(items)))
        elif key == "fill_date":
            values.append((key, reader.get(key, bool, False)))
        elif key in REPORT_COUNTS:
            values.append((key, _between(reader, key, 0, 0, 1_000_000)))
        elif key == "margins_mm":
            margins = reader.get(key, list, [])
            if len(margins) != 4 or not all(isinstance(m, int | float) for m in margins):
                raise reader.fail(key, "must be four numbers: top, bottom, left, right")
            values.append((key, tuple(float(m) for m in margins)))
        else:
            known = ", ".join((*REPORT_TEXTS, *REPORT_LISTS, *REPORT_COUNTS, "fill_date",
                               "margins_mm"))
            raise reader.fail(key, f"is not a report setting; known: {known}")
    return tuple(values)


def _positive(reader: _Reader, key: str, default: float) -> float:
    value: float = reader.get(key, float, default)
    if value <= 0:
        raise reader.fail(key, f"must be a positive number, got {value!r}")
    return value


def _between(reader: _Reader, key: str, default: int, low: int, high: int) -> int:
    value: int = reader.get(key, int, default)
    if not low <= value <= high:
        raise reader.fail(key, f"must be between {low} and {high}, got {value}")
    return value


def _database_url(reader: _Reader) -> str:
    """[storage] url: "" (the SQLite file) or a postgresql:// address without a password."""
    url: str = reader.get("url", str, "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise reader.fail("url", f'must start with "postgresql://", got {url!r}')
    userinfo = url.split("://", 1)[1].split("@", 1)[0] if "@" in url else ""
    query = url.split("?", 1)[1].lower() if "?" in url else ""
    if ":" in userinfo or "password=" in query:
        raise reader.fail("url", "must not hold the password: put it in the environment"
                          " variable named by password_env")
    return url


def _quiet_hours(reader: _Reader) -> tuple[time | None, time | None]:
    value = reader.get("quiet_hours", str, "21:00-07:00").strip()
    if not value:
        return None, None
    try:
        start, end = (datetime.strptime(part.strip(), "%H:%M").time()
                      for part in value.split("-"))
    except ValueError as error:
        raise reader.fail("quiet_hours", f'must be "HH:MM-HH:MM" or "", got {value!r}') from error
    return start, end


def _pacing(reader: _Reader, enabled: bool) -> Pacing:
    start, end = _quiet_hours(reader)
    burst = reader.get("chat_burst", int, 5)
    attempts = reader.get("max_attempts", int, 8)
    if burst < 1 or attempts < 1:
        raise reader.fail("chat_burst" if burst < 1 else "max_attempts", "must be 1 or more")
    pacing = Pacing(
        messages_per_second=_positive(reader, "messages_per_second", 30.0),
        notices_per_second=_positive(reader, "notices_per_second", 25.0),
        chat_per_second=_positive(reader, "chat_per_second", 1.0),
        chat_burst=burst, quiet_start=start, quiet_end=end, max_attempts=attempts)
    return pacing if enabled else pacing.unlimited()


def _resolve(source: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else source.parent / path


def load_config(path: Path | str) -> Config:
    """Read and validate a config file."""
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"{source}: file not found") from error
    except IsADirectoryError as error:
        raise ConfigError(f"{source}: is a folder, not a config file") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{source}: not UTF-8 text") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from error
    root = _Reader(source, data)
    bot, hook = root.sub("bot"), root.sub("bot").sub("webhook")
    storage, privacy, limits, forum = (
        root.sub("storage"), root.sub("privacy"), root.sub("limits"), root.sub("forum"),
    )
    mode = bot.get("mode", str, "polling")
    if mode not in ("polling", "webhook"):
        raise bot.fail("mode", f"must be 'polling' or 'webhook', got {mode!r}")
    age_bands = forum.get("age_bands", list, ["6-9", "10-12", "13-15"])
    if not age_bands or not all(isinstance(band, str) for band in age_bands):
        raise forum.fail("age_bands", "must be a non-empty list of strings")
    flows_dir = forum.get("flows_dir", str, "")
    languages_dir = forum.get("languages_dir", str, "")
    max_chars = limits.get("answer_max_chars", int, 800)
    if not 20 <= max_chars <= 1200:
        raise limits.fail("answer_max_chars", "must be between 20 and 1200")
    year = forum.get("year", int, 2023)
    districts, area_level, past_areas = _forum_areas(root, year)
    year_levels = _year_levels(root, year, (*districts, *past_areas))
    rate_limit = bot.get("rate_limit", bool, True)
    config = Config(
        source=source,
        districts=districts,
        past_areas=past_areas,
        year_levels=year_levels,
        staff=parse_staff(data.get("staff", []), str(source),
                          {a.code for a in (*districts, *past_areas)}),
        report=_report(root.sub("report")),
        report_areas=_report_areas(root.sub("report"), {d.code for d in districts}
                                   | {a.code for a in past_areas}),
        timetable=parse_timetable(data, str(source), {d.code for d in districts}),
        database_path=_resolve(source, storage.get("path", str, "childforum.sqlite3")),
        database_url=_database_url(storage),
        password_env=storage.get("password_env", str, "CHILDFORUM_DB_PASSWORD"),
        pool_size=_between(storage, "pool_size", 10, 2, 200),
        workers=_between(storage, "workers", 1, 1, 64),
        forum_year=year,
        area_level=area_level,
        province=forum.get("province", str, "Kon Tum"),
        age_bands=tuple(age_bands),
        flows_dir=_resolve(source, flows_dir) if flows_dir else None,
        languages_dir=_resolve(source, languages_dir) if languages_dir else None,
        token_env=bot.get("token_env", str, "CHILDFORUM_TOKEN"),
        api_base_url=bot.get("api_base_url", str, DEFAULT_API_BASE_URL),
        api_base_file_url=bot.get("api_base_file_url", str, DEFAULT_API_BASE_FILE_URL),
        mode=mode,
        rate_limit=rate_limit,
        health_file=_resolve(source, health) if (health := bot.get("health_file", str, ""))
        else None,
        pacing=_pacing(root.sub("outbox"), rate_limit),
        webhook=Webhook(
            listen=hook.get("listen", str, "127.0.0.1"),
            port=_between(hook, "port", 8443, 1, 65_535),
            url_path=hook.get("url_path", str, "childforum"),
            public_url=hook.get("public_url", str, ""),
            secret_token_env=hook.get("secret_token_env", str, "CHILDFORUM_WEBHOOK_SECRET"),
        ),
        pseudonym_key_env=privacy.get("pseudonym_key_env", str, "CHILDFORUM_PSEUDONYM_KEY"),
        retention_days=_between(privacy, "retention_days", 365, 1, 36_500),
        answer_max_chars=max_chars,
        flood_messages=_between(limits, "flood_messages", 20, 1, 10_000),
        flood_seconds=_positive(limits, "flood_seconds", 10.0),
        digest_minutes=_positive(root.sub("moderation"), "digest_minutes", 30.0),
        escalate_minutes=_positive(root.sub("safeguarding"), "escalate_minutes", 60.0),
        purge_days=_positive(root.sub("safeguarding"), "purge_days", 90.0),
        zalo=_zalo(root.sub("zalo")),
    )
    # Tables read key by key here (others check their own: [report], [[staff]], [[districts]]
    # [areas], the timetable's).
    root.read.update(("staff", "districts", "deadlines", "timetable", "schedules"))
    root.unknown(("bot", "webhook", "storage", "privacy", "limits", "forum", "outbox",
                  "moderation", "safeguarding", "zalo"))
    return config


def _zalo(table: _Reader) -> Zalo:
    mode = table.get("mode", str, "webhook")
    if mode not in ("webhook", "polling"):
        raise table.fail("mode", f"must be 'webhook' or 'polling', got {mode!r}")
    return Zalo(enabled=table.get("enabled", bool, False), mode=mode,
                token_env=table.get("token_env", str, "CHILDFORUM_ZALO_TOKEN"),
                secret_env=table.get("secret_env", str, "CHILDFORUM_ZALO_SECRET"),
                api_base_url=table.get("api_base_url", str, Zalo.api_base_url),
                listen=table.get("listen", str, "127.0.0.1"),
                port=_between(table, "port", 8444, 1, 65_535),
                url_path=table.get("url_path", str, "zalo").strip("/"),
                public_url=table.get("public_url", str, ""))
