"""The per-person flood limit: answered once per burst."""

from bot.transport.flood import FloodGuard, Verdict


def test_a_burst_is_warned_once_then_dropped_and_forgiven_later() -> None:
    guard = FloodGuard(limit=3, window=10)
    verdicts = [guard.check(1, now) for now in (0, 1, 2, 3, 4, 5)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert guard.check(2, 5) is Verdict.ALLOW  # another person is not affected
    assert guard.check(1, 12.5) is Verdict.ALLOW  # the window moved on


def test_idle_people_are_forgotten() -> None:
    guard = FloodGuard(limit=3, window=10)
    guard.check(1, 0)
    guard.check(2, 9)
    guard.forget_idle(15)
    assert set(guard._seen) == {2}
