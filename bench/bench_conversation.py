"""Conversation steps per second: the real bot against a bare python-telegram-bot echo floor.

    .venv/bin/python bench/bench_conversation.py              # 1,000 children, ~1-2 minutes
    .venv/bin/python bench/bench_conversation.py --children 50

N children talk to the bot at once, each going through a whole topic flow (14 steps: /start,
consent x2, language, district, age, gender, topic, two text answers, one multi-choice toggle,
done, skip, send). Each child sends its next step as soon as the bot has answered the previous
one (closed loop, no think time). Both the floor and the bot get their updates through the same
in-process fake Bot API (bench/_fake_api.py) by long polling, with the same number of updates
processed concurrently (256, the bot's ChatOrderedProcessor default).

A step's latency runs from the moment its update is available to getUpdates to the moment the
bot makes the call that ends the step. For the bot that is the first reply carrying an inline
keyboard (every step ends by showing the buttons of the next one; a toggle edits the keyboard in
place); the next step presses a button of that keyboard by its label, so a wrong or missing
answer fails the run. For the echo floor it is its single sendMessage.

Each scenario runs in its own subprocess (peak RSS is that process's ru_maxrss; it includes the
in-process fake Bot API and the simulated children, which the floor carries too). A third
subprocess runs the bot under cProfile and groups the time by component.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil
from _fake_api import JSON, FakeBotApi, has_keyboard
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-TOKEN"
STEP_TIMEOUT = 120.0
CHAT_BASE = 10_000_000
REFERENCE = re.compile(r"\b[A-Z0-9]{1,8}-\d{4}\b")

# --- What each child says ----------------------------------------------------------------------

# (seen, proposal, actor label) per topic, as a child would type them; topic 4 in English.
ANSWERS_VI = [
    ("Ở xã em, nhiều người lớn vẫn nghĩ đánh con là chuyện bình thường",
     "Nhà trường nên có hộp thư để học sinh kể chuyện bị bắt nạt", "Nhà trường"),
    ("suoi gan lang em sau lam, mua mua nuoc chay manh",
     "xa nen lam rao chan va day boi cho tre em", "Xã, phường"),
    ("Nhiều bạn chơi game đến khuya và bị người lạ nhắn tin làm quen",
     "Bố mẹ nên hướng dẫn con dùng mạng an toàn", "Gia đình"),
    ("Mùa mưa lũ làm sạt lở đường tới trường của chúng em",
     "Huyện nên làm cầu an toàn hơn và trồng thêm cây", "Huyện"),
    ("Nhiều bạn ở làng phải nghỉ học để đi làm rẫy với bố mẹ",
     "Xã cần hỗ trợ gia đình khó khăn để các bạn được đi học", "Trung ương"),
]
ANSWER_EN = ("Floods every rainy season cut the road to our school",
             "The district should build a safer bridge and plant more trees", "Province")
AGE_BANDS = ("6-9", "10-12", "13-15")
GENDERS = ("Bạn nữ", "Bạn nam", "Khác", "Em không muốn nói")
GENDERS_EN = ("A girl", "A boy", "Other", "Prefer not to say")


@dataclass(frozen=True)
class Step:
    kind: str  # "text" or "tap"
    value: str  # the text typed, or the start of the label of the button pressed
    name: str


HAPPENING_ASKED = (0, 2, 4)  # topics (0-based) with ask_if_happening


def script(index: int, districts: list[tuple[str, str]]) -> list[Step]:
    """One child's whole topic flow; children vary district, age, gender, topic, language."""
    topic = index % 5
    english = topic == 3 and index % 2 == 1
    seen, proposal, actor = ANSWER_EN if english else ANSWERS_VI[topic]
    district = districts[index % len(districts)][1 if english else 0]
    return [
        Step("text", "/start", "start"),
        Step("tap", "Em đồng ý", "consent"),
        Step("tap", "Có, đã đồng ý", "guardian"),
        Step("tap", "English" if english else "Tiếng Việt", "language"),
        Step("tap", district, "district"),
        Step("tap", AGE_BANDS[index % len(AGE_BANDS)], "age"),
        Step("tap", (GENDERS_EN if english else GENDERS)[index % len(GENDERS)], "gender"),
        Step("tap", f"{topic + 1}.", "topic"),
        Step("text", seen, "seen"),
        Step("text", proposal, "proposal"),
        Step("tap", actor, "toggle"),
        Step("tap", "✔️", "done"),
        Step("tap", "⏭", "skip"),
        # Violence, online safety and labour ask first whether it is happening to them.
        *([Step("tap", "Không", "happening")] if topic in HAPPENING_ASKED else []),
        Step("tap", "✅", "send"),
    ]


