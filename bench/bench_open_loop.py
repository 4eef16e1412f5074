"""Open loop: step latency at a given arrival rate, the real bot against a bare
python-telegram-bot echo floor.

    .venv/bin/python bench/bench_open_loop.py                      # both transports, ~5 minutes
    .venv/bin/python bench/bench_open_loop.py --rates 50,200 --seconds 3 --transport inprocess

Steps arrive at `--rate` updates a second as a Poisson process (exponential gaps), whatever the
bot's speed, so queueing shows up as latency (bench_conversation is the closed loop: it measures
throughput). Each arrival goes to a child picked at random among those whose previous step was
answered; when none is, the arrival is counted as blocked and not sent. Each child walks
bench_conversation's topic flow (14 or 15 steps, pressing the buttons the bot showed, so a wrong
answer fails the run); a child that has sent its proposal is replaced by a new one. The pool holds
`rate x --think` children (at least 20), so blocking starts when the mean latency nears
`--think`.

A step's latency runs, as in bench_conversation, from the moment its update is available to
getUpdates to the call that ends the step. Only steps that arrive in the `--seconds` after the
`--warmup` count; afterwards every step sent must be answered within STEP_TIMEOUT.

Transports:
- inprocess: the bot, bench/_fake_api.py and the children in one process, as bench_conversation;
- http: the project's simulator (bot.simulator.BotApiSimulator, no flood limits) and the children
  in one process, the bot in another, talking HTTP on 127.0.0.1 with its default request class
  (the echo floor with the same class, handlers.telegram.request.AiohttpRequest, so that both
  pay the same client; `--floor-request httpx`: python-telegram-bot's default, HTTPXRequest).

Each (transport, rate, floor or bot) runs in its own subprocess, the bot on a fresh SQLite file
with rate limits and pacing off; floor and bot see the same arrival times (same seed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import psutil
from _fake_api import JSON, FakeBotApi
from bench_conversation import (
    CHAT_BASE,
    REFERENCE,
    ROOT,
    STEP_TIMEOUT,
    TOKEN,
    Child,
    Step,
    bot_step_end,
    build_floor,
    echo_step_end,
    run_child,
    script,
    serve_floor,
    stored,
)

Push = Callable[[JSON], float]  # makes an update available to getUpdates; returns that moment
SERVE_START_TIMEOUT = 60.0


# --- The children ------------------------------------------------------------------------------


@dataclass
class Walker(Child):
    """A bench_conversation child whose steps are sent when the generator says, one at a time."""

    sent: int = 0  # steps sent so far

    @property
    def finished(self) -> bool:
        return self.sent == len(self.steps)

    def send_next(self, push: Push) -> tuple[asyncio.Future[float], Step, float]:
        """Send the next step; the future gets the moment of the call that ends it."""
        step = self.steps[self.sent]
        self.sent += 1
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter, step, push(self._update(step, self.sent))


def _peak_rss(pid: int) -> float:
    """A process's peak resident set (Linux's VmHWM), bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) * 1024
    return float("nan")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


