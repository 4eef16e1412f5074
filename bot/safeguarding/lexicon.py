"""Recognise a message that looks like a child disclosing harm (safeguarding).

Transparent rules on folded text (see docs/safeguarding.md). Text is folded, split into tokens
(punctuation becomes a clause mark ``|``), teen shorthand is expanded (ko → khong, e → em,
mik → minh, bj → bi, ...), and a few compounds are joined so that ``em`` in ``tre em``
("children") or ``minh`` in ``mot minh`` ("alone") is not read as "I".

A harm phrase (category lexicon below) then counts as a disclosure when:

* it is *strong*: a self-harm phrase such as ``muon chet``; or the phrase is anchored on the
  child: "em/mình ... bị/phải ... <harm>", "bắt/ép em ... <harm>", "<harm> ... em" (object),
  or, for self-harm, labour and neglect, "em (hay/đang/lại ...) <harm>". Strong matches win
  even inside a proposal;
* otherwise, by a small score: harm phrase 1, a first-person word within 8 tokens 1, a
  passive "bị/phải" just before it 1, fear or a plea for help 1, any proposal marker
  (cần, nên, đề nghị, trẻ em, should, ...) -2; a score of 2 or more is a disclosure.

Recall is favoured: a false alarm costs a kind message and a staff look; a human always reviews.
"""

import re
from dataclasses import dataclass, field

from bot.textnorm import chat_word, fold, nfc

__all__ = ["CATEGORIES", "Disclosure", "detect_disclosure"]


@dataclass(frozen=True)
class Disclosure:
    """A message that looks like a disclosure: its category and the phrase that matched."""

    category: str
    matched: str
    # A phrase that speaks for itself ("không muốn sống", "kill myself"), not a scored one.
    strong: bool = field(default=False, compare=False)


# Order matters: when several strong phrases match, the first category wins.
CATEGORIES = (
    "self_harm",
    "sexual_abuse",
    "trafficking",
    "online_exploitation",
    "forced_marriage",
    "child_labour",
    "violence",
    "neglect",
    "threat",
)

# --- normalisation ------------------------------------------------------------------------

_CLAUSE_PUNCT = re.compile(r"[.,;:!?…()\[\]\n]+")
_APOSTROPHE = re.compile(r"(?<=[a-z])['’](?=[a-z])")  # don't → dont, I'm → im
_NON_WORD = re.compile(r"[^a-z0-9|]+")


_COMPOUNDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])"), repl)
    for pattern, repl in (
        # "em" that is not "I": children, the kids, a baby, little ones
        (r"tre em", "treem"),
        (r"cac em", "cacem"),
        (r"em (be|nho)", r"em\1"),
        # "minh" that is not "I": alone, smart, dawn, prove, invent, civilised, clear
        (r"(mot|1|thong|binh|chung|phat|van|quang|cong|thuyet|tuong) minh", r"\1minh"),
        (r"minh (bach|hoa|chung)", r"minh\1"),
        # "toi" = tối (evening), "tao" = tạo (create), "tui" = tụi (those kids)
        (r"toi (qua|nay|nao|mai|hom)", r"buoitoi \1"),
        (r"(buoi|den|ca|sang|trua|chieu) toi", r"\1 buoitoi"),
        (r"(sang|dao|cai) tao", r"\1tao"),
        (r"tao (dieu|ra|hinh|co hoi)", r"taora \1"),
        (r"tui (no|may|ban|chung|xach)", r"tui\1"),
        # "vé số": lottery tickets (children sell them), not "sờ" (touch)
        (r"ve so", "veso"),
        # "my village / school / class": a place, not the child
        (r"(lang|xa|truong|lop|thon|xom|buon|que|khu|huyen|tinh|phuong) (em|minh|toi|tui)",
         r"\1 \g<2>0"),
    )
)


def _normalise(text: str) -> str:
    """Folded, shorthand-expanded tokens joined by single spaces; ``|`` marks a clause end."""
    folded = _CLAUSE_PUNCT.sub(" | ", _APOSTROPHE.sub("", fold(text)))
    words = _NON_WORD.sub(" ", folded).split()
    out: list[str] = []
    for word in words:
        if word == "|" and (not out or out[-1] == "|"):
            continue
        out.append(chat_word(word))
    joined = " ".join(out)
    for pattern, repl in _COMPOUNDS:
        joined = pattern.sub(repl, joined)
    return joined


