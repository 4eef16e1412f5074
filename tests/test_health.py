"""The process's health: one ERROR line per outage, and "back" only when what failed works."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.transport.health import Health, check


def test_a_small_write_that_still_fits_does_not_end_the_outage(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """On a full disk SQLite may rewrite the heartbeat row in place while no update can be
    stored: the heartbeat's success must not say the database is back."""
    path = tmp_path / "childforum.health"
    health = Health(path)
    full = sqlite3.OperationalError("database or disk is full")
    with caplog.at_level(logging.INFO, logger="childforum.health"):
        for _ in range(3):
            health.down("storing an update", full)
            health.up("the heartbeat write")
            health.up("recording sent messages")
        healthy, said = check(path)
        assert not health.ok and not healthy and "storing an update" in said
        health.down("the heartbeat write", full)
        health.up("storing an update", "handling an update")
        assert not health.ok  # the heartbeat still fails
        health.up("the heartbeat write")
    assert health.ok and check(path)[0]
    levels = [(record.levelname, record.getMessage()[:40]) for record in caplog.records]
    assert levels == [("ERROR", "The database is unavailable (storing an "),
                      ("INFO", "The database is back after the heartbeat")], levels


def test_nothing_failing_nothing_said(caplog: pytest.LogCaptureFixture) -> None:
    health = Health()
    with caplog.at_level(logging.INFO, logger="childforum.health"):
        health.up("storing an update")
    assert health.ok and health.problem is None and not caplog.records