class OpenLoop:
    """The Poisson generator and its pool of children."""

    def __init__(self, kind: str, districts: list[tuple[str, str]], pool: int) -> None:
        self.kind, self.districts = kind, districts
        self.push: Push = lambda update: 0.0  # set by the transport
        self.crowd: dict[int, Walker] = {}
        self.free: list[Walker] = []
        self.in_flight: dict[int, tuple[Step, float]] = {}  # chat id -> (step, available)
        self.latencies: list[float] = []
        self.late: list[float] = []  # arrival sent after its time (the generator's own lag)
        self.worst: list[tuple[float, float, str]] = []  # (s into the window, latency, step)
        self.measure_from = 0.0
        self.sent = self.blocked = self.flows_done = 0
        self.error: BaseException | None = None
        for _ in range(pool):
            self._join()

    def _join(self) -> None:
        index = len(self.crowd)
        chat_id = CHAT_BASE + index
        self.crowd[chat_id] = child = Walker(
            chat_id, script(index, self.districts),
            bot_step_end if self.kind == "bot" else echo_step_end,
            press_real_buttons=self.kind == "bot")
        self.free.append(child)

    def listener(self, chat_id: int, method: str, message: JSON, now: float) -> None:
        child = self.crowd.get(chat_id)
        if child is not None:
            child.on_reply(method, message, now)

    async def run(self, rate: float, warmup: float, seconds: float, seed: int,
                  on_window: Callable[[str], None]) -> None:
        gaps, choice = random.Random(seed), random.Random(seed + 1)
        start = time.perf_counter()
        measure_from, end = start + warmup, start + warmup + seconds
        self.measure_from = measure_from
        at, in_window = start, False
        while True:
            at += gaps.expovariate(rate)
            if at >= end:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.error is not None:
                raise self.error
            measured = at >= measure_from
            if measured and not in_window:
                in_window = True
                on_window("start")
            if measured:
                self.late.append(time.perf_counter() - at)
            if not self.free:
                self.blocked += measured
                continue
            pick = choice.randrange(len(self.free))
            self.free[pick], self.free[-1] = self.free[-1], self.free[pick]
            child = self.free.pop()
            future, step, available = child.send_next(self.push)
            self.sent += measured
            self.in_flight[child.chat_id] = (step, available)
            future.add_done_callback(partial(self._answered, child, step, available, measured))
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        on_window("end")
        deadline = time.perf_counter() + STEP_TIMEOUT
        while self.in_flight and self.error is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        if self.error is not None:
            raise self.error
        for chat_id, (step, available) in self.in_flight.items():
            waited = time.perf_counter() - available
            raise AssertionError(f"chat {chat_id}: no answer to step {step.name} within "
                                 f"{waited:.0f} s; last text "
                                 f"{self.crowd[chat_id].last_text[:200]!r}")

    def _answered(self, child: Walker, step: Step, available: float, measured: bool,
                  future: asyncio.Future[float]) -> None:
        try:
            del self.in_flight[child.chat_id]
            if measured:
                latency = future.result() - available
                self.latencies.append(latency)
                self.worst.append((available - self.measure_from, latency, step.name))
                if len(self.worst) > 200:
                    self.worst = sorted(self.worst, key=lambda w: -w[1])[:10]
            if child.finished:
                self.flows_done += 1
                self._join()
            else:
                self.free.append(child)
        except BaseException as error:  # a callback's error would only be logged: fail the run
            self.error = error


# --- Transports --------------------------------------------------------------------------------


def simulator_push(simulator: Any) -> Push:
    """Hand a bench_conversation update to the simulator the way a person's client would."""

    def push(update: JSON) -> float:
        if "message" in update:
            message = update["message"]
            simulator.send_text(message["chat"]["id"], message["text"], first_name="Child")
        else:
            query = update["callback_query"]
            simulator.press(query["from"]["id"], query["message"]["message_id"], query["data"],
                            first_name="Child")
        return time.perf_counter()

    return push


def simulator_listener(loop: OpenLoop) -> Callable[[str, Any], None]:
    """The simulator's sent and edited messages, as the fake Bot API tells them."""

    def listen(event: str, sent: Any) -> None:
        if event == "deleted":
            return
        now = time.perf_counter()
        message: JSON = {"message_id": sent.message_id, "chat": {"id": sent.chat_id},
                         "text": sent.plain}
        if sent.reply_markup and sent.reply_markup.get("inline_keyboard"):
            message["reply_markup"] = sent.reply_markup
        loop.listener(sent.chat_id, "sendMessage" if event == "sent" else "editMessageText",
                      message, now)

    return listen


def _bot_config(database: Path) -> Any:
    from bot.config import load_config

    config = load_config(ROOT / "config.example.toml")
    return replace(config.with_database(database), rate_limit=False,
                   pacing=config.pacing.unlimited())


def _districts() -> list[tuple[str, str]]:
    from bot.config import load_config

    return [(d.name, d.name_en) for d in load_config(ROOT / "config.example.toml").districts]


