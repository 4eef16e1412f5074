"""Is the bot well? One state for the whole process, and a heartbeat file a supervisor can read.

Whatever finds the database unusable (the receipt of updates, the outbox, a handler) reports it
here: the first failure of an outage is logged at ERROR, the recovery at INFO, nothing in between.
Every few seconds the running bot writes the heartbeat file (`childforum health` reads it): its
status, since when, and when it was written, and the config of the bot that wrote it. A stale
file means a hung or dead process; another config's file, a shared path (two workers' configs
naming one file), not this bot's health.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("childforum.health")
HEARTBEAT_SECONDS = 10.0
PAUSES = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # between tries while the database is unavailable
STALE_AFTER = 3 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Beat:
    pid: int
    status: str  # "ok" or "database unavailable"
    since: str  # when the status began (UTC, ISO)
    at: str  # when this was written
    problem: str = ""
    backlog: int = 0  # messages waiting in the outbox's sender
    config: str = ""  # the config file of the bot that writes it


class Health:
    """Problems by what failed ("storing an update", "the heartbeat write"...): the process is
    well when none is left. Each is cleared only by the same work succeeding, so a small write
    that still fits (SQLite rewrites a row in place on a full disk) does not say "back" while
    updates cannot be stored."""

    def __init__(self, path: Path | None = None, config: Path | None = None) -> None:
        self.path, self.config = path, _owner(config)
        self.problems: dict[str, str] = {}
        self.since = _now()
        self.backlog = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> str | None:
        return "; ".join(f"{what}: {error}" for what, error in self.problems.items()) or None

    def down(self, what: str, error: BaseException) -> None:
        """The database failed `what` (for instance "storing an update")."""
        first = not self.problems
        self.problems[what] = str(error)
        if first:
            log.error("The database is unavailable (%s: %s); retrying until it is back",
                      what, error)
            self.since = _now()
            self.beat()  # a supervisor learns it now, not at the next heartbeat

    def up(self, *what: str) -> None:
        """`what` worked again; when nothing is left failing, the database is back."""
        if not self.problems:
            return
        before = self.problem
        for name in what:
            self.problems.pop(name, None)
        if not self.problems:
            log.info("The database is back after %s", before)
            self.since = _now()
            self.beat()

    def beat(self, stopped: bool = False) -> None:
        """Write the heartbeat file (atomically: a reader never sees half of it); `stopped`:
        the bot's last word, as it stops (a supervisor must not read "ok" after it)."""
        if self.path is None:
            return
        status = ("stopped" if stopped else "ok" if self.ok else "database unavailable")
        beat = Beat(os.getpid(), status, _now() if stopped else self.since, _now(),
                    self.problem or "", self.backlog, self.config)
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(asdict(beat)), encoding="utf-8")
            temporary.replace(self.path)
        except OSError as error:  # a full disk: the file goes stale, which says as much
            log.warning("Could not write the heartbeat file %s: %s", self.path, error)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _owner(config: Path | None) -> str:
    return str(config.resolve()) if config is not None else ""


def check(path: Path, now: float | None = None,
          config: Path | None = None) -> tuple[bool, str]:
    """Read a heartbeat file, as the bot of `config` (None: whichever bot) wrote it: (healthy,
    a one-line explanation)."""
    try:
        beat = Beat(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return False, f"no heartbeat file at {path}: the bot is not running (or never ran here)"
    except (OSError, ValueError, TypeError) as error:
        return False, f"unreadable heartbeat file {path}: {error}"
    if config is not None and beat.config != _owner(config):
        return False, (f"the heartbeat file {path} is written by the bot of"
                       f" {beat.config or 'another config'} (pid {beat.pid}), not this one: give"
                       " each config its own [bot] health_file")
    age = (now or time.time()) - datetime.fromisoformat(beat.at).timestamp()
    if age > STALE_AFTER:
        return False, (f"the last heartbeat is {age:.0f}s old (pid {beat.pid}): the bot is hung"
                       " or stopped")
    if beat.status != "ok":
        return False, f"{beat.status} since {beat.since}: {beat.problem}"
    return True, f"ok since {beat.since} (pid {beat.pid}, {beat.backlog} messages waiting)"
