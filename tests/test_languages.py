"""Languages as data: a language added by a file alone, its checks, and the translators' file."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.conversation import engine
from bot.conversation.catalog import Catalog, load_catalog
from bot.conversation.engine import Press, Start, Text
from bot.simulator import BotApiSimulator
from handlers.cli import main
from tests.e2e import Child, running_bot, texts, write_config
from tests.stores import query
from tests.test_engine import press, registered

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ROOT / "tests" / "data" / "languages"  # zz: a test language, partly translated


def with_languages(folder: Path | None) -> Catalog:
    return load_catalog(replace(load_config(ROOT / "config.example.toml"), languages_dir=folder))


def test_a_language_file_adds_a_language_to_the_menu_and_runs_a_topic() -> None:
    catalog = with_languages(LANGUAGES)
    assert catalog.texts.langs == ("vi", "en", "zz")
    first = engine.step(catalog, None, Start())
    assert "ZZ welcome" in first.replies[0].text and "Chào em" in first.replies[0].text
    assert first.replies[0].keyboard[0][0].label == "Em đồng ý / I agree / ZZ yes"
    # Not translated yet: the button reads in the languages that have it, never empty.
    assert first.replies[0].keyboard[1][0].label == "Chưa / Not now"
    consented = engine.step(catalog, None, Press("0|guardian|yes"), consenting=True)
    assert consented.state is not None
    menu = consented.replies[-1]
    assert "ZZ which language?" in menu.text
    assert "Zz-test" in [b.label for row in menu.keyboard for b in row]

    state = registered(catalog, "zz")
    topics = engine.prompt(catalog, state)
    assert "ZZ pick a topic" in topics.text
    assert "ZZ violence" in topics.keyboard[0][0].label
    outcome = engine.step(catalog, state, press(engine.Outcome(state, (topics,)), "1."))
    assert "ZZ what did you see?" in outcome.replies[-1].text
    outcome = engine.step(catalog, outcome.state, Text("Bạn em bị đánh ở trường"))
    assert "ZZ what should be done?" in outcome.replies[-1].text
    outcome = engine.step(catalog, outcome.state, Text("Thầy cô để ý hơn giờ ra chơi"))
    assert "ZZ who should do it?" in outcome.replies[-1].text
    labels = [b.label for row in outcome.replies[-1].keyboard for b in row]
    assert "Gia đình" in labels  # "actors.family" left empty in the file: the Vietnamese
    picked = engine.step(catalog, outcome.state, press(outcome, "Gia đình")).state
    assert picked is not None
    outcome = engine.step(catalog, picked, Press(f"{picked.rev}|ok|"))
    # The optional message: no text in the file, so its Vietnamese question.
    assert "thông điệp ngắn" in outcome.replies[-1].text


def test_a_language_code_nobody_reads_any_more_falls_back_to_vietnamese() -> None:
    """A child who chose a language whose file was later removed still reads every screen."""
    state = registered(with_languages(LANGUAGES), "zz")
    shown = engine.prompt(with_languages(None), state)
    assert "Em muốn góp ý về chủ đề nào?" in shown.text
    assert "Phòng, chống bạo lực" in shown.keyboard[0][0].label


@pytest.mark.parametrize(("line", "problem"), [
    ('"thanks" = "ZZ {reff}"', "{reff} is not filled in"),
    ('"thanks" = "<b>ZZ {ref}"', "<b> is never closed"),
    ('"thanks" = "ZZ <blink>{ref}</blink>"', "<blink> is not a tag Telegram shows"),
    # a translator's slip the bot could not fill in: it crashed the check and the start with a
    # traceback, or (the last two) passed and broke the child's screen when it was shown
    ('"thanks" = "ZZ {ref"', "a { or } without its pair"),
    ('"thanks" = "ZZ } {ref}"', "a { or } without its pair"),
    ('"thanks" = "ZZ {} {ref}"', "{} is not filled in"),
    ('"thanks" = "ZZ {ref!s:>9}"', "{ref!s:>9} is not filled in"),
])
def test_a_broken_text_stops_the_start_naming_its_file_and_key(
        tmp_path: Path, line: str, problem: str) -> None:
    (tmp_path / "zz.toml").write_text(f'name = "Zz"\n[texts]\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as raised:
        with_languages(tmp_path)
    assert "zz.toml" in str(raised.value) and "[thanks]" in str(raised.value)


@pytest.mark.parametrize(("name", "body", "problem"), [
    ("Bahnar.toml", 'name = "Bahnar"', "name the file by the language's code"),
    ("en.toml", 'name = "English"', "shipped already"),
    ("bdq.toml", "[texts]", "the language's own name is needed"),
    ("bdq.toml", 'name = "B"\n[texts]\nwelcome = 3', "must hold only"),
])
def test_a_language_file_that_cannot_be_used_says_why(
        tmp_path: Path, name: str, body: str, problem: str) -> None:
    (tmp_path / name).write_text(body + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        with_languages(tmp_path)


def _config(tmp_path: Path, languages: Path) -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('languages_dir = ""', f'languages_dir = "{languages}"')
    text = text.replace('file = "docs/', f'file = "{ROOT}/docs/')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_texts_check_lists_what_each_language_lacks(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, LANGUAGES)
    assert main(["texts", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    total = int(out.split(" texts;")[0])
    assert f"en (English): {total} of {total} translated" in out
    # 10 of [texts] (one is left empty) and 4 of [flows.violence]
    assert f"zz (Zz-test): 14 of {total} translated" in out
    assert "missing (" in out and "consent.no" in out
    assert main(["texts", "check", "--strict", "--config", str(config)]) == 1


def test_a_broken_language_file_stops_a_command_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found while the bot loads its texts (not by the config's own reading): the command says
    which file, key and problem in one line and exits 2, no traceback."""
    folder = tmp_path / "languages"
    folder.mkdir()
    (folder / "zz.toml").write_text('name = "Zz"\n[texts]\n"thanks" = "{reff}"\n',
                                    encoding="utf-8")
    config, database = str(_config(tmp_path, folder)), str(tmp_path / "forum.sqlite3")
    assert main(["migrate", "--database", database, "--config", config]) == 0
    capsys.readouterr()
    code = main(["export", "--format", "csv", "--out", str(tmp_path / "x.csv"),
                 "--database", database, "--config", config])
    err = capsys.readouterr().err
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert line.startswith("childforum: ") and "zz.toml" in line and "{reff}" in line, line