async def run_scenario(kind: str, transport: str, rate: float, seconds: float, warmup: float,
                       seed: int, think: float, floor_request: str) -> dict[str, Any]:
    """One (transport, kind, rate) in this process."""
    pool = max(20, round(rate * think))
    loop = OpenLoop(kind, _districts(), pool)
    workdir = Path(tempfile.mkdtemp(prefix="childforum-openloop-"))
    database = workdir / "bench.sqlite3"
    me = psutil.Process()
    cpu: dict[str, float] = {}
    bot_process: psutil.Process = me
    errors: list[Any] = []
    memory: dict[str, float] = {}  # http: the bot process's RSS, bytes

    def on_window(edge: str) -> None:
        for name, process in (("bot", bot_process), ("driver", me)):
            times = process.cpu_times()
            cpu[f"{name}_{edge}"] = times.user + times.system
        main = bot_process.pid if bot_process is not me else threading.main_thread().native_id
        cpu[f"main_{edge}"] = sum(thread.user_time + thread.system_time
                                  for thread in bot_process.threads() if thread.id == main)
        cpu[f"wall_{edge}"] = time.perf_counter()

    if transport == "inprocess":
        from handlers.wiring import open_bot, serve

        api = FakeBotApi(loop.listener, first_update_id=CHAT_BASE)
        loop.push = api.push
        stop = asyncio.Event()
        if kind == "floor":
            runner = serve_floor(build_floor(api, 256), stop)
        else:
            config = _bot_config(database)
            runner = serve(await open_bot(config, TOKEN, request=api), config, stop)
        serving = asyncio.create_task(runner)
        await asyncio.wait_for(api.polled.wait(), 30)
        try:
            await loop.run(rate, warmup, seconds, seed, on_window)
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
        errors = api.errors
    else:
        from bot.simulator import BotApiSimulator

        simulator = BotApiSimulator(limits=None)
        await simulator.start()
        simulator.subscribe(simulator_listener(loop))
        loop.push = simulator_push(simulator)
        log_path = workdir / "bot.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(Path(__file__).resolve()), "--serve", kind,
                "--base-url", simulator.base_url, "--base-file-url", simulator.base_file_url,
                "--database", str(database), "--floor-request", floor_request,
                stdout=log, stderr=log, cwd=ROOT)
        try:
            await simulator.wait_until(
                lambda: process.returncode is not None
                or any(method == "getUpdates" for method, _ in simulator.requests),
                SERVE_START_TIMEOUT)
            if process.returncode is not None:
                raise RuntimeError(f"the {kind} exited at start:\n"
                                   f"{log_path.read_text()[-3000:]}")
            bot_process = psutil.Process(process.pid)
            memory["ready"] = bot_process.memory_info().rss
            await loop.run(rate, warmup, seconds, seed, on_window)
            await asyncio.sleep(1)  # what it keeps, once the last replies are out
            memory["after"] = bot_process.memory_info().rss
            memory["peak"] = _peak_rss(process.pid)
        except BaseException:
            sys.stderr.write(log_path.read_text()[-3000:])
            raise
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            await simulator.stop()
        if process.returncode:
            raise RuntimeError(f"the {kind} exited with {process.returncode}:\n"
                               f"{log_path.read_text()[-3000:]}")
        errors = simulator.errors

    wall = cpu["wall_end"] - cpu["wall_start"]
    result: dict[str, Any] = {
        "scenario": kind, "transport": transport, "rate": rate, "seconds": seconds,
        "pool": pool, "sent": loop.sent, "achieved_per_s": loop.sent / seconds,
        "blocked": loop.blocked, "answered": len(loop.latencies),
        "p50_ms": _percentile(loop.latencies, 0.50) * 1000,
        "p99_ms": _percentile(loop.latencies, 0.99) * 1000,
        "max_ms": max(loop.latencies, default=float("nan")) * 1000,
        "late_p99_ms": _percentile(loop.late, 0.99) * 1000,
        "bot_cpu": (cpu["bot_end"] - cpu["bot_start"]) / wall,
        "bot_main_cpu": (cpu["main_end"] - cpu["main_start"]) / wall,
        "driver_cpu": (cpu["driver_end"] - cpu["driver_start"]) / wall,
        "flows_done": loop.flows_done, "children": len(loop.crowd),
        "stray_replies": sum(child.stray for child in loop.crowd.values()),
        "api_errors": [str(error) for error in errors[:5]],
        "worst": [(round(at, 3), round(latency * 1000, 1), name) for at, latency, name
                  in sorted(loop.worst, key=lambda w: -w[1])[:10]],
        **{f"rss_{name}_mb": value / 2**20 for name, value in memory.items()},
    }
    if kind == "bot":
        result |= stored(database, CHAT_BASE, CHAT_BASE + len(loop.crowd))
        result["references_seen"] = sum(
            1 for child in loop.crowd.values()
            if child.finished and REFERENCE.search(child.last_text or ""))
    for path in sorted(workdir.iterdir()):
        path.unlink()
    workdir.rmdir()
    return result


