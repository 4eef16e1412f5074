"""Tests for bot.safeguarding.detector: figures on dev.tsv and the held-out set, plus unit cases."""

import os
import time
import unicodedata
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path

import pytest

from bot.safeguarding.detector import CATEGORIES, Disclosure, detect_disclosure

LABELS = frozenset({"disclosure", "topic", "other"})
HELDOUT = Path(__file__).resolve().parent / "data" / "safeguarding_heldout.tsv"


def shared_dir() -> Path:
    """The shared/ folder: $CHILDFORUM_SHARED, else the one beside the repository."""
    env = os.environ.get("CHILDFORUM_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


def load_tsv(path: Path) -> list[tuple[str, str]]:
    """(label, text) rows of a label<TAB>text file with a header line."""
    if not path.is_file():
        pytest.fail(
            f"safeguarding data not found: {path}. Put the shared/ folder beside the repository "
            "or set CHILDFORUM_SHARED to its path."
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0] == "label\ttext", f"{path}: header must be 'label<TAB>text'"
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        assert sep and label in LABELS and text.strip(), f"{path}:{number}: bad row {line!r}"
        rows.append((label, text))
    return rows


@dataclass(frozen=True)
class Figures:
    """Recall on disclosures and false alarms on the rest (topic + other)."""

    name: str
    found: int
    disclosures: int
    false_alarms: int
    negatives: int
    missed: tuple[str, ...]
    alarms: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.disclosures

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.negatives

    def row(self) -> str:
        return (
            f"{self.name:<10} {self.found:>3}/{self.disclosures:<3} {self.recall:>7.1%}   "
            f"{self.false_alarms:>3}/{self.negatives:<3} {self.false_alarm_rate:>6.1%}"
        )


def evaluate(name: str, rows: list[tuple[str, str]]) -> Figures:
    """Run the detector over labelled rows."""
    missed = tuple(t for label, t in rows if label == "disclosure" and not detect_disclosure(t))
    alarms = tuple(t for label, t in rows if label != "disclosure" and detect_disclosure(t))
    disclosures = sum(label == "disclosure" for label, _ in rows)
    return Figures(name, disclosures - len(missed), disclosures, len(alarms),
                   len(rows) - disclosures, missed, alarms)


@pytest.fixture(scope="module")
def dev() -> Figures:
    return evaluate("dev", load_tsv(shared_dir() / "safeguarding" / "dev.tsv"))


@pytest.fixture(scope="module")
def heldout() -> Figures:
    return evaluate("held-out", load_tsv(HELDOUT))


def test_report_table(dev: Figures, heldout: Figures) -> None:
    print("\nset        disclosures found    false alarms (topic+other)")
    for figures in (dev, heldout):
        print(figures.row())
        for text in figures.missed:
            print(f"  missed: {text}")
        for text in figures.alarms:
            print(f"  false alarm: {text}")


def test_dev_floors(dev: Figures) -> None:
    assert dev.missed == (), f"missed disclosures on dev.tsv: {dev.missed}"
    assert dev.false_alarms <= 1, f"false alarms on dev.tsv: {dev.alarms}"


def test_heldout_floors(heldout: Figures) -> None:
    # Measured 52/52 and 0/61; floors a little under so a regression fails, not a rounding.
    assert heldout.recall >= 0.96, f"missed: {heldout.missed}"
    assert heldout.false_alarms <= 3, f"false alarms: {heldout.alarms}"


def test_heldout_shape() -> None:
    rows = load_tsv(HELDOUT)
    assert 80 <= len(rows) <= 120
    assert {label for label, _ in rows} == LABELS


# --- unit cases ----------------------------------------------------------------------------


def category(text: str) -> str | None:
    found = detect_disclosure(text)
    return found.category if found else None


@pytest.mark.parametrize(
    "text",
    ["Bố em hay đánh em", "bo em hay danh em", "BO EM HAY DANH EM", "  bố   em hay\nđánh em  "],
)
def test_with_and_without_tone_marks(text: str) -> None:
    assert category(text) == "violence"


def test_nfd_input_from_phone_keyboards() -> None:
    text = unicodedata.normalize("NFD", "Em không muốn sống nữa")
    assert text != unicodedata.normalize("NFC", text)
    assert category(text) == "self_harm"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("e ko mun song nx", "self_harm"),
        ("E k mún sống nữa", "self_harm"),
        ("mik bj ng ta dọa tung ảnh", "online_exploitation"),
        ("e bi bme ep lay ck", "forced_marriage"),
        ("mk hok dc ăn 2 ngày r", "neglect"),
        ("e bi danh hoaiii", "violence"),
    ],
)
def test_teen_shorthand(text: str, expected: str) -> None:
    assert category(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My dad hits me when he is drunk", "violence"),
        ("I want to kill myself", "self_harm"),
        ("i dont want to live anymore", "self_harm"),
        ("I don't want to live anymore", "self_harm"),
        ("someone is threatening to share my nudes", "online_exploitation"),
        ("my uncle does things to me", "sexual_abuse"),
        ("my parents don't feed me", "neglect"),
        ("I have to work in a factory every night", "child_labour"),
    ],
)
def test_english(text: str, expected: str) -> None:
    assert category(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Children should learn how to swim at school",
        "Children who are abused should know they can call 111",
        "We should stop cyberbullying at our school",
    ],
)
def test_english_proposals(text: str) -> None:
    assert detect_disclosure(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Em thấy danh sách hộ nghèo nên được công khai",  # "danh" in "danh sách"
        "Mình đề xuất thêm giờ học kỹ năng sống",  # "em" inside "thêm"
        "em danh chu sai roi, sua lai dc ko",  # "đánh chữ" is typing
        "e danh rang xong roi",  # brushing teeth
        "mình đánh giá cuộc thi này rất hay",  # rating
        "em làm từ từ nha",  # "từ từ" (slowly) folds like "tự tử"
        "để em từ từ suy nghĩ",
        "Đắk Hà",
        "Tu Mơ Rông",
        "haha bot này làm em cười muốn chết",  # idiom: laughing to death
        "Sa Thầy có nhiều sông suối nguy hiểm, em sợ các em nhỏ bị đuối nước",
    ],
)
def test_word_boundaries_and_idioms(text: str) -> None:
    assert detect_disclosure(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("em hay tự làm đau mình bằng dao lam", "self_harm"),
        ("Chú hàng xóm hay sờ vào người em", "sexual_abuse"),
        ("Có người trên mạng bắt em gửi ảnh nóng", "online_exploitation"),
        ("me ke nhot em trong nha", "violence"),
        ("Mình bị bỏ đói cả ngày", "neglect"),
        ("Em phải nghỉ học đi làm ở xưởng gỗ", "child_labour"),
        ("bố mẹ định gả em cho con trai nhà bên để trả nợ", "forced_marriage"),
        ("bạn em bị người ta dụ đi sang Trung Quốc", "trafficking"),
        ("Tụi nó nói nếu em mách cô thì sẽ giết em", "threat"),
    ],
)
def test_categories(text: str, expected: str) -> None:
    assert expected in CATEGORIES
    assert category(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "em bị bạo hành",
        "ba dượng cứ đêm đến là mò vào giường em",
        "e bi bo ruou ve la dap do dac roi dap ca e",
        "có ông kia cho em tiền rồi bắt em cho ổng sờ",
        "có lẽ em biến mất thì mọi người sẽ vui hơn",
        "e thấy cuộc sống vô nghĩa quá",
        "mình đã uống hết lọ thuốc",
        "chị em 15 tuổi bị người ta đưa đi mất 3 tháng rồi",
        "nó dí dao vào cổ em bắt đưa tiền",
        "ba hay bạt tai em",
        "em tự tử",
        "nhiều lúc em chỉ muốn ngủ luôn không dậy nữa",
        "bạn thân em bị bố đánh gãy tay, em nên làm gì",
        "Em bị bạn bắt nạt, em mong nhà trường giúp em",  # a proposal marker, still disclosed
    ],
)
def test_disclosures_found_after_the_first_draft(text: str) -> None:
    assert detect_disclosure(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Cần xử lý nghiêm những người có hành vi bạo lực với trẻ em",
        "cần có đường dây nóng để trẻ em tố cáo bạo lực",
        "Cha mẹ không nên đánh con, hãy dạy con bằng lời nói",
        "Nhiều bạn ở làng em phải nghỉ học đi làm rẫy, em mong các bạn được hỗ trợ",
        "mk mong các bạn ko bị ép lấy chồng sớm nữa",
        "Trường nên có giáo viên tư vấn cho các bạn có ý định tự tử",
        "em muốn góp ý về bạo lực học đường",
    ],
)
def test_proposals_using_harm_words(text: str) -> None:
    assert detect_disclosure(text) is None


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "ok", "/start", "…!?"])
def test_empty_and_noise(text: str) -> None:
    assert detect_disclosure(text) is None


def test_matched_phrase_shows_why() -> None:
    assert detect_disclosure("em bi ban cung lop danh hoai") == Disclosure(
        "violence", "em bi ban cung lop danh"
    )
    assert detect_disclosure("Em không muốn sống nữa") == Disclosure("self_harm", "khong muon song")


def test_disclosure_is_frozen() -> None:
    found = detect_disclosure("em muon chet")
    assert found is not None
    with pytest.raises(FrozenInstanceError):
        found.category = "other"  # type: ignore[misc]


def test_fast_enough_for_every_message() -> None:
    texts = [
        "Bố em hay đánh em mỗi khi say rượu",
        "Nhiều bạn ở làng em phải nghỉ học đi làm rẫy, em mong các bạn được hỗ trợ để đi học lại",
        "xin chào",
    ]
    detect_disclosure(texts[0])
    runs = 300
    start = time.perf_counter()
    for _ in range(runs):
        for text in texts:
            detect_disclosure(text)
    mean = (time.perf_counter() - start) / (runs * len(texts))
    assert mean < 1e-3, f"{mean * 1e6:.0f} µs per message"
