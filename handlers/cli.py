"""The `childforum` command: run the bot, try it offline in a terminal, export proposals."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from telegram.error import BadRequest, NetworkError, TelegramError

from bot.config import Config, ConfigError, load_config
from bot.conversation.catalog import load_catalog
from bot.exports import ExportError, ExportQuery, ExportResult, export
from bot.exports.common import pseudonym_key
from bot.transport.health import check
from handlers import cli_answers, cli_compile, cli_storage, cli_texts
from handlers.wiring import BotServer, open_bot, open_configured, serve
from handlers.zalo.client import ZaloError
from storage import inbox
from storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.simulator import BotApiSimulator

SIMULATOR_TOKEN = "123456:SIMULATOR"
log = logging.getLogger("childforum")


def _default_config() -> Path:
    for name in ("config.toml", "config.example.toml"):
        if Path(name).exists():
            return Path(name)
    return Path("config.toml")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def _start_problem(configs: list[Config]) -> str | None:
    """Why these bots cannot start together, or None. Each bot has its own token, database,
    heartbeat file and webhook port (one bot per province: docs/scale.md)."""
    for config in configs:
        if config.token() is None:
            return (f"{config.source}: no bot token: set the environment variable"
                    f" {config.token_env} (or try `childforum simulate`, which needs none)")
        problem = config.webhook_problem() or config.zalo.problem()
        if problem is not None:
            return f"{config.source}: {problem}"
    tokens = [c.token() or "" for c in configs]
    if len(set(tokens)) != len(tokens):  # two names, one bot: the updates of one in both
        return ("each bot needs its own token: "
                + ", ".join(f"{c.source} ({c.token_env})" for c in configs))
    for what, values in (
            ("token_env", [c.token_env for c in configs]),
            ("database", [str(c.database) for c in configs]),
            ("health file", [str(c.health_path) for c in configs]),
            ("webhook port", [f"{c.webhook.listen}:{c.webhook.port}" for c in configs
                              if c.mode == "webhook"]
             + [f"{c.zalo.listen}:{c.zalo.port}" for c in configs if c.zalo.enabled])):
        if len(set(values)) != len(values):
            return f"each bot needs its own {what}: {', '.join(values)}"
    for config in configs:  # before anything is registered with Telegram or Zalo
        ports = ([(config.webhook.listen, config.webhook.port)] if config.mode == "webhook"
                 else []) + ([(config.zalo.listen, config.zalo.port)] if config.zalo.enabled
                             else [])
        for listen, port in ports:
            if (taken := _taken(listen, port)) is not None:
                return f"{config.source}: cannot listen on {listen}:{port}: {taken}"
    return None


def _taken(listen: str, port: int) -> str | None:
    """Why `listen:port` cannot be listened on now (another process has it), or None."""
    try:
        with socket.create_server((listen, port)):
            return None
    except OSError as error:
        return error.strerror or str(error)


async def _run(configs: list[Config]) -> int:
    """Serve each config's bot in this process until SIGINT or SIGTERM."""
    problem = _start_problem(configs)
    if problem is not None:
        print(f"childforum: {problem}", file=sys.stderr)
        return 2
    for config in configs:
        _warn_without_pseudonym_key(config)
    config = configs[0]
    try:
        servers = []
        for config in configs:
            token = config.token()
            assert token is not None  # _start_problem said so
            servers.append(await open_bot(config, token))
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await _serve_all(servers, configs, stop)
    except DatabaseUnavailable as error:
        print(f"childforum: cannot use the database {error}", file=sys.stderr)
        return 1
    except TelegramError as error:
        unreached = isinstance(error, NetworkError) and not isinstance(error, BadRequest)
        did = ("could not be reached to start the bot" if unreached else
               "refused to start the bot (a wrong token, or not a Bot API at that address)")
        # Never the error's text: python-telegram-bot's names the token.
        print(f"childforum: the Bot API at {config.api_base_url} {did}: "
              f"{type(error).__name__}", file=sys.stderr)
        return 1
    except ZaloError as error:
        print(f"childforum: Zalo's API at {config.zalo.api_base_url} refused to start the"
              f" channel: {error}", file=sys.stderr)
        return 1
    return 0


