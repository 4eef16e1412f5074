"""The phrase rules (bot.safeguarding.lexicon): they add to tier 2, so what they match matters."""

import unicodedata
from dataclasses import FrozenInstanceError

import pytest

from bot.safeguarding.lexicon import CATEGORIES, Disclosure, detect_disclosure

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