# --- The children ------------------------------------------------------------------------------


@dataclass
class Child:
    """A person in a private chat: sends a step, waits for its answer, sends the next."""

    chat_id: int
    steps: list[Step]
    is_end: Callable[[str, JSON], bool]
    press_real_buttons: bool
    latencies: list[float] = field(default_factory=list)
    keyboard: JSON | None = None  # the latest message with buttons (the bot)
    last: JSON | None = None  # the latest message (the echo floor)
    last_text: str = ""
    stray: int = 0
    _waiter: asyncio.Future[float] | None = None

    def on_reply(self, method: str, message: JSON, now: float) -> None:
        self.last = message
        if has_keyboard(message):
            self.keyboard = message
        self.last_text = message.get("text", "")
        if self._waiter is None or self._waiter.done():
            self.stray += 1
            return
        if self.is_end(method, message):
            self._waiter.set_result(now)

    def _user(self) -> JSON:
        return {"id": self.chat_id, "is_bot": False, "first_name": "Child", "language_code": "vi"}

    def _update(self, step: Step, message_id: int) -> JSON:
        if step.kind == "text":
            message: JSON = {
                "message_id": message_id, "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": "Child"},
                "from": self._user(), "text": step.value,
            }
            if step.value.startswith("/"):
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(step.value.split()[0])}]
            return {"message": message}
        on = self.keyboard if self.press_real_buttons else self.last
        if on is None:
            raise AssertionError(f"chat {self.chat_id}: nothing to press for {step.name}")
        data = self._button(on, step) if self.press_real_buttons else f"bench|{step.name}"
        return {"callback_query": {"id": f"{self.chat_id}-{message_id}", "from": self._user(),
                                   "message": on, "chat_instance": str(self.chat_id),
                                   "data": data}}

    def _button(self, message: JSON, step: Step) -> str:
        rows = message["reply_markup"]["inline_keyboard"]
        for row in rows:
            for button in row:
                if button["text"].startswith(step.value):
                    return str(button["callback_data"])
        labels = [b["text"] for row in rows for b in row]
        raise AssertionError(f"chat {self.chat_id}, step {step.name}: no button "
                             f"{step.value!r} in {labels}; last text {self.last_text[:200]!r}")

    async def run(self, api: FakeBotApi) -> None:
        loop = asyncio.get_running_loop()
        for number, step in enumerate(self.steps, 1):
            self._waiter = loop.create_future()
            available = api.push(self._update(step, number))
            try:
                done = await asyncio.wait_for(self._waiter, STEP_TIMEOUT)
            except TimeoutError:
                raise AssertionError(f"chat {self.chat_id}: no answer to step {step.name} "
                                     f"within {STEP_TIMEOUT:.0f} s; last text "
                                     f"{self.last_text[:200]!r}") from None
            self.latencies.append(done - available)


def bot_step_end(method: str, message: JSON) -> bool:
    """The bot ends every step by showing the buttons of the next one: in a new message, in the
    pressed one (a toggle), or by turning the pressed one into the next question."""
    return method in ("sendMessage", "editMessageReplyMarkup", "editMessageText") and (
        has_keyboard(message))