async def _serve_all(servers: list[BotServer], configs: list[Config],
                     stop: asyncio.Event) -> None:
    """Every bot until `stop`; one failing at start stops the others too."""
    tasks = [asyncio.create_task(serve(server, config, stop), name=f"bot-{config.source}")
             for server, config in zip(servers, configs, strict=True)]
    try:
        for finished in asyncio.as_completed(tasks):
            await finished  # a bot that stops before `stop` is set has failed: raise it
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def _health(config: Config) -> int:
    """Exit 0 when the running bot's heartbeat is fresh and the database takes writes."""
    healthy, explanation = check(config.health_path, config=config.source)
    print(f"childforum: {explanation}", file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


def _pseudonym_key_problem(config: Config) -> str | None:
    """What is wrong with the pseudonym key in the environment, or None when it is usable."""
    try:
        pseudonym_key(config)
    except ExportError as error:
        return str(error)
    return None


def _warn_without_pseudonym_key(config: Config) -> None:
    """The bot runs without the key (it may have no officer), but every CSV and XLSX export
    would fail: say so at start, where the admin looks."""
    problem = _pseudonym_key_problem(config)
    if problem is not None:
        log.warning("No usable pseudonym key: %s. Until then every CSV and XLSX export (in chat"
                    " and on schedule) fails.", problem)


async def _next_update_id(config: Config) -> int:
    """One above the highest update id in the database's inbox (1 for a new database): the bot
    ignores, as redeliveries, the ids it has handled."""
    db = await open_configured(config)
    try:
        last = await inbox.last_update_id(db.reader)
    finally:
        await db.close()
    return (last or 0) + 1


@asynccontextmanager
async def simulation(config: Config) -> AsyncIterator[BotApiSimulator]:
    """The offline demo without its terminal: a local simulator and the real bot serving it,
    until the block ends. Updates are numbered after those the database has seen (a second
    run on the same database is not ignored), and a run with no pseudonym key gets a random
    one, so that /export works (author codes then differ from run to run)."""
    if not os.environ.get(config.pseudonym_key_env):
        os.environ[config.pseudonym_key_env] = secrets.token_urlsafe(32)
        log.warning("%s is not set: this simulation uses a random pseudonym key (the author"
                    " codes in its exports change from run to run)", config.pseudonym_key_env)
    from bot.simulator import BotApiSimulator  # only the offline demo needs it

    config = replace(config, mode="polling")  # its own simulator: never the webhook's port
    simulator = BotApiSimulator(first_update_id=await _next_update_id(config))
    for member in config.staff:  # the config's staff have opened the bot: alerts reach them
        simulator.add_chat(member.user_id, "private", "Cán bộ")
    await simulator.start()
    try:
        server = await open_bot(config, SIMULATOR_TOKEN, base_url=simulator.base_url,
                                base_file_url=simulator.base_file_url)
        stop = asyncio.Event()
        bot_task = asyncio.create_task(serve(server, config, stop))
        try:
            yield simulator
        finally:
            stop.set()
            await bot_task
    finally:
        await simulator.stop()


async def _simulate(config: Config, channel: str) -> int:
    if channel == "zalo":
        return await _simulate_zalo(config)
    async with simulation(config) as simulator:
        from bot.simulator.terminal import chat_in_terminal

        await chat_in_terminal(simulator)
    return 0


async def _simulate_zalo(config: Config) -> int:
    """The offline demo on Zalo: a local Zalo simulator posting to the bot's webhook, beside
    the Telegram one the bot also serves."""
    from bot.simulator import ZaloSimulator
    from bot.simulator.terminal import chat_on_zalo_in_terminal

    zalo = ZaloSimulator()
    await zalo.start()
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        os.environ[config.zalo.token_env] = zalo.token
        os.environ.setdefault(config.zalo.secret_env, secrets.token_urlsafe(32))
        settings = replace(config.zalo, enabled=True, mode="webhook", listen="127.0.0.1",
                           port=port, api_base_url=zalo.base_url,
                           public_url=f"http://127.0.0.1:{port}/{config.zalo.url_path}")
        async with simulation(replace(config, zalo=settings)):
            await chat_on_zalo_in_terminal(zalo)
    finally:
        await zalo.stop()
    return 0


async def _export(config: Config, args: argparse.Namespace) -> int:
    def fail(problem: str, code: int = 2) -> int:
        print(f"childforum export: {problem}", file=sys.stderr)
        return code

    if args.kind == "followup" and args.format == "csv":
        return fail("the follow-up report is a docx or an xlsx file")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        return fail("--from is after --to: nothing could be in between")
    problem = cli_storage.missing(config) or cli_storage.output_problem(
        args.out, config.database_path, args.force)
    if problem is not None:
        return fail(problem)
    districts = None if args.district == "all" else tuple(args.district.upper().split(","))
    year = None if args.year == "all" else int(args.year) if args.year else config.forum_year
    if year is None and args.format == "docx":
        return fail("the report is of one forum year: give --year YYYY (or leave it out for"
                    f" the config's {config.forum_year})")
    query = ExportQuery(districts=districts, statuses=tuple(args.status.split(",")),
                        date_from=args.date_from, date_to=args.date_to, forum_year=year)
    try:
        db = await open_configured(config)
    except DatabaseUnavailable as error:
        return fail(f"cannot use the database {error}", 1)
    # Written beside the target, then moved into place: a failure leaves no half file.
    partial = args.out.with_name(f".{args.out.name}.partial")
    try:
        if args.kind == "followup":
            from bot.exports.followup import followup_export

            rows = await followup_export(db, config, load_catalog(config), districts,
                                         args.since, args.until or config.forum_year,
                                         args.format, partial)
            result = ExportResult(rows, partial.stat().st_size)
        else:
            result = await export(db, config, load_catalog(config), query, args.format,
                                  partial, csv_dialect=args.csv_dialect)
        partial.replace(args.out)
    except ExportError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"cannot write {args.out}: {error.strerror or error}", 1)
    finally:
        partial.unlink(missing_ok=True)
        await db.close()
    print(f"{result.rows} proposals written to {args.out} ({result.size} bytes)")
    return 0