async def serve_over_http(kind: str, base_url: str, base_file_url: str, database: Path,
                          floor_request: str) -> None:
    """The floor or the bot, polling the simulator, until SIGTERM."""
    from handlers.telegram.request import AiohttpRequest

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "floor":
        # As open_bot makes them: 256 connections for sends, one for getUpdates.
        floor = (build_floor(AiohttpRequest(), 256, base_url,
                             AiohttpRequest(connection_pool_size=1))
                 if floor_request == "aiohttp" else build_floor(None, 256, base_url))
        await serve_floor(floor, stop)
        return
    from handlers.wiring import open_bot, serve

    config = _bot_config(database)
    server = await open_bot(config, TOKEN, base_url=base_url, base_file_url=base_file_url)
    await serve(server, config, stop)


# --- The whole run -----------------------------------------------------------------------------


def check(result: dict[str, Any]) -> list[str]:
    where = f"{result['transport']} {result['scenario']} at {result['rate']:g}/s"
    problems = []
    if result["api_errors"]:
        problems.append(f"{where}: Bot API errors: {result['api_errors']}")
    if result["stray_replies"]:
        problems.append(f"{where}: {result['stray_replies']} replies arrived after their step "
                        "had ended")
    if result["scenario"] == "bot":
        if result["proposals"] != result["flows_done"]:
            problems.append(f"{where}: {result['proposals']} proposals stored for "
                            f"{result['flows_done']} children who sent theirs")
        if result["references_seen"] != result["flows_done"]:
            problems.append(f"{where}: {result['references_seen']} of {result['flows_done']} "
                            "children got a reference code")
        if result["unfinished_updates"]:
            problems.append(f"{where}: {result['unfinished_updates']} updates left unfinished")
    return problems


def _highest(rows: list[dict[str, Any]], limit_ms: float) -> str:
    passing = [row["rate"] for row in rows if row["p99_ms"] < limit_ms and not row["blocked"]]
    return f"{max(passing):g}/s" if passing else "none of the rates tried"


