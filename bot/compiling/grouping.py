"""Group proposals that ask for the same thing (one district, one topic at a time).

Pure and deterministic. A proposal becomes a bag of weighted terms: its words folded (no tone
marks, đ → d, children's chat spellings expanded, letters repeated for emphasis squeezed), minus
the words every proposal has ("em đề nghị", "cần", "các bạn"...), and the pairs of neighbouring
words, which carry the request ("rao chan", "khong danh", "ao phao"), at a third of a word's
weight (a paraphrase shares words more often than pairs: weighed fully, pairs kept apart what
asks the same in other words). Terms are weighted by how rare they are in the batch (tf-idf),
vectors normalised, and compared by cosine.

Grouping is agglomerative with average linkage: the two groups most alike (the mean similarity of
their members) merge, again and again, while that mean stays above a threshold. Average linkage
does not chain (one shared word does not pull two requests together through a third), and the
threshold, not a number of groups, decides, as an officer would. Only pairs that share a term are
ever compared (an inverted index), so the cost follows the real overlaps, not n².

Measured on sets it was not tuned on: docs/compiling.md.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from bot.textnorm import chat_word, fold

THRESHOLD = 0.08  # mean cosine between two groups above which they are one request
PAIR_WEIGHT = 0.3  # a pair of neighbouring words weighs this much of a word or a concept
COMMON, COMMON_FLOOR = 0.02, 100  # terms in more texts than this are not compared on
NEIGHBOURS = 20  # links each text keeps: its strongest
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Words in nearly every proposal, whatever it asks: the opening, the addressee, fillers.
_STOPWORDS = """
em chung toi tui minh con chau ban cac nhung moi mot hai ba
de nghi xin kien de xuat mong muon hy vong uoc theo thi la va voi cua cho o tai tu den trong
ngoai tren duoi ve nay do kia ay thi ma nhu vi nen can phai hay duoc co khong chua da dang se
rat lam qua hon nhat cung nua roi luon thuong hon a nha nhe a oi ah
tre em tre treem hoc sinh nguoi lon
"""
STOPWORDS = frozenset(_STOPWORDS.split()) - {"khong"}


# What the five topics' requests are about, in the words children use for it (folded): one
# concept term per group of near-synonyms, added beside the words themselves.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "HIT": ("danh", "don", "roi", "tat", "dam", "dap", "bao hanh", "bao luc", "trung phat",
            "phat the", "danh dap", "danh don", "ra tay"),
    "SHOUT": ("chui", "mang", "quat", "xuc pham", "si nhuc", "la mang", "noi nang nang"),
    "ABUSE_SEX": ("xam hai", "xam hai tinh duc", "sam so", "dung cham", "quay roi", "hiep dam"),
    "BULLY": ("bat nat", "danh hoi dong", "co lap", "trap", "che gieu", "treu choc"),
    "HOTLINE": ("111", "tong dai", "duong day nong", "so dien thoai", "hotline"),
    "REPORT": ("bao cao", "to giac", "trinh bao", "bao ngay", "bao cho", "ke cho"),
    "PUNISH": ("xu ly", "xu phat", "phat nang", "nghiem tri", "bat giu", "truy cuu"),
    "SKILL": ("ky nang", "day cach", "huong dan cach", "tap huan", "hoc cach", "trang bi"),
    "TALK": ("tam su", "lang nghe", "tro chuyen", "noi chuyen", "chia se", "tu van"),
    "CAMERA": ("camera", "may quay", "giam sat"),
    "FENCE": ("rao", "rao chan", "hang rao", "lan can", "coc", "chan", "vay", "tuong bao"),
    "SIGN": ("bien bao", "bien canh bao", "bang canh bao", "bien", "canh bao", "cam bien"),
    "SWIM": ("boi", "day boi", "hoc boi", "lop boi", "ho boi", "be boi"),
    "LIFEJACKET": ("ao phao", "phao", "phao cuu sinh"),
    "WATER": ("song", "suoi", "ao", "ho", "kenh", "rach", "dap", "dam", "ben do", "mương", "muong",
              "nuoc sau", "vung nuoc", "ho nuoc"),
    "SUPERVISE": ("trong", "trong coi", "giam sat", "de mat", "di cung", "theo doi", "quan ly"),
    "HELMET": ("mu bao hiem", "non bao hiem", "mu", "non"),
    "MOTORBIKE": ("xe may", "xe gan may", "chay xe", "lai xe", "dieu khien xe", "phuong tien"),
    "ROAD": ("duong", "nga tu", "vach", "vach ke", "den giao thong", "den tin hieu", "lan duong",
             "cau", "via he"),
    "SPEEDBUMP": ("go giam toc", "giam toc", "cham lai", "toc do"),
    "TRAFFIC_LAW": ("luat giao thong", "an toan giao thong", "giao thong"),
    "ELECTRIC": ("dien", "day dien", "o dien", "cau dao", "giat"),
    "FIRSTAID": ("so cuu", "cap cuu", "cuu duoi", "hoi suc"),
    "SCREEN": ("gio", "thoi gian", "gioi han", "qua nhieu", "nghien", "suot ngay"),
    "GAME": ("game", "tro choi", "choi game", "dien tu"),
    "PHONE": ("dien thoai", "smartphone", "may tinh", "ipad", "may tinh bang"),
    "SOCIAL": ("mang xa hoi", "facebook", "tiktok", "zalo", "youtube", "mang"),
    "STRANGER": ("nguoi la", "la mat", "ket ban", "lam quen", "hen gap", "du do", "lua dao"),
    "SCAM": ("lua", "lua dao", "chiem doat", "mat tien", "gia mao", "hack", "tai khoan"),
    "PRIVACY": ("thong tin ca nhan", "mat khau", "anh rieng tu", "hinh anh", "dia chi",
                "so dien thoai"),
    "CYBERBULLY": ("binh luan", "noi xau", "boi nho", "chua bay", "chui tren mang", "tung anh"),
    "AGECHECK": ("do tuoi", "xac minh", "du tuoi", "chan noi dung", "loc noi dung", "kiem duyet"),
    "PARENT_LEARN": ("bo me hoc", "phu huynh hoc", "hieu biet cong nghe", "cai dat", "ung dung"),
    "TREE": ("trong cay", "cay xanh", "rung", "trong rung", "pha rung", "cay"),
    "TRASH": ("rac", "xa rac", "thung rac", "phan loai rac", "nhua", "tui nilon", "vut rac"),
    "FLOOD": ("lu", "lut", "ngap", "lu lut", "nuoc dang", "lu quet"),
    "LANDSLIDE": ("sat lo", "lo dat", "sat"),
    "DROUGHT": ("han han", "kho han", "thieu nuoc", "nuoc sach", "xam nhap man", "man"),
    "STORM": ("bao", "gio loc", "giong", "set"),
    "DRILL": ("dien tap", "so tan", "ky nang phong chong", "ung pho", "phong tranh"),
    "SHELTER": ("nha tranh tru", "di doi", "noi tru an", "nha an toan", "tai dinh cu"),
    "SCHOOL_REPAIR": ("sua truong", "sua lop", "mai truong", "xay truong", "kien co"),
    "EPIDEMIC": ("dich", "dich benh", "sot xuat huyet", "covid", "tay chan mieng", "muoi",
                 "benh"),
    "HYGIENE": ("rua tay", "ve sinh", "khau trang", "nha ve sinh", "tiem", "vac xin",
                "tiem phong"),
    "HEAT": ("nang nong", "nong", "nang", "nhiet do"),
    "WORK_HEAVY": ("viec nang", "lam nang", "khuan vac", "boc vac", "cong viec nang", "lam thue",
                   "lam ruong", "lam nuong", "lam ray", "cham soc vuon"),
    "PESTICIDE": ("thuoc tru sau", "thuoc sau", "phun thuoc", "hoa chat", "thuoc co",
                  "thuoc diet co"),
    "MACHINE": ("may moc", "may cat", "may xay", "may cay", "may"),
    "FACTORY": ("nha may", "xuong", "cong ty", "chu", "co so", "quan", "nha hang", "thue"),
    "INSPECT": ("kiem tra", "thanh tra", "giam sat", "xu phat chu", "cam thue"),
    "STUDY": ("di hoc", "nghi hoc", "bo hoc", "den truong", "hoc hanh", "hoc bai"),
    "POOR": ("ngheo", "kho khan", "ho ngheo", "hoan canh", "thieu thon"),
    "SUPPORT": ("ho tro", "giup do", "tro cap", "vay von", "sinh ke", "viec lam cho bo me"),
    "SCHOLARSHIP": ("hoc bong", "sach vo", "do dung hoc tap", "mien hoc phi", "xe dap"),
    "REST": ("nghi ngoi", "vui choi", "choi", "thoi gian choi", "giai tri"),
    "LAW": ("luat", "quy dinh", "phap luat", "tuyen truyen", "pho bien"),
    "MIGRATE": ("di lam xa", "len thanh pho", "nuoc ngoai", "di bien gioi", "lam thue xa"),
}
_CONCEPT_INDEX: dict[tuple[str, ...], str] = {
    tuple(phrase.split()): name for name, phrases in CONCEPTS.items() for phrase in phrases}
_LONGEST = max(len(key) for key in _CONCEPT_INDEX)


def _concepts(words: Sequence[str]) -> list[str]:
    """The concepts named in the words, longest phrase first ("bien bao" is a sign, and its
    "bao" is not read again as a storm)."""
    found, start = [], 0
    while start < len(words):
        for size in range(min(_LONGEST, len(words) - start), 0, -1):
            name = _CONCEPT_INDEX.get(tuple(words[start:start + size]))
            if name is not None:
                found.append(name)
                start += size
                break
        else:
            start += 1
    return found


def terms(text: str) -> list[str]:
    """The terms of one proposal: content words and pairs of neighbouring words."""
    words = []
    for word in _NON_WORD.sub(" ", fold(text)).split():
        words.extend(chat_word(word).split())
    content = [w for w in words if w not in STOPWORDS and not w.isdigit()]
    pairs = [f"{a} {b}" for a, b in itertools.pairwise(content)]  # (a word has no space)
    return content + pairs + _concepts(words)


def vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    """Unit tf-idf vectors of the texts (idf from the texts themselves)."""
    bags = [Counter(terms(text)) for text in texts]
    documents = Counter(term for bag in bags for term in bag)
    count = len(texts)
    out = []
    for bag in bags:
        weights = {term: (1 + math.log(n)) * math.log(1 + count / documents[term])
                   * (PAIR_WEIGHT if " " in term else 1.0) for term, n in bag.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        out.append({term: w / norm for term, w in weights.items()})
    return out


def _index(vecs: Sequence[dict[str, float]]) -> tuple[dict[str, list[tuple[int, float]]], int]:
    """Each term's (text, weight) in text order, terms in the order they first appear; and how
    many texts a term compared on may have at most (fewer than COMMON of them: a term in
    thousands of proposals weighs little, and comparing all their pairs would cost n²)."""
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for position, vec in enumerate(vecs):
        for term, weight in vec.items():
            index[term].append((position, weight))
    return index, max(COMMON_FLOOR, int(COMMON * len(vecs)))


def similarities(vecs: Sequence[dict[str, float]]) -> dict[tuple[int, int], float]:
    """Cosine of every pair that shares a term (i < j), on the terms `_index` keeps."""
    index, common = _index(vecs)
    found: dict[tuple[int, int], float] = defaultdict(float)
    for postings in index.values():
        if 1 < len(postings) <= common:
            for a in range(len(postings)):
                i, wi = postings[a]
                for j, wj in postings[a + 1:]:
                    found[i, j] += wi * wj
    return found


def nearest(vecs: Sequence[dict[str, float]], keep: int) -> dict[tuple[int, int], float]:
    """`similarities`, but only each text's `keep` strongest links (a link stays if either end
    keeps it): groups form from near neighbours, and thousands of weak links no longer cost heap
    work. Worked out text by text, each text's links to the texts after it, so that only the
    links kept are held, not every pair (10,000 near-duplicates share about 1.4 million: held
    at once, grouping them peaked at 450 MB, now 110 MB). A pair's terms are added in `_index`'s
    order, as `similarities` adds them: the same floats, the same links, the same ties."""
    index, common = _index(vecs)
    rank = {term: number for number, term in enumerate(index)}
    after: list[dict[str, int]] = [{} for _ in vecs]  # where each text's postings continue
    for term, postings in index.items():
        if 1 < len(postings) <= common:
            for offset, (i, _) in enumerate(postings):
                after[i][term] = offset + 1
    best: list[list[tuple[float, int, int]]] = [[] for _ in vecs]  # min-heaps of `keep`
    for i, vec in enumerate(vecs):
        row: dict[int, float] = defaultdict(float)
        for term in sorted(after[i], key=rank.__getitem__):
            wi = vec[term]
            for j, wj in index[term][after[i][term]:]:
                row[j] += wi * wj
        for j, value in row.items():
            link = (value, i, j)
            for heap in (best[i], best[j]):
                if len(heap) < keep:
                    heapq.heappush(heap, link)
                elif heap[0] < link:
                    heapq.heapreplace(heap, link)
    return {(i, j): value for heap in best for value, i, j in heap}


def group(texts: Sequence[str], threshold: float = THRESHOLD) -> list[list[int]]:
    """Indexes of `texts` grouped by request: each group sorted, groups by their first member."""
    count = len(texts)
    links = nearest(vectors(texts), NEIGHBOURS)
    # Sum of similarities between two clusters (missing pairs count 0), and cluster sizes.
    between: dict[int, dict[int, float]] = defaultdict(dict)
    for (i, j), value in links.items():
        between[i][j] = between[j][i] = value
    members = {i: [i] for i in range(count)}
    heap = [(-value, i, j) for (i, j), value in links.items() if value > threshold]
    heapq.heapify(heap)
    while heap:
        negative, i, j = heapq.heappop(heap)
        if i not in members or j not in members:
            continue
        current = between[i].get(j, 0.0) / (len(members[i]) * len(members[j]))
        if abs(current + negative) > 1e-12:  # stale: the pair changed since it was pushed
            continue
        members[i] += members.pop(j)
        for k, value in between.pop(j).items():
            if k == i:
                continue
            between[k].pop(j, None)
            merged = between[i].get(k, 0.0) + value
            between[i][k] = between[k][i] = merged
        between[i].pop(j, None)
        size = len(members[i])
        for k, value in between[i].items():
            mean = value / (size * len(members[k]))
            if mean > threshold:
                heapq.heappush(heap, (-mean, min(i, k), max(i, k)))
    return sorted((sorted(group) for group in members.values()), key=lambda g: g[0])


def central(texts: Sequence[str]) -> int:
    """The index of the text most like the others (a group's default wording)."""
    vecs = vectors(texts)
    totals = [0.0] * len(texts)
    for (i, j), value in similarities(vecs).items():
        totals[i] += value
        totals[j] += value
    return max(range(len(texts)), key=lambda i: (totals[i], -i))