def echo_step_end(method: str, message: JSON) -> bool:
    return method == "sendMessage"


# --- The two bots ------------------------------------------------------------------------------


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    assert chat is not None
    text = update.callback_query.data if update.callback_query else None
    if text is None and update.effective_message is not None:
        text = update.effective_message.text
    await context.bot.send_message(chat.id, text or "?")


def build_floor(api: BaseRequest | None, concurrency: int, base_url: str | None = None,
                updates: BaseRequest | None = None) -> Application:  # type: ignore[type-arg]
    """`api` makes every call (getUpdates too, unless `updates` is given); without it,
    python-telegram-bot's own HTTP client. `base_url`: another Bot API (bench_open_loop)."""
    builder = Application.builder().token(TOKEN).concurrent_updates(concurrency)
    if api is not None:
        builder = builder.request(api).get_updates_request(updates or api)
    if base_url is not None:
        builder = builder.base_url(base_url)
    application = builder.build()
    application.add_handler(MessageHandler(filters.ALL, _echo))
    application.add_handler(CallbackQueryHandler(_echo))
    return application


async def serve_floor(application: Application,  # type: ignore[type-arg]
                      stop: asyncio.Event) -> None:
    """What handlers.wiring.serve does for polling, minus everything of the bot's own."""
    assert application.updater is not None
    async with application:
        await application.start()
        await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