def report(transport: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]],
           floor_request: str) -> str:
    title = ("inprocess: the fake Bot API in the bot's process" if transport == "inprocess" else
             "http: BotApiSimulator over HTTP on 127.0.0.1, the bot in another process, the "
             f"floor with {floor_request}")
    lines = [f"### {title}", "",
             "| rate /s | floor sent/s | floor p50 | floor p99 | floor max | bot sent/s "
             "| bot p50 | bot p99 | bot max | blocked floor / bot | bot CPU (main thread) "
             "| generator late p99 (bot) |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
             "| ---: |"]
    for floor, bot in pairs:
        lines.append(
            f"| {bot['rate']:g} | {floor['achieved_per_s']:.0f} | {floor['p50_ms']:.1f} ms "
            f"| {floor['p99_ms']:.1f} ms | {floor['max_ms']:.0f} ms | {bot['achieved_per_s']:.0f} "
            f"| {bot['p50_ms']:.1f} ms | {bot['p99_ms']:.1f} ms | {bot['max_ms']:.0f} ms "
            f"| {floor['blocked']} / {bot['blocked']} | {bot['bot_cpu']:.0%} "
            f"({bot['bot_main_cpu']:.0%}) "
            f"| {bot['late_p99_ms']:.1f} ms |")
    bots = [bot for _, bot in pairs]
    at_330 = [bot for bot in bots if bot["rate"] == 330]
    verdict = (f"{at_330[0]['p99_ms']:.1f} ms: "
               + ("met" if at_330[0]["p99_ms"] <= 50 and not at_330[0]["blocked"] else "NOT met")
               if at_330 else "not measured (330 not among the rates)")
    lines += ["", f"highest rate tried with p99 < 100 ms and nothing blocked: floor "
              f"{_highest([floor for floor, _ in pairs], 100)}, childforum {_highest(bots, 100)}",
              f"childforum p99 <= 50 ms at 330/s: {verdict}",
              "flows completed (bot): " + ", ".join(
                  f"{bot['rate']:g}/s {bot['flows_done']}" for bot in bots)
              + f"; pool: {', '.join(str(bot['pool']) for bot in bots)} children"]
    lines += [f"bot's slowest steps at {bot['rate']:g}/s (s into the window: ms, step): "
              + ", ".join(f"{at:.2f}: {ms:.0f} {name}" for at, ms, name in bot["worst"][:5])
              for bot in bots]
    if transport == "http":
        lines.append("simulator + children process CPU (bot runs): " + ", ".join(
            f"{bot['rate']:g}/s {bot['driver_cpu']:.0%}" for bot in bots))
        lines.append("the bot process's RSS, ready → after the run (peak), with the children "
                     "who began a flow: " + ", ".join(
                         f"{bot['rate']:g}/s {bot['rss_ready_mb']:.0f} → "
                         f"{bot['rss_after_mb']:.0f} ({bot['rss_peak_mb']:.0f}) MB, "
                         f"{bot['children']} children" for bot in bots))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=("inprocess", "http", "both"), default="both")
    parser.add_argument("--rates", default="50,200,330,660,1000",
                        help="arrival rates to try, updates a second (comma-separated)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per rate")
    parser.add_argument("--warmup", type=float, default=2.0, help="before the measured seconds")
    parser.add_argument("--think", type=float, default=0.5,
                        help="pool = rate x this many seconds of children (at least 20)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--floor-request", choices=("aiohttp", "httpx"), default="aiohttp",
                        help="the echo floor's HTTP client over http (default: the bot's own)")
    parser.add_argument("--scenario", choices=("floor", "bot"), help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=("floor", "bot"), help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--base-file-url", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        asyncio.run(serve_over_http(args.serve, args.base_url, args.base_file_url,
                                    args.database, args.floor_request))
        return
    if args.scenario:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        result = asyncio.run(run_scenario(args.scenario, args.transport, args.rate,
                                          args.seconds, args.warmup, args.seed, args.think,
                                          args.floor_request))
        print(json.dumps(result, ensure_ascii=False))
        return

    rates = [float(rate) for rate in args.rates.split(",")]
    transports = ("inprocess", "http") if args.transport == "both" else (args.transport,)
    program = Path(__file__).resolve()
    load_start = os.getloadavg()[0]
    sections, problems = [], []
    for transport in transports:
        pairs = []
        for rate in rates:
            common = ["--transport", transport, "--rate", str(rate), "--seconds",
                      str(args.seconds), "--warmup", str(args.warmup), "--think",
                      str(args.think), "--seed", str(args.seed), "--floor-request",
                      args.floor_request]
            floor = run_child(["--scenario", "floor", *common], program)
            bot = run_child(["--scenario", "bot", *common], program)
            problems += check(floor) + check(bot)
            pairs.append((floor, bot))
            print(f"{transport} {rate:g}/s: floor p99 {floor['p99_ms']:.1f} ms, bot p99 "
                  f"{bot['p99_ms']:.1f} ms", file=sys.stderr, flush=True)
        sections.append(report(transport, pairs, args.floor_request))
    print(f"open loop, {args.seconds:g} s per rate after {args.warmup:g} s of warm-up, seed "
          f"{args.seed}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"(1 min) {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print("\n\n".join(sections))
    if problems:
        raise SystemExit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