# --- words that fold alike ------------------------------------------------------------------

# Harm words that common words fold into ("dành" → "danh", "bộ đội" → "bo doi", "số người" →
# "so nguoi", "dạ em" → "da em"): in a message typed with tone marks, a phrase built on one of
# them counts only if the message spells it as the rules mean it (or without marks). A message
# typed without marks keeps every reading: recall first.
_MEANT: dict[str, frozenset[str]] = {
    folded: frozenset(spellings.split()) for folded, spellings in {
        # every spelling any phrase means, harm word or not ("rạch chân", "kết thúc tất cả",
        # "ép đám em uống rượu"): the guard is for the collisions, recall comes first
        "danh": "đánh", "da": "đá đã da", "doi": "đói đòi đối đời dõi", "ga": "gả gạ",
        "nhot": "nhốt", "so": "sờ", "tat": "tát tất", "dap": "đập dập đạp",
        "quat": "quất quật", "bat": "bắt bạt", "chan": "chán chặn chân",
        "dam": "đấm đâm dâm đám", "hiep": "hiếp", "chui": "chửi",
    }.items()
}
_WORD = re.compile(r"\w+")


def _spellings(text: str) -> dict[str, set[str]]:
    """How the message spells each word of _MEANT (lower case), by its folded form."""
    found: dict[str, set[str]] = {}
    if text.isascii():
        return found
    for word in _WORD.findall(nfc(text).lower()):
        folded = fold(word)
        if folded in _MEANT:
            found.setdefault(folded, set()).add(word)
    return found


def _as_meant(phrase: str, spellings: dict[str, set[str]]) -> bool:
    """False when a word of the phrase is spelt in the message only as another word."""
    return all(not (typed := spellings.get(token)) or typed & (_MEANT[token] | {token})
               for token in phrase.split() if token in _MEANT)


# --- lexicon ------------------------------------------------------------------------------

_FP = r"(?:em|minh|toi|tao|tui)"  # first person, also the "em" of "bạn em" (a named child)
_MACROS = {
    "<FP>": _FP,
    "<G2>": r"(?:[a-z0-9]+ ){0,2}",
    "<G3>": r"(?:[a-z0-9]+ ){0,3}",
    "<COUNTRY>": r"(?:trung quoc|tq|lao|campuchia|cam pu chia|thai lan|malaysia|han quoc"
    r"|nuoc ngoai|bien gioi)",
}

# Vietnamese "đánh" that is not hitting: typing, brushing teeth, rating, fishing, playing ...
_DANH = (
    r"(?<!dia )(?<!thanh )danh(?! (?:chu|rang|gia|bat|cau|dan|bai|may|dau|thuc|sach|hieu"
    r"|tinh|tieng|du|vong|lua|nhac|bong|co|so|van|tu|roi|trong|thue|giac|tran|thang|phan"
    r"|sap|lac|don|muc|chieng|vay|trung))"
)

