"""Permission rules: roles, district scopes, config parsing, grants and revocations."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import ConfigError
from bot.staff.moderation import Granted, Moderation, Refused, Revoked
from bot.staff.roles import (
    ACTIONS,
    PROVINCE,
    Scope,
    StaffMember,
    can,
    is_staff,
    parse_staff,
    scope_for,
)
from storage.db import open_database
from tests.stores import Target

KNOWN = {"DHA", "KTM", "STY"}
ADMIN, MOD, OFFICER, GUARD, NOBODY = 1, 2, 3, 4, 99
STAFF = (
    StaffMember(ADMIN, "admin", PROVINCE),
    StaffMember(MOD, "moderator", Scope.of({"DHA"})),
    StaffMember(OFFICER, "officer", Scope.of({"DHA", "KTM"})),
    StaffMember(GUARD, "safeguarding", PROVINCE),
)


def reason(result: object) -> str:
    """Why a call was refused (fails when it was not)."""
    assert isinstance(result, Refused), result
    return result.reason


def test_admin_may_do_everything_everywhere() -> None:
    assert all(can(STAFF, ADMIN, action, "STY") for action in ACTIONS)


def test_moderator_is_limited_to_their_districts_and_duties() -> None:
    assert can(STAFF, MOD, "moderate", "DHA")
    assert can(STAFF, MOD, "moderate", None)
    assert not can(STAFF, MOD, "moderate", "KTM")
    assert can(STAFF, MOD, "invite", "DHA") and can(STAFF, MOD, "audit", "DHA")
    for action in ("export", "grant", "safeguarding"):
        assert not can(STAFF, MOD, action, "DHA"), action


def test_officer_exports_and_counts_only() -> None:
    assert can(STAFF, OFFICER, "export", "KTM") and can(STAFF, OFFICER, "stats", "DHA")
    assert not can(STAFF, OFFICER, "moderate", "DHA")
    assert not can(STAFF, OFFICER, "export", "STY")


def test_safeguarding_is_its_own_role() -> None:
    assert can(STAFF, GUARD, "safeguarding", "STY")
    assert not can(STAFF, GUARD, "moderate", "STY")
    assert not can(STAFF, MOD, "safeguarding", None)


def test_scopes_of_several_roles_add_up() -> None:
    members = (*STAFF, StaffMember(MOD, "moderator", Scope.of({"KTM"})),
               StaffMember(MOD, "officer", PROVINCE))
    assert scope_for(members, MOD, "moderate") == Scope.of({"DHA", "KTM"})
    assert scope_for(members, MOD, "stats") == PROVINCE


def test_non_staff_may_do_nothing() -> None:
    assert not is_staff(STAFF, NOBODY)
    assert not any(can(STAFF, NOBODY, action, None) for action in ACTIONS)
    assert scope_for(STAFF, NOBODY, "moderate").empty


def test_scope_text_round_trip() -> None:
    for scope in (PROVINCE, Scope.of({"KTM", "DHA"})):
        assert Scope.from_text(scope.to_text()) == scope
    assert Scope.of({"DHA"}).within(Scope.of({"DHA", "KTM"}))
    assert not PROVINCE.within(Scope.of({"DHA"}))


def test_parse_staff_reads_roles_and_scopes() -> None:
    raw = [{"user_id": 10, "role": "admin", "districts": "all"},
           {"user_id": 11, "role": "moderator", "districts": ["DHA", "KTM"]}]
    assert parse_staff(raw, "config.toml", KNOWN) == (
        StaffMember(10, "admin", PROVINCE),
        StaffMember(11, "moderator", Scope.of({"DHA", "KTM"})))
    assert parse_staff([], "config.toml", KNOWN) == ()


@pytest.mark.parametrize(("entry", "key"), [
    ({"user_id": 1, "role": "boss", "districts": "all"}, "[staff[1].role] must be one of admin"),
    ({"user_id": "1", "role": "admin", "districts": "all"}, "[staff[1].user_id]"),
    ({"user_id": True, "role": "admin", "districts": "all"}, "[staff[1].user_id]"),
    ({"user_id": 1, "role": "admin"}, "[staff[1].districts]"),
    ({"user_id": 1, "role": "admin", "districts": []}, "[staff[1].districts]"),
    ({"user_id": 1, "role": "admin", "districts": ["XXX"]}, "unknown area code(s) XXX"),
    ({"user_id": 1, "role": "admin", "districts": "all", "district": "DHA"},
     "[staff[1].district] unknown key"),
    ({"user_id": 10, "role": "admin", "districts": "all"}, "[staff[1]] repeats"),
    ("admin", "[staff[1]] must be a table"),
])
def test_parse_staff_errors_name_the_file_and_key(entry: Any, key: str) -> None:
    raw = [{"user_id": 10, "role": "admin", "districts": "all"}, entry]
    with pytest.raises(ConfigError) as error:
        parse_staff(raw, "config.toml", KNOWN)
    assert str(error.value).startswith("config.toml: [staff")
    assert key in str(error.value)


def test_an_unknown_scope_code_is_named_with_a_hint_not_every_code() -> None:
    """A province's list has a hundred codes: the problem names the wrong one and the nearest,
    and lists the known ones only when they are few."""
    many = {f"X{n:03d}" for n in range(40)} | {"DHA", "KTM"}
    with pytest.raises(ConfigError) as error:
        parse_staff([{"user_id": 1, "role": "officer", "districts": ["DHX"]}], "c.toml", many)
    said = str(error.value)
    assert "unknown area code(s) DHX (did you mean DHA?)" in said, said
    assert "X001" not in said and "42 areas" in said and len(said) < 200
    with pytest.raises(ConfigError, match=r"known: DHA, KTM, STY$"):
        parse_staff([{"user_id": 1, "role": "officer", "districts": ["QQQ"]}], "c.toml", KNOWN)


def test_parse_staff_needs_a_list() -> None:
    with pytest.raises(ConfigError, match=r"config.toml: \[staff\] must be a list"):
        parse_staff({"user_id": 1}, "config.toml", KNOWN)


async def test_grants_survive_restarts_and_revocation_ends_them(target: Target) -> None:
    db = await open_database(target)
    service = Moderation(db, STAFF, KNOWN)
    assert await service.grant(ADMIN, 50, "moderator", ["KTM"]) == Granted(
        50, "moderator", Scope.of({"KTM"}))
    await db.close()

    db = await open_database(target)
    service = Moderation(db, STAFF, KNOWN)
    async with db.transaction() as conn:
        members = await service.members(conn)
    assert can(members, 50, "moderate", "KTM") and not can(members, 50, "moderate", "DHA")
    assert await service.revoke(ADMIN, 50, "moderator") == Revoked(50, "moderator", 1)
    async with db.transaction() as conn:
        assert not is_staff(await service.members(conn), 50)
    assert await service.revoke(ADMIN, 50, "moderator") == Refused("not_granted")
    await db.close()


async def test_only_admins_grant_and_only_within_their_scope(target: Target) -> None:
    db = await open_database(target)
    district_admin = StaffMember(7, "admin", Scope.of({"DHA"}))
    service = Moderation(db, (*STAFF, district_admin), KNOWN)
    assert await service.grant(MOD, 50, "moderator", ["DHA"]) == Refused("forbidden")
    assert await service.grant(NOBODY, 50, "moderator", ["DHA"]) == Refused("not_staff")
    assert await service.grant(7, 50, "moderator", ["KTM"]) == Refused("forbidden")
    assert await service.grant(7, 50, "moderator", "all") == Refused("forbidden")
    assert isinstance(await service.grant(7, 50, "moderator", ["DHA"]), Granted)
    # Said by code, for each front end to word in its user's language (not English detail).
    assert await service.grant(ADMIN, 50, "chief", "all") == Refused("unknown_role", "chief")
    assert await service.grant(ADMIN, 50, "officer", ["ZZZ", "DHA", "YYY"]) == Refused(
        "unknown_area", "YYY,ZZZ")
    await db.close()


async def test_a_scope_may_name_an_earlier_years_area(target: Target) -> None:
    """A commune config keeps the 2023 districts for the records: an officer may be given one
    (to answer and publish its proposals), though no invite is made for it any more."""
    db = await open_database(target)
    service = Moderation(db, STAFF, {"MORAI", "DAKHA"}, areas={"DHA", "KTM"})
    assert await service.grant(ADMIN, 50, "officer", ["DHA"]) == Granted(
        50, "officer", Scope.of({"DHA"}))
    assert await service.grant(ADMIN, 50, "officer", ["DHX"]) == Refused("unknown_area", "DHX")
    assert reason(await service.create_invite(ADMIN, "DHA", 24, 5)) == "invalid"
    await db.close()


async def test_config_roles_cannot_be_revoked_by_command(target: Target) -> None:
    db = await open_database(target)
    service = Moderation(db, STAFF, KNOWN)
    assert await service.revoke(ADMIN, MOD, "moderator") == Refused("config_role")
    async with db.transaction() as conn:
        assert can(await service.members(conn), MOD, "moderate", "DHA")
    await db.close()
