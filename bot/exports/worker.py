"""Exports made in a process of their own, off the bot's event loop.

A report of thousands of proposals is seconds of CPU in python-docx or openpyxl. Made on the
bot's event loop, it would stall every child's conversation meanwhile; made in a thread, it would
still hold the interpreter lock most of the time. So `/export` and the scheduled exports hand the
work to a fresh process (spawned, so nothing of the bot's state is shared), which opens the
database itself, reads one snapshot, writes the file and ends, its memory returned.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from bot.config import Config
from bot.exports import ExportQuery, Format, ReportSettings, export
from bot.exports.common import pseudonym_key


async def export_elsewhere(config: Config, query: ExportQuery, fmt: Format,
                           settings: ReportSettings | None = None) -> tuple[bytes, int]:
    """The file's bytes and its number of proposals, made in another process (`settings`
    None: the report's, worked out from the config for the areas and year exported). Raises
    what `export` raises there (ExportError, DatabaseUnavailable)."""
    if fmt != "docx":
        pseudonym_key(config)  # a missing key is said at once, without starting a process
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        return await asyncio.get_running_loop().run_in_executor(
            pool, _make, config, query, fmt, settings)
    finally:  # never wait here: the loop must not block on the process's exit
        pool.shutdown(wait=False, cancel_futures=True)


def _make(config: Config, query: ExportQuery, fmt: Format,
          settings: ReportSettings | None) -> tuple[bytes, int]:
    return asyncio.run(_export(config, query, fmt, settings))


async def _export(config: Config, query: ExportQuery, fmt: Format,
                  settings: ReportSettings | None) -> tuple[bytes, int]:
    from bot.conversation.catalog import load_catalog
    from storage.db import open_database

    db = await open_database(config.database, config.database_password(), pool_size=2,
                             password_env=config.password_env)
    try:
        buffer = io.BytesIO()
        result = await export(db, config, load_catalog(config), query, fmt, buffer, settings)
        return buffer.getvalue(), result.rows
    finally:
        await db.close()