# "strong" phrases are a disclosure on their own; "act" phrases go through anchors and score.
_LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "self_harm": {
        "strong": (
            r"(?:khong|chang|cha|het) (?:con )?muon (?:song|ton tai)",
            r"(?<!cuoi )muon chet",  # not the idiom "cười muốn chết" (laughing to death)
            r"chan song", r"chan doi", r"khong thiet song",
            r"ngu (?:mai|luon) (?:khong|chang) (?:bao gio )?(?:day|tinh)",
            # "em tự tử"; "từ từ" (slowly) folds the same, so not before a verb of doing
            r"<FP> (?:(?:da|dang|se|dinh|muon|lai|hay|tung|co) )?tu tu"
            r"(?! (?:lam|suy|nghi|hoc|doc|viet|tra|gui|noi|an|di|thoi|nha|ma|roi))",
            r"(?:cuoc song|song) (?:that |qua |rat )?vo nghia",
            r"song (?:de |con )?(?:lam gi|co y nghia gi)",
            r"chet (?:di(?! duoc)|cho xong|cho roi|quach)",  # not "khó chết đi được" (idiom)
            r"muon (?:bien mat|tu tu|ket thuc)",
            r"ket thuc (?:cuoc song|cuoc doi|tat ca)",
            r"kill(?:ing)? myself", r"want to die", r"(?:don t|do not) want to (?:live|be alive)",
            r"end (?:my life|it all)", r"(?:hurt|hurting|cut|cutting|harm|harming) myself",
        ),
        "act": (
            r"(?:dinh|se|co y dinh|y dinh|nghi den|nghi toi|tinh|da tung|thu|cach) tu tu",
            r"tu tu (?:chet|cho xong)", r"tu sat",
            r"tu (?:lam dau|hai|rach|cat|dam|danh)", r"rach (?:co )?(?:tay|da|chan|dui|nguoi)",
            r"cat (?:co )?tay", r"dao lam",
            r"uong <G2>thuoc (?:ngu|chuot|sau|tru sau|diet co)",
            r"uong (?:het|ca|nhieu|mot nam|1 nam) <G2>thuoc", r"bien mat",
            r"nhay (?:cau|song|lau|xuong song)", r"treo co", r"tram cam", r"tuyet vong",
            r"nghi (?:den|toi|ve) (?:cai )?chet", r"bien mat khoi",
            r"(?:khong|chang) (?:con )?ai can", r"la ganh nang", r"ghet ban than",
            r"suicid[a-z]*", r"self harm",
        ),
    },
    "sexual_abuse": {
        "strong": (
            r"(?:hiep dam|cuong hiep|xam hai|so mo) <FP>",
            r"(?:touch(?:ed|es|ing)?|rap(?:e|ed|es|ing)|molest(?:ed|s|ing)?) me",
            r"(?:does|did|do|doing) (?:bad )?(?:things|stuff) to me",
        ),
        "act": (
            r"xam hai", r"hiep dam", r"cuong hiep", r"cuong buc", r"bi hiep",
            r"lam dung (?:tinh duc|<FP>)", r"bi lam dung", r"ga gam", r"du do",
            r"mo (?:vao|len) (?:giuong|phong|nguoi|cho)",
            r"cho (?:ong|no|han|chu|anh|bac|thay) (?:ay |ta )?so"
            r"(?! (?:dien|nha|tien|lieu|lan|phone|tai khoan))",
            r"dam o", r"au dam", r"so mo", r"so soang",
            r"so (?:vao |len )?(?:nguoi|nguc|mong|dui|vung|cho kin|quan|bung)",
            r"(?:cham|dung) vao (?:nguoi|vung|cho)", r"dong cham", r"quay roi",
            r"lam chuyen (?:do|ay|kia|nguoi lon)",
            r"quan he (?:tinh duc|voi <FP>)", r"(?:ep|bat) (?:<FP> )?quan he",
            r"phim (?:sex|nguoi lon|xxx|dam|khieu dam)", r"sex", r"khieu dam", r"tinh duc",
            r"coi (?:do|quan|ao|het)", r"doi hon", r"hon hit", r"om hon", r"om ap",
            r"ngoi len dui", r"len giuong", r"vung kin", r"cho kin",
            r"rap(?:e|ed|es|ing)", r"molest[a-z]*",
            r"private parts", r"sexual[a-z]*",
        ),
    },
    "trafficking": {
        "strong": (r"sold me", r"kidnapped me"),
        "act": (
            r"(?:ban|dua|dem|dan|du|lua|ru|chuyen|cho) <G3>sang <COUNTRY>",
            r"sang <COUNTRY> (?:lam|lay chong|o)",
            r"vuot bien", r"buon (?:ban )?nguoi", r"bat coc", r"bi bat (?:di|len xe|coc)",
            r"bat (?:<FP> )?(?:len xe|di xa)", r"(?:bi )?du (?:<FP> )?(?:di|sang|len xe)",
            r"lua (?:<FP> )?(?:di|sang|ban)", r"(?:viec|lam viec|lam) (?:nhe )?luong cao",
            r"mat lien lac", r"khong lien lac duoc", r"mat tich",
            r"bi <G2>dua di(?! (?:hoc|choi|kham|vien|an|ngu))",
            r"traffick[a-z]*", r"kidnap[a-z]*",
        ),
    },
    "online_exploitation": {
        "strong": (
            r"(?:share|post|leak|send|spread)(?:ing)? my (?:nudes|photos|pictures|pics|videos?)",
        ),
        "act": (
            r"tung (?:anh|clip|video|hinh)", r"phat tan",
            r"(?:doa|se|bi|thi) <G2>dang (?:anh |clip |video |hinh )?(?:cua <FP> )?len"
            r" (?:mang|facebook|tiktok|zalo|nhom|youtube)",
            r"gui <G2>(?:anh|hinh|clip|video) (?:nong|nude|khoa than|nhay cam|rieng tu|sex)",
            r"(?:anh|hinh|clip) (?:nong|nude|nhay cam)", r"nudes?", r"khoa than",
            r"khong mac (?:ao|quan|do|gi)", r"bi <G3>chup (?:trom |len )?(?:anh|hinh|clip)",
            r"quay (?:trom|len) (?:anh|clip|video|hinh)",
            r"doi gap", r"hen gap (?:rieng|o|tai)", r"nha nghi",
            r"sextortion", r"(?:ask|asks|asked|asking|want|wants|wanted) (?:for )?(?:my )?"
            r"(?:photos|pictures|pics|nudes)",
        ),
    },
    "forced_marriage": {
        "strong": (),
        "act": (
            r"lay chong", r"lay vo", r"cuoi chong", r"(?:ep|bat|buoc) <G3>cuoi",
            r"phai cuoi", r"tao hon", r"sinh le", r"ga (?:<FP>|con) (?:cho|sang)",
            r"(?:bi|muon|ep|bat|dinh) ga", r"ket hon som",
            r"cuoi (?:mot|1) (?:nguoi|ong|anh)", r"cuoi ong",
            r"(?:forced|force|forcing|make|made|want) (?:me )?to marry", r"arranged marriage",
        ),
    },
    "child_labour": {
        "strong": (),
        "act": (
            r"(?:nghi|bo) hoc (?:de |roi |ma |o nha )*(?:di )?(?:lam|ban|phu)",
            r"lam thue", r"lam muon", r"boc vac", r"khuan vac", r"phu ho", r"giup viec",
            r"o do", r"ban veso", r"di ban (?:hang|rong)", r"bat (?:<FP> )?di ban",
            r"lam (?:o|tai|trong) (?:xuong|quan|lo|mo|cong truong|nha may|nha hang|karaoke)",
            r"lam (?:tu|den) <G2>(?:gio|khuya|dem|sang)",
            r"khong (?:duoc )?tra (?:tien|luong)", r"lam (?:suot|ca) (?:ngay|dem)",
            r"(?:lao dong|lam viec|lam) (?:nang|qua suc|kho sai)",
            r"(?:have|has|had) to work", r"(?:forced|made|force|forces|makes) (?:me )?to work",
            r"work in a (?:factory|mine|restaurant|bar)",
        ),
    },
    "violence": {
        "strong": (
            r"(?:hit|hits|hitting|beat|beats|beating|kick|kicks|kicked|punch|punches|punched"
            r"|slap|slaps|slapped|hurt|hurts|choke|chokes|choked|burn|burns|burned|bully"
            r"|bullies|bullied|abuse|abuses|abused) me",
            r"i (?:am|m|was|get|got|keep getting|have been|ve been) (?:being )?"
            r"(?:hit|beaten|hurt|abused|bullied)",
        ),
        "act": (
            _DANH, r"dam (?:vao|dau|bung|mat)", r"dap (?:vao|dau)", r"da (?:vao|ngay vao)",
            r"tat (?:vao|tai)", r"quat (?:vao|roi)", r"bop co", r"bam tim", r"bam dap",
            r"vet bam", r"chay mau(?! cam)", r"bao luc", r"bao hanh", r"hanh ha", r"nguoc dai",
            r"tra tan", r"hanh hung", r"bat nat", r"tay chay", r"nhot",
            r"troi (?:tay|chan|lai|vao)", r"chui (?:mang|boi|bay|rua)", r"mang chui",
            r"bi <G3>chui", r"doi xu te", r"(?:ep|bat) <G3>uong (?:ruou|bia)",
            r"cuong ep", r"ep buoc", r"bi ep", r"ep <FP>",
            r"(?:tat|quat|dam|dap|da|chui|mang|ep) (?:ca |luon )?<FP>", r"bat tai",
            r"(?:di|ke|chia|cam) dao", r"dot vao (?:tay|nguoi|chan|<FP>)", r"nuoc soi",
            r"beaten", r"bullied", r"bullying", r"abuse[ds]?", r"abusive",
        ),
    },
    "neglect": {
        "strong": (
            r"lock(?:s|ed)? me (?:in|out|up)",
            r"(?:don t|doesn t|do not|never) (?:feed|look after|take care of) me",
        ),
        "act": (
            r"bo doi", r"nhin doi", r"khong (?:co gi|co gi de|duoc|cho <G2>) an",
            r"chua (?:duoc )?an (?:gi )?(?:may|ca|2|3|hai|ba) (?:ngay|hom)",
            r"bo roi", r"bo mac", r"bo (?:<FP> )?(?:o nha )?motminh", r"o nha motminh",
            r"khong (?:duoc|cho) (?:<FP> )?(?:di hoc|ve nha|ngu|ra ngoai)",
            r"duoi <G2>ra khoi nha", r"duoi (?:<FP> )?di", r"duoi <FP>", r"bo di",
            r"ngu ngoai duong", r"(?:no food|nothing to eat|haven t eaten)",
            r"(?:can t|cannot|not allowed to) go (?:to school|home)",
        ),
    },
    "threat": {
        "strong": (
            r"(?:will|going to) (?:hurt|kill|beat|find) me", r"know where i live",
            r"(?:se )?giet <FP>",
        ),
        "act": (
            r"doa(?! hoa)", r"de doa", r"giet", r"chem", r"dam (?:dao|chet)",
            r"den tan (?:nha|truong)", r"biet nha <FP>", r"chan duong", r"doi tien",
            r"tong tien", r"bat nop tien", r"an hiep", r"uy hiep", r"khung bo",
            r"theo doi <FP>", r"threat[a-z]*",
            r"(?:want|wants|asking for|demand|demands|demanding) money",
            r"stalk[a-z]*", r"blackmail[a-z]*",
        ),
    },
}