def _year_or_all(text: str) -> str:
    if text.lower() == "all" or (text.isdigit() and 2000 <= int(text) <= 2100):
        return text.lower()
    raise argparse.ArgumentTypeError(f"not a forum year: {text!r} (2023, or all)")


def _date(text: str) -> date:
    """A date as 2023-06-30 or, as officers write it, 30/06/2023."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not date(2000, 1, 1) <= parsed <= date(2100, 12, 31):
            raise argparse.ArgumentTypeError(f"{text!r} is not a forum date (2000 to 2100)")
        return parsed
    raise argparse.ArgumentTypeError(f"not a date: {text!r} (use 2023-06-30 or 30/06/2023)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="childforum", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot against Telegram (token from environment)")
    run.add_argument("--also", type=Path, action="append", default=[], metavar="CONFIG",
                     help="serve another bot from this process too (a province's own config:"
                     " its token, database and ports); repeatable")
    health = commands.add_parser(
        "health", help="exit 0 if the running bot is well (its heartbeat file is fresh and ok)")
    simulate = commands.add_parser(
        "simulate", help="chat with the bot in this terminal, offline, through a local simulator")
    simulate.add_argument("--channel", choices=("telegram", "zalo"), default="telegram",
                          help="chat as on Telegram (buttons) or on Zalo (numbered menus)")
    exporting = commands.add_parser("export", help="write proposals to a CSV, XLSX or DOCX file")
    exporting.add_argument("--district", default="all", help="a district code, codes joined by"
                           " commas, or 'all' (default)")
    exporting.add_argument("--kind", choices=("proposals", "followup"), default="proposals",
                           help="proposals (default), or followup: what became of the"
                           " recommendations since --since")
    exporting.add_argument("--format", choices=("csv", "xlsx", "docx"), required=True)
    exporting.add_argument("--since", type=int, default=2019,
                           help="followup: the first forum year (default 2019)")
    exporting.add_argument("--until", type=int, default=None,
                           help="followup: the last forum year (default: the config's year,"
                           " to date); an earlier one shows the items as they stood at its end")
    exporting.add_argument("--year", default=None, type=_year_or_all,
                           help="proposals: the forum year (default: the config's year), or"
                           " 'all' (CSV and XLSX)")
    exporting.add_argument("--status", default="approved",
                           help="statuses joined by commas (default: approved)")
    exporting.add_argument("--from", dest="date_from", type=_date, default=None)
    exporting.add_argument("--to", dest="date_to", type=_date, default=None)
    exporting.add_argument("--csv-dialect", choices=("excel", "excel-vn"), default="excel",
                           help="excel: commas (default); excel-vn: semicolons, for Excel on"
                           " Windows set to Vietnamese (a double-clicked file opens in columns)")
    exporting.add_argument("--out", type=Path, required=True, help="the file to write")
    exporting.add_argument("--force", action="store_true",
                           help="replace the --out file if it exists")
    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--config", type=Path, default=None,
                         help="config file (default: config.toml, else config.example.toml)")
        sub.add_argument("--database", default=None,
                         help="the SQLite file, or a postgresql:// address, to use instead of"
                         " the config's")

    for sub in (run, health, simulate, exporting, *cli_storage.add_parsers(commands)):
        common(sub)
    cli_answers.add_parser(commands, common)
    cli_compile.add_parser(commands, common)
    cli_texts.add_parser(commands, common)
    return parser


# Files childforum makes (the database with its write-ahead log, backups, exports) hold
# children's data: readable by the account that runs it only (docs/privacy.md).
PRIVATE_FILES = 0o077


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.umask(PRIVATE_FILES)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and each URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # apscheduler logs each job it adds and runs at INFO (a dozen lines at start, more every
    # minute): its warnings and errors are what an operator needs, and a failed start then
    # ends in its one line.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        config = load_config(args.config or _default_config())
    except ConfigError as error:
        print(f"childforum: {error}", file=sys.stderr)
        return 2
    if args.database:
        config = config.with_database(args.database)
    try:
        return _command(config, args)
    except ConfigError as error:  # found when loaded: a language file, a flow, an area list
        print(f"childforum: {error}", file=sys.stderr)
        return 2


def _command(config: Config, args: argparse.Namespace) -> int:
    if args.command == "health":
        return _health(config)
    if args.command == "answers":
        return asyncio.run(cli_answers.run(config, args))
    if args.command == "texts":
        return cli_texts.run(config, args)
    if args.command == "compile":
        return asyncio.run(cli_compile.run(config, args))
    if args.command == "export":
        return asyncio.run(_export(config, args))
    if args.command == "migrate":
        return asyncio.run(cli_storage.migrate(config))
    if args.command == "backup":
        return asyncio.run(cli_storage.backup(config, args.out))
    if args.command == "move-to-postgres":
        return asyncio.run(cli_storage.move_to_postgres(config, args.to))
    if args.command == "simulate":
        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(_simulate(config, args.channel))
    also = [load_config(path) for path in args.also]
    return asyncio.run(_run([config, *also]))


if __name__ == "__main__":
    sys.exit(main())