def test_texts_check_fails_on_unknown_keys_and_broken_texts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "languages"
    folder.mkdir()
    (folder / "zz.toml").write_text(
        'name = "Zz"\n[texts]\n"welcome" = "ZZ"\n"welcom" = "typo"\n"thanks" = "{reff}"\n'
        '[flows.violence]\nsen = "typo too"\n', encoding="utf-8")
    assert main(["texts", "check", "--config", str(_config(tmp_path, folder))]) == 1
    out = capsys.readouterr().out
    assert "unknown keys, ignored by the bot: flows.violence.sen, welcom" in out
    assert "broken (the bot will not start): [thanks] {reff} is not filled in" in out


def test_the_shipped_languages_are_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["texts", "check", "--strict", "--config",
                 str(ROOT / "config.example.toml")]) == 0


def test_a_template_holds_every_text_and_loads_once_filled_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "languages"
    out = folder / "bdq.toml"
    config = _config(tmp_path, folder)
    folder.mkdir(exist_ok=True)
    assert main(["texts", "template", "bdq", "--name", "Bahnar", "--out", str(out),
                 "--config", str(config)]) == 0
    raw = tomllib.loads(out.read_text(encoding="utf-8"))
    assert raw["name"] == "Bahnar" and raw["texts"]["welcome"] == ""
    assert set(raw["flows"]) == {"violence", "injuries", "online", "climate", "labour", "group"}
    assert main(["texts", "template", "bdq", "--out", str(out), "--config", str(config)]) == 2
    for code, where, why in (("vi", folder / "vi.toml", "written into the bot already"),
                             ("Bahnar", folder / "x.toml", "not a language code"),
                             ("jra", tmp_path / "nowhere" / "jra.toml", "does not exist")):
        capsys.readouterr()
        assert main(["texts", "template", code, "--out", str(where),
                     "--config", str(config)]) == 2
        assert why in capsys.readouterr().err and not where.exists()
    assert not (tmp_path / "nowhere").exists()
    capsys.readouterr()
    assert main(["texts", "check", "--config", str(config)]) == 0  # empty: nothing unknown
    assert "bdq (Bahnar): 0 of" in capsys.readouterr().out
    filled = out.read_text(encoding="utf-8").replace('"welcome" = ""', '"welcome" = "Bahnar hi"')
    out.write_text(filled, encoding="utf-8")
    catalog = with_languages(folder)
    assert catalog.texts.get("welcome", "bdq") == "Bahnar hi"
    assert catalog.texts.get("menu", "bdq") == catalog.texts.get("menu", "vi")


async def test_a_child_runs_a_topic_in_a_language_added_by_a_file(
        simulator: BotApiSimulator, tmp_path: Path) -> None:
    """The real bot process, configured with the test language's folder only."""
    config = write_config(tmp_path / "config.toml", simulator, tmp_path / "forum.sqlite3",
                          changes={'languages_dir = ""': f'languages_dir = "{LANGUAGES}"'})
    async with running_bot(simulator, config):
        child = Child(simulator, 901)
        assert "ZZ welcome" in texts(await child.say("/start"))
        await child.tap("Em đồng ý / I agree / ZZ yes")
        assert "ZZ which language?" in texts(await child.tap("Có, đã đồng ý"))
        assert "ZZ where do you live?" in texts(await child.tap("Zz-test"))
        await child.tap("Huyện Đắk Hà")
        await child.tap("10-12")
        assert "ZZ pick a topic" in texts(await child.tap("Em không muốn nói"))
        await child.tap("1.")
        shown = texts(await child.say("Giờ ra chơi các bạn lớn hay xô đẩy các bạn nhỏ"))
        assert "ZZ what should be done?" in shown, shown
        await child.say("Thầy cô trực ở sân trường giờ ra chơi")
        await child.tap("Nhà trường")
        await child.tap("✔️")
        await child.skip_to_review()
        assert "ZZ thank you, DHA-0001" in texts(await child.tap("ZZ send"))
        assert query(tmp_path / "forum.sqlite3", "SELECT ref, topic, status FROM proposals") == [
            ("DHA-0001", "violence", "pending")]


def test_exports_name_a_language_by_its_files_name() -> None:
    """In the Word report's part I and the workbook's language column: the name, not the code
    ("- bdq: 1 kiến nghị" was printed)."""
    from bot.exports.common import Labels

    config = replace(load_config(ROOT / "config.example.toml"), languages_dir=LANGUAGES)
    labels = Labels(config, load_catalog(config))
    name = load_catalog(config).texts.table["lang.zz"]["vi"]
    assert labels.language("zz") == name != "zz"
    assert (labels.language("vi"), labels.language("en")) == ("Tiếng Việt", "Tiếng Anh")
    assert labels.language("xyz") == "xyz"  # no file: the code, as tagged