# Categories whose act phrases also count with the child as plain subject ("em lại cắt tay").
_DIRECT = frozenset({"self_harm", "child_labour", "neglect"})

_ADV = (
    r"(?:hay|da|dang|lai|cu|thuong|xuyen|van|cung|luon|moi|sap|se|dinh|muon|that|su|thi|la"
    r"|con|chi|toan|hoai|nhieu|lan|khi|co|vua|tung|hom|nay|qua|nao|ngay|dem|buoitoi|rat"
    r"|tuoi|[0-9]+)"
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    body = "|".join(patterns)
    for macro, value in _MACROS.items():
        body = body.replace(macro, value)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


_PATTERNS: tuple[tuple[str, bool, re.Pattern[str]], ...] = tuple(
    (category, kind == "strong", compiled)
    for category in CATEGORIES
    for kind in ("strong", "act")
    if (compiled := _compile(_LEXICON[category][kind])) is not None
)

# Anchors, searched on the text just before (prefix) or after (suffix) a harm phrase.
_PASSIVE_ANCHOR = re.compile(
    rf"(?<![a-z0-9])(?:{_FP}(?: {_ADV}){{0,3}} (?:bi|phai)"
    rf"|(?:bat|ep|buoc|cuong ep|doa|du|lua|ru) {_FP}"
    rf"|i(?: am| m| was| get| got| have been| ve been)(?: being)?)"
    rf"(?: [a-z0-9]+){{0,4}} $"
)
_DIRECT_ANCHOR = re.compile(rf"(?<![a-z0-9])(?:{_FP}|i)(?: {_ADV}){{0,3}} $")
_OBJECT_ANCHOR = re.compile(rf"^(?: [a-z0-9]+){{0,2}} (?:{_FP}|me|myself)(?![a-z0-9])")
_BARE_PASSIVE = re.compile(r"(?<![a-z0-9])(?:bi|phai)(?: [a-z0-9]+){0,4} $")

_FIRST_PERSON = frozenset({"em", "minh", "toi", "tao", "tui", "con", "i", "me", "my", "myself"})
_PROPOSAL = re.compile(
    r"(?<![a-z0-9])(?:can(?! t| not)|nen|de nghi|de xuat|kien nghi|mong(?! em| minh)"
    r"|hy vong|hi vong|cac ban|nhieu ban|moi nguoi|treem|cacem|hoc sinh|thieu nhi"
    r"|chinh quyen|nha truong|nha nuoc|cong an|tuyen truyen|phong chong|xu ly|xu phat"
    r"|gop y|y kien|chu de|hoc duong"
    r"|nghiem|should|need|needs|must|we|children|kids|students|(?<!my )parents|government"
    r"|schools|everyone)(?![a-z0-9])"
)
_DISTRESS = re.compile(
    rf"(?<![a-z0-9])(?:{_FP} so|so (?:lam|qua|that)|rat so|so hai|khong dam"
    rf"|(?:giup|cuu) (?:{_FP}|voi)|lam sao|lam gi|lam the nao|khoc|dau (?:lam|qua)"
    rf"|(?:dung|khong duoc) (?:noi|ke)|bi mat|help|scared|afraid)(?![a-z0-9])"
)

_WINDOW = 8  # tokens between a first-person word and a harm phrase for them to be "near"
_THRESHOLD = 2


def _clause_before(text: str, start: int) -> str:
    """The last words (up to ~80 characters) of the clause before ``start``."""
    before = text[:start]
    clause = before[before.rfind("|") + 1 :]
    if len(clause) <= 80:
        return clause
    tail = clause[-80:]
    return tail[tail.find(" ") :]


def _clause_after(text: str, end: int) -> str:
    """The text of the clause after ``end``, starting with a space."""
    after = text[end:]
    cut = after.find("|")
    return after if cut < 0 else after[:cut]


def _is_anchored(text: str, match: re.Match[str], category: str) -> str | None:
    """The anchored phrase (child + harm) if the harm is told about the child, else None."""
    before = _clause_before(text, match.start())
    anchor = _PASSIVE_ANCHOR.search(before)
    if anchor is None and category in _DIRECT:
        anchor = _DIRECT_ANCHOR.search(before)
    if anchor is not None:
        return (before[anchor.start() :] + match.group()).strip()
    obj = _OBJECT_ANCHOR.match(_clause_after(text, match.end()))
    if obj is not None:
        return match.group() + obj.group()
    return None


def _score(text: str, tokens: list[str], match: re.Match[str], base: int) -> int:
    """Score of an unanchored harm phrase: ``base`` plus a first-person word near it and a
    passive "bị/phải" just before it."""
    first = text[: match.start()].count(" ")
    last = first + match.group().count(" ")
    near = tokens[max(0, first - _WINDOW) : last + _WINDOW + 1]
    score = base + 1
    score += any(token in _FIRST_PERSON for token in near)
    score += _BARE_PASSIVE.search(_clause_before(text, match.start())) is not None
    return score


def detect_disclosure(text: str) -> Disclosure | None:
    """Return a Disclosure if ``text`` looks like a child telling of harm, else None."""
    norm = _normalise(text)
    matches = [
        (category, strong, match)
        for category, strong, pattern in _PATTERNS
        for match in pattern.finditer(norm)
    ]
    if not matches:
        return None
    spellings = _spellings(text)  # read only for a message a phrase matched: most match none
    matches = [found for found in matches if _as_meant(found[2].group(), spellings)]
    if not matches:
        return None
    for category, strong, match in matches:
        if strong:
            return Disclosure(category, match.group(), strong=True)
    for category, _, match in matches:
        anchored = _is_anchored(norm, match, category)
        if anchored is not None:
            return Disclosure(category, anchored)
    tokens = norm.split(" ")
    base = (_DISTRESS.search(norm) is not None) - 2 * (_PROPOSAL.search(norm) is not None)
    score, category, match = max(
        ((_score(norm, tokens, match, base), category, match) for category, _, match in matches),
        key=lambda scored: scored[0],
    )
    return Disclosure(category, match.group()) if score >= _THRESHOLD else None