# --- One scenario, in this process -------------------------------------------------------------


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    return {"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": ordered[-1] * 1000}


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU clock ticks of the whole machine so far (Linux's /proc/stat): every
    process, the database server and other workers included."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)  # less idle and iowait


def _thread_cpu() -> dict[str, float]:
    main = threading.main_thread().native_id
    times = {"main": 0.0, "other threads": 0.0}
    for thread in psutil.Process().threads():
        key = "main" if thread.id == main else "other threads"
        times[key] += thread.user_time + thread.system_time
    return times


async def run_scenario(kind: str, children: int, concurrency: int | None,
                       profile_to: Path | None, server_url: str = "", chat_base: int = CHAT_BASE,
                       workers: int = 1) -> dict[str, Any]:
    """One scenario in this process. `server_url`: a PostgreSQL database instead of a fresh
    SQLite file; with `workers` > 1 this process is one of that many sharing it (bench_scale),
    its children numbered from `chat_base`."""
    from bot.config import load_config
    from handlers.telegram.durable import ChatOrderedProcessor
    from handlers.wiring import open_bot, serve

    config = load_config(ROOT / "config.example.toml")
    districts = [(d.name, d.name_en) for d in config.districts]
    crowd: dict[int, Child] = {}

    def listener(chat_id: int, method: str, message: JSON, now: float) -> None:
        child = crowd.get(chat_id)
        if child is not None:
            child.on_reply(method, message, now)

    api = FakeBotApi(listener, first_update_id=chat_base)  # apart when workers share a database
    stop = asyncio.Event()
    workdir = Path(tempfile.mkdtemp(prefix="childforum-bench-"))
    database: Path | str = server_url or workdir / "bench.sqlite3"
    if kind == "floor":
        runner = serve_floor(build_floor(api, concurrency or 256), stop)
    else:
        config = replace(config.with_database(database), rate_limit=False, workers=workers,
                         pacing=config.pacing.unlimited())
        server = await open_bot(config, TOKEN, request=api)
        if concurrency is not None:
            # Only the bench changes this: the same processor with another limit.
            server.application._update_processor = ChatOrderedProcessor(concurrency)
        runner = serve(server, config, stop)
    serving = asyncio.create_task(runner)
    await asyncio.wait_for(api.polled.wait(), 30)

    for index in range(children):
        chat_id = chat_base + index
        crowd[chat_id] = Child(chat_id, script(index, districts),
                               bot_step_end if kind == "bot" else echo_step_end,
                               press_real_buttons=kind == "bot")
    process = psutil.Process()
    rss_start = process.memory_info().rss
    cpu_before, threads_before = process.cpu_times(), _thread_cpu()
    ticks_before = machine_ticks()
    profiler = cProfile.Profile() if profile_to else None
    if profiler:
        profiler.enable()
    started, started_at = time.perf_counter(), time.time()
    try:
        await asyncio.gather(*(child.run(api) for child in crowd.values()))
    finally:
        elapsed = time.perf_counter() - started
        if profiler:
            profiler.disable()
        # Before stopping: the database thread ends when the bot closes its connection.
        cpu_after, threads_after = process.cpu_times(), _thread_cpu()
        ticks_after = machine_ticks()
        stop.set()
        await asyncio.wait_for(serving, 30)

    latencies = [lat for child in crowd.values() for lat in child.latencies]
    steps = len(latencies)
    result: dict[str, Any] = {
        "scenario": kind, "children": children, "steps": steps, "seconds": elapsed,
        "steps_per_s": steps / elapsed, **_summary(latencies),
        "rss_start_mb": rss_start / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system),
        "cpu_main_s": threads_after["main"] - threads_before["main"],
        "cpu_other_threads_s": threads_after["other threads"] - threads_before["other threads"],
        "api_calls": dict(api.calls), "api_errors": api.errors[:5],
        "stray_replies": sum(child.stray for child in crowd.values()),
        "concurrency": concurrency or 256,
        "started_at": started_at, "ended_at": started_at + elapsed,
        "machine_ticks": [*ticks_before, *ticks_after],
        "latencies_ms": [round(lat * 1000, 2) for lat in latencies] if server_url else [],
    }
    if kind == "bot":
        per_step: dict[str, list[float]] = {}
        for child in crowd.values():
            for step, lat in zip(child.steps, child.latencies, strict=True):
                per_step.setdefault(step.name, []).append(lat)
        result["per_step_p50_ms"] = {name: _summary(lats)["p50_ms"]
                                     for name, lats in per_step.items()}
        result |= stored(database, chat_base, chat_base + children)
        result["references_seen"] = sum(
            1 for child in crowd.values() if REFERENCE.search(child.last_text or ""))
    if profiler and profile_to:
        profiler.dump_stats(profile_to)
        result["profile"] = profile_summary(profiler)
    for path in sorted(workdir.iterdir()):  # nothing there on PostgreSQL
        path.unlink()
    workdir.rmdir()
    return result


def count(database: Path | str, sql: str, params: tuple[int, int]) -> int:
    """One number from the bench's database, read outside the bot."""
    if isinstance(database, Path):
        with sqlite3.connect(database) as db:
            return int(db.execute(sql, params).fetchone()[0])
    import psycopg

    with psycopg.connect(database) as db:
        row = db.execute(sql.replace("?", "%s"), params).fetchone()
        return int(row[0]) if row else 0


# --- Profile summary ---------------------------------------------------------------------------

GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("idle: waiting in epoll (for the database thread, or for work)", ("select.epoll",)),
    ("aiosqlite hand-offs to its thread and back (queue put, self-pipe wake-up)",
     ("_queue.SimpleQueue", "_socket.socket", "_read_from_self", "call_soon_threadsafe",
      "_write_to_self")),
    ("aiosqlite + storage/ (main-thread side)",
     ("/aiosqlite/", "/storage/", "sqlite3", "/bot/transport/", "/threading.py")),
    ("PTB de-json / to_dict / request serialisation",
     ("/telegram/_", "/telegram/request/", "/json/", "_json.")),
    ("PTB dispatch (Application, Updater, handlers, filters)", ("/telegram/ext/",)),
    ("engine + catalog + conversation", ("/bot/conversation/", "/bot/textnorm.py",
                                         "dataclasses.py")),
    ("safeguarding", ("/bot/safeguarding/",)),
    ("langdetect", ("/langdetect/", "/bot/conversation/language.py")),
    ("handlers/ (render, child, durable)", ("/handlers/",)),
    ("bench fake API + children", ("/bench/",)),
    ("asyncio event loop", ("/asyncio/", "selectors", "contextvars.Context")),
]
Key = tuple[str, int, str]


