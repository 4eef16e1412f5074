"""Config validation: errors name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_config_loads_kon_tums_ten_districts() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert len(config.districts) == 10
    assert config.district("DHA") is not None and config.district("DHA").name == "Huyện Đắk Hà"
    assert config.database_path.is_absolute() or config.database_path.parent == ROOT
    assert {member.role for member in config.staff} == {"admin", "moderator"}


@pytest.mark.parametrize("change,key", [
    (('mode = "polling"', 'mode = "carrier-pigeon"'), "[bot.mode]"),
    (("answer_max_chars = 800", "answer_max_chars = 5"), "[limits.answer_max_chars]"),
    (("year = 2023", 'year = "2023"'), "[forum.year]"),
    (('code = "DGL"', 'code = "KTM"'), "[districts]"),
    (('role = "admin"', 'role = "king"'), "[staff[0].role]"),
    (("digest_minutes = 30", "digest_minutes = 0"), "[moderation.digest_minutes]"),
    # Ranges and misspellings an operator makes (each silently did harm before):
    (("retention_days = 365", "retention_days = 0"), "[privacy.retention_days]"),
    (("flood_messages = 20", "flood_messages = 0"), "[limits.flood_messages]"),
    (("port = 8443", "port = 99999"), "[bot.webhook.port]"),
    (("retention_days = 365", "retention_day = 30"), "[privacy.retention_day] is not a setting"),
    (('quiet_hours = "21:00-07:00"', 'quiet_hour = "22:00-06:00"'),
     "[outbox.quiet_hour] is not a setting"),
    (("[storage]", "[storge]"), "[storge] is not a setting"),
    (("[storage]", '[storage]\nurl = "postgresql://cf@db/forum?password=hunter2"'),
     "[storage.url]"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, change: tuple[str, str],
                                          key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8")
                    .replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value) and key in str(error.value)


def test_a_missing_file_and_broken_toml_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[bot\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_report_settings_come_from_the_config(tmp_path: Path) -> None:
    from bot.exports import ReportSettings

    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8")
                    .replace('signer_name = ""', 'signer_name = "Nguyễn Văn A"')
                    .replace('place = "Đắk Hà"', 'place = "Đăk Hà"'), encoding="utf-8")
    config = load_config(path)
    district = config.district("DHA")
    assert district is not None
    one = ReportSettings.for_districts(config, (district,))
    assert (one.signer_name, one.place, one.recipient) == (
        "Nguyễn Văn A", "Đăk Hà", "Ủy ban nhân dân tỉnh Kon Tum")
    province = ReportSettings.for_districts(config, config.districts)
    assert province.recipient == "Bộ Y tế" and province.place == "Kon Tum"
    path.write_text(path.read_text(encoding="utf-8").replace("margins_mm = [20, 20, 30, 15]",
                                                             "margins_mm = [20, 20]"),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[report.margins_mm\]"):
        load_config(path)


def test_each_area_states_its_own_forum(tmp_path: Path) -> None:
    """[report.areas.<code>]: one district's forum (date, place, numbers) on its own report,
    another's on its; the province's report keeps [report]."""
    from bot.exports import ReportSettings

    base = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    areas = ('\n[report.areas.DHA]\nforum_date = "02/6/2023"\nforum_children = 120\n'
             '\n[report.areas.KTM]\nforum_date = "09/6/2023"\nforum_children = 85\n'
             'signer_name = "Trần Thị B"\n')
    path = tmp_path / "config.toml"
    # The area tables go right after [report]'s keys (TOML: before the next table).
    path.write_text(base.replace("\n# Kon Tum's ten district-level units", areas
                                 + "\n# Kon Tum's ten district-level units"), encoding="utf-8")
    config = load_config(path)
    dha, ktm = config.district("DHA"), config.district("KTM")
    assert dha is not None and ktm is not None
    one, other = (ReportSettings.for_districts(config, (d,)) for d in (dha, ktm))
    assert (one.forum_date, one.forum_children, one.signer_name) == ("02/6/2023", 120, "")
    assert (other.forum_date, other.forum_children, other.signer_name) == (
        "09/6/2023", 85, "Trần Thị B")
    province = ReportSettings.for_districts(config, config.districts)
    assert (province.forum_date, province.forum_children) == ("", 0)
    for wrong, key in (("[report.areas.XYZ]", r"\[report.areas.XYZ\]"),
                       ("[report.areas.DHA]\nforum_kids = 3", r"\[report.areas.DHA.forum_kids\]")):
        path.write_text(base.replace("\n# Kon Tum's ten district-level units",
                                     f"\n{wrong}\n\n# Kon Tum's ten district-level units"),
                        encoding="utf-8")
        with pytest.raises(ConfigError, match=key):
            load_config(path)


def test_a_folder_or_a_file_not_in_utf8_is_named_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
    wrong = tmp_path / "config.toml"
    wrong.write_bytes(b"\xff\xfe[bot]\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(wrong)


def test_a_webhook_secret_is_told_what_is_wrong_with_it(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text((ROOT / "config.example.toml").read_text(encoding="utf-8")
                    .replace('mode = "polling"', 'mode = "webhook"'), encoding="utf-8")
    config = load_config(path)
    monkeypatch.setenv(config.webhook.secret_token_env, "a" * 36 + "!")  # long enough
    assert "'!'" in str(config.webhook_problem())
    monkeypatch.setenv(config.webhook.secret_token_env, "short")
    assert "it has 5" in str(config.webhook_problem())
    monkeypatch.setenv(config.webhook.secret_token_env, "a" * 40)
    assert config.webhook_problem() is None



def test_a_provinces_own_report_table_is_the_report_of_its_years(tmp_path: Path) -> None:
    """[report] is the config's forum year's: the 2023 districts' report (Tỉnh Kon Tum's)
    takes its addressee from [report.areas.KTU], or leaves a gap, never 2026's."""
    from bot.exports import ReportSettings

    text = (ROOT / "config.communes.example.toml").read_text(encoding="utf-8").replace(
        'file = "docs/', f'file = "{ROOT}/docs/')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    earlier = ReportSettings.for_districts(config, config.areas_in(2023), 2023)
    assert (earlier.unit, earlier.place, earlier.recipient) == ("tỉnh Kon Tum", "Kon Tum", "…")
    assert earlier.forum_name == "Diễn đàn trẻ em cấp huyện trên địa bàn tỉnh Kon Tum"
    now = ReportSettings.for_districts(config, config.districts)
    assert (now.unit, now.place, now.recipient) == ("tỉnh Quảng Ngãi", "Quảng Ngãi", "Bộ Y tế")
    path.write_text(text + '\n[report.areas.KTU]\nprovince_recipient = "Bộ Lao động - Thương'
                    ' binh và Xã hội"\nsigner_name = "Nguyễn Văn B"\n', encoding="utf-8")
    config = load_config(path)
    earlier = ReportSettings.for_districts(config, config.areas_in(2023), 2023)
    assert (earlier.recipient, earlier.signer_name) == ("Bộ Lao động - Thương binh và Xã hội",
                                                        "Nguyễn Văn B")