def _group(key: Key) -> str:
    where = key[0] + ":" + key[2]
    for name, needles in GROUPS:
        if any(needle in where for needle in needles):
            return name
    return "other"


def profile_summary(profiler: cProfile.Profile) -> dict[str, Any]:
    """Self time by component; a builtin's time (isinstance, getattr...) goes to its callers."""
    stats = pstats.Stats(profiler)
    raw: dict[Key, tuple[int, int, float, float, dict[Key, tuple[int, int, float, float]]]] = (
        stats.stats)  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    groups: dict[str, float] = {}
    for key, (_, _, tottime, _, callers) in raw.items():
        shares = [(_group(caller), per[2]) for caller, per in callers.items()]
        if key[0] == "~" and _group(key) == "other" and shares:
            for name, seconds in shares:
                groups[name] = groups.get(name, 0.0) + seconds
        else:
            groups[_group(key)] = groups.get(_group(key), 0.0) + tottime
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(
        r"/bot/|/handlers/|/storage/|aiosqlite/core|telegram/(_bot|_update|"
        r"_message\.py|_telegramobject)|langdetect", 30)
    self_buffer = io.StringIO()
    pstats.Stats(profiler, stream=self_buffer).sort_stats("tottime").print_stats(20)
    return {"total_s": total, "groups": dict(sorted(groups.items(), key=lambda kv: -kv[1])),
            "top_cumulative": _trim(buffer.getvalue()), "top_self": _trim(self_buffer.getvalue())}


def _trim(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    root = str(ROOT) + "/"
    site = re.compile(r"\S*/site-packages/")
    return "\n".join(site.sub("", line.replace(root, "")) for line in lines[start:] if line)


# --- The whole run: each scenario in its own subprocess ----------------------------------------


def stored(database: str | Path, low: int, high: int) -> dict[str, int]:
    """What the bot kept for the chats low..high-1: proposals, and updates left unhandled."""
    chats = (low, high)
    return {"proposals": count(database, "SELECT count(*) FROM proposals"
                                         " WHERE chat_id >= ? AND chat_id < ?", chats),
            "unfinished_updates": count(database, "SELECT count(*) FROM inbox WHERE done_at IS"
                                                  " NULL AND chat_id >= ? AND chat_id < ?",
                                        chats)}


def run_child(args: list[str], program: Path | None = None) -> dict[str, Any]:
    """One scenario: `program` (this file by default) with `args`; its last line is JSON."""
    command = [sys.executable, str(program or Path(__file__).resolve()), *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"scenario failed: {' '.join(args)} (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def check(bot: dict[str, Any]) -> list[str]:
    problems = []
    if bot["proposals"] != bot["children"]:
        problems.append(f"{bot['proposals']} proposals stored for {bot['children']} children")
    if bot["references_seen"] != bot["children"]:
        problems.append(f"only {bot['references_seen']} children got a reference code")
    if bot["unfinished_updates"]:
        problems.append(f"{bot['unfinished_updates']} updates left unfinished in the inbox")
    if bot["api_errors"]:
        problems.append(f"Bot API errors: {bot['api_errors']}")
    if bot["stray_replies"]:
        problems.append(f"{bot['stray_replies']} replies arrived after their step had ended")
    return problems


def report(floor: dict[str, Any], bot: dict[str, Any], profiled: dict[str, Any] | None) -> str:
    ratio = bot["steps_per_s"] / floor["steps_per_s"]
    rows = [
        ("steps", f"{floor['steps']}", f"{bot['steps']}"),
        ("wall time", f"{floor['seconds']:.1f} s", f"{bot['seconds']:.1f} s"),
        ("steps/s", f"{floor['steps_per_s']:.0f}", f"{bot['steps_per_s']:.0f}"),
        ("step latency p50", f"{floor['p50_ms']:.0f} ms", f"{bot['p50_ms']:.0f} ms"),
        ("step latency p99", f"{floor['p99_ms']:.0f} ms", f"{bot['p99_ms']:.0f} ms"),
        ("step latency max", f"{floor['max_ms']:.0f} ms", f"{bot['max_ms']:.0f} ms"),
        ("CPU main thread / other threads",
         f"{floor['cpu_main_s']:.1f} / {floor['cpu_other_threads_s']:.1f} s",
         f"{bot['cpu_main_s']:.1f} / {bot['cpu_other_threads_s']:.1f} s"),
        ("RSS at start -> peak", f"{floor['rss_start_mb']:.0f} -> {floor['peak_rss_mb']:.0f} MB",
         f"{bot['rss_start_mb']:.0f} -> {bot['peak_rss_mb']:.0f} MB"),
        ("proposals stored", "-", f"{bot['proposals']}"),
        ("Bot API calls per step", f"{sum(floor['api_calls'].values()) / floor['steps']:.2f}",
         f"{sum(bot['api_calls'].values()) / bot['steps']:.2f}"),
    ]
    lines = [f"children: {bot['children']}, concurrent updates: {bot['concurrency']}, "
             f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs", "",
             "| | echo floor | childforum |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    lines += ["", f"ratio childforum / floor: {ratio:.2f} (aim >= 0.5)", "",
              "bot p50 by step (ms): " + ", ".join(
                  f"{name} {ms:.0f}" for name, ms in bot["per_step_p50_ms"].items())]
    if profiled:
        profile = profiled["profile"]
        lines += ["", f"profile ({profiled['children']} children, main thread, cProfile; "
                  f"{profiled['steps_per_s']:.0f} steps/s under the profiler), "
                  f"self time by group of {profile['total_s']:.1f} s:"]
        lines += [f"  {seconds / profile['total_s']:6.1%}  {name}"
                  for name, seconds in profile["groups"].items()]
        lines += ["", "top by cumulative time (bot code):", profile["top_cumulative"],
                  "", "top by self time:", profile["top_self"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="updates processed at once (default: the bot's own, 256)")
    parser.add_argument("--profile-children", type=int, default=150,
                        help="children in the profiled run (cProfile slows it ~2x); 0: no profile")
    parser.add_argument("--profile-out", type=Path, default=None,
                        help="also keep the raw cProfile stats in this file")
    parser.add_argument("--scenario", choices=("all", "floor", "bot"), default="all",
                        help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--server-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--chat-base", type=int, default=CHAT_BASE, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scenario != "all":
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        profile_to = args.profile_out or (Path(tempfile.gettempdir()) / "childforum-bench.prof"
                                          if args.profile else None)
        result = asyncio.run(run_scenario(args.scenario, args.children, args.concurrency,
                                          profile_to, args.server_url, args.chat_base,
                                          args.workers))
        print(json.dumps(result, ensure_ascii=False))
        return

    common = ["--children", str(args.children)]
    if args.concurrency is not None:
        common += ["--concurrency", str(args.concurrency)]
    floor = run_child(["--scenario", "floor", *common])
    bot = run_child(["--scenario", "bot", *common])
    problems = check(bot)
    profiled = None
    profile_children = min(args.children, args.profile_children)
    if profile_children and not problems:
        extra = ["--profile-out", str(args.profile_out)] if args.profile_out else []
        profiled = run_child(["--scenario", "bot", "--profile", "--children",
                              str(profile_children), *common[2:], *extra])
        problems += check(profiled)
    print(report(floor, bot, profiled))
    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
