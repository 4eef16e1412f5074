"""The detector (bot.safeguarding.detector): its figures on sets it never learnt from, the shipped
model built from the corpus in the repository, and what it does with odd input.

The floors sit a little under the figures in docs/safeguarding.md, so a regression fails and a
rounding does not. tests/data/heldout/README.md says who wrote each set and when.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.safeguarding.detector import (
    DISCLOSURE,
    NEEDS_A_LOOK,
    NOTHING,
    assess,
    calls_for_help,
    urgent,
)
from bot.safeguarding.model import MODEL_FILE, Model, shipped
from bot.safeguarding.plea import asks_for_help
from bot.safeguarding.train import Row, corpus_digest, read

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "tests" / "data" / "heldout"
MODEL_PATH = ROOT / "bot" / "safeguarding" / MODEL_FILE


def shared_dir() -> Path:
    """The shared/ folder: $CHILDFORUM_SHARED, else the one beside the repository."""
    env = os.environ.get("CHILDFORUM_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


@dataclass(frozen=True)
class Figures:
    disclosures: int
    reached: int  # tier 1 or 2: a person looks
    tier1: int  # the child got the hotline reply
    others: int
    false_tier1: int  # a non-disclosure that got the hotline reply
    proposals: int
    held: int  # a proposal held for a look

    @property
    def recall(self) -> float:
        return self.reached / self.disclosures

    @property
    def false_alarm_rate(self) -> float:
        return self.false_tier1 / self.others

    @property
    def held_rate(self) -> float:
        return self.held / self.proposals


def figures(rows: list[Row]) -> Figures:
    tiers = [(row.label, assess(row.text).tier) for row in rows]
    harm = [tier for label, tier in tiers if label == "disclosure"]
    rest = [tier for label, tier in tiers if label != "disclosure"]
    topic = [tier for label, tier in tiers if label == "topic"]
    return Figures(len(harm), sum(t != NOTHING for t in harm), harm.count(DISCLOSURE),
                   len(rest), rest.count(DISCLOSURE), len(topic), sum(t != NOTHING for t in topic))


def load(path: Path) -> list[Row]:
    if not path.is_file():
        pytest.fail(f"{path} not found: put the shared/ folder beside the repository or set "
                    "CHILDFORUM_SHARED to its path.")
    return read(path)


def test_the_shipped_model_is_built_from_the_corpus_in_the_repository() -> None:
    # Edit a corpus file and this fails until `python -m bot.safeguarding.train` is run again.
    assert shipped().corpus == corpus_digest()


@pytest.mark.timeout(600)  # about 20 s alone; a loaded 2-core machine took over 120 s
def test_the_shipped_model_is_what_the_corpus_builds(tmp_path: Path) -> None:
    """Rebuilt from the corpus (about 20 s), the model file is the shipped one (run
    `python -m bot.safeguarding.train` after changing the corpus, the features or the training).
    Another scikit-learn, NumPy or BLAS kernel moves a weight's last stored digits (4 decimals;
    up to 6e-4 on another CPU, and so a weight at the cut, MIN_WEIGHT, kept by one build and
    dropped by the other): that much is the same model; a change of the features or the
    training moves far more (a change of the corpus: the digest, above)."""
    pytest.importorskip("sklearn")
    from bot.safeguarding.train import MIN_WEIGHT, build, write

    write(build(), tmp_path / "model.json.gz")
    built, ours = tmp_path / "model.json.gz", MODEL_PATH
    if built.read_bytes() == ours.read_bytes():
        return
    new, old = (Model.from_json(json.loads(gzip.decompress(p.read_bytes())))
                for p in (built, ours))
    last_digits = 1e-3
    at_the_cut = MIN_WEIGHT + last_digits
    moved = [f for f in new.weights.keys() | old.weights.keys()
             if (abs(new.weights[f] - old.weights[f]) > last_digits
                 if f in new.weights and f in old.weights
                 else abs(new.weights.get(f, 0.0) + old.weights.get(f, 0.0)) > at_the_cut)]
    thresholds = max(abs(new.tier1 - old.tier1), abs(new.tier2 - old.tier2))
    if moved or thresholds > last_digits:
        pytest.fail(f"the build differs from the shipped file: thresholds {new.tier1, new.tier2}"
                    f" (shipped {old.tier1, old.tier2}), {len(moved)} weights, e.g."
                    f" {[(f, new.weights.get(f), old.weights.get(f)) for f in moved[:5]]}")


def test_what_the_build_learns_and_scores_does_not_depend_on_the_hash_seed() -> None:
    """The build's examples (their order too: the solver's last digits follow it) and the scores
    it chooses the thresholds from are the same in processes with other string hashes."""
    code = ("import hashlib; from bot.safeguarding.train import corpus, examples;"
            " from bot.safeguarding.model import from_file; rows = corpus(); model = from_file();"
            " print(hashlib.sha256(repr((examples(rows), [model.probability(r.text)"
            " for r in rows[::4]])).encode()).hexdigest())")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                              cwd=ROOT).stdout for seed in ("1", "2")}
    assert len(outputs) == 1, outputs


def test_shared_dev_set() -> None:
    found = figures(load(shared_dir() / "safeguarding" / "dev.tsv"))
    assert found.reached == found.disclosures == 18
    assert found.false_tier1 == 0 and found.held == 0


@pytest.mark.parametrize(("name", "recall", "false_alarms", "held"), [
    # The first set, written by us before the phrase rules (113 rows).
    ("safeguarding_v0.tsv", 0.92, 0.05, 0.10),
    # Written by a helper that never saw the code (759 rows); used to choose C and the tier-2
    # threshold, so it is a validation set now.
    ("safeguarding.tsv", 0.97, 0.03, 0.08),
    # Written by another helper after the model existed, never read row by row (928 rows);
    # looked at in aggregate six times (the last to choose the tier-1 rule).
    ("safeguarding_v2.tsv", 0.96, 0.06, 0.16),
    # Written by a third helper for the model's last change; looked at three times (950 rows).
    ("safeguarding_v3.tsv", 0.97, 0.03, 0.11),  # 99.0%, 1.7%, 8.5% now
    # Written by a fifth helper after the last change (800 rows), measured once: 99.3%, 1.4%,
    # 3.7%.
    ("safeguarding_v4.tsv", 0.97, 0.03, 0.06),
    # Written by a sixth helper (800 rows), measured once before the last change: 98.0%, 1.0%,
    # 4.3%; after it 98.7%, 1.0%, 5.3%.
    ("safeguarding_v5.tsv", 0.97, 0.03, 0.07),
    # Written by a seventh helper before the last change, read only after it: 96.7%, 0.6%, 2.3%
    # (the model before: 96.0%, 0.8%, 2.3%).
    ("safeguarding_v6.tsv", 0.95, 0.02, 0.04),
    # Written by an eighth helper on 2026-12-01 with the model unchanged (800 rows), measured
    # once: 98.0% (294/300), 2.2% (11/500), 6.7% (20/300).
    ("safeguarding_v7.tsv", 0.97, 0.03, 0.08),
    # Written by three helpers on 2026-12-01 (disclosures, topic answers, chat), before the
    # corpus gained a kind (violence between adults at home, seen); measured once before it
    # (96.0%, 1.8%, 6.0%) and once after: 96.7% (290/300), 1.8% (9/500), 6.3% (19/300).
    ("safeguarding_v8.tsv", 0.95, 0.03, 0.08),
])
def test_sets_the_model_never_learnt(name: str, recall: float, false_alarms: float,
                                     held: float) -> None:
    found = figures(load(HELDOUT / name))
    assert found.recall >= recall, found
    assert found.false_alarm_rate <= false_alarms, found
    assert found.held_rate <= held, found


@pytest.mark.parametrize("text", [
    "Bố em hay đánh em", "bo em hay danh em", "  BỐ EM   HAY\nĐÁNH EM ",
    unicodedata.normalize("NFD", "Bố em hay đánh em"),  # decomposed marks from some keyboards
    "<b>bố em đánh em</b>", "chú hàng xóm hay sờ vào người em", "e ko mun song nx",
])
def test_a_disclosure_gets_the_hotline_reply_in_any_spelling(text: str) -> None:
    found = assess(text)
    assert found.tier == DISCLOSURE, found
    assert found.kind and found.weighed  # staff see what it looks like and why


@pytest.mark.parametrize("text", [
    "", "   ", "😀😀", "ok", "/start", "…!?", "xin chào", "Đắk Hà",
    "Cần xử lý nghiêm những người có hành vi bạo lực với trẻ em",
    "Trường nên có giáo viên tư vấn cho các bạn có ý định tự tử",
    "Children should learn how to swim at school",
    "em danh rang xong roi", "haha bot này làm em cười muốn chết",
])
def test_ordinary_messages_pass(text: str) -> None:
    assert assess(text).tier == NOTHING


@pytest.mark.parametrize(("text", "meant"), [
    ("Bố mẹ hãy dành thời gian nói chuyện với con cái nhiều hơn.", "bo me danh em"),
    ("Nhà em ở chân đồi, mùa mưa sợ sạt lở.", "em chan doi qua"),  # was the hotline reply
    ("Anh hai em đi bộ đội ở Đắk Tô.", "bo me bo doi em"),
    ("Dạ em hiểu rồi.", "ban ay da em"),
    ("Em thay dầu nhớt cho xe.", "bo nhot em"),
])
def test_words_with_tone_marks_are_not_read_as_the_harm_word_they_fold_into(
        text: str, meant: str) -> None:
    """Tone marks tell "dành" (to spend) from "đánh" (to hit): a phrase rule counts only where
    the message spells its word as meant; typed without marks, every reading stays."""
    assert assess(text).tier == NOTHING
    assert assess(meant).tier != NOTHING


@pytest.mark.parametrize(("text", "tier"), [
    ("Em sẽ kết thúc tất cả", DISCLOSURE), ("Em đã rạch chân", NEEDS_A_LOOK),
    ("Bố trói chân em lại", NEEDS_A_LOOK), ("Họ ép đám em uống rượu", NEEDS_A_LOOK),
])
def test_the_tone_mark_guard_keeps_the_phrases_that_mean_other_spellings(text: str,
                                                                          tier: int) -> None:
    """Words of a phrase that are not its harm word ("chân", "tất", "đám") must not make the
    guard drop it (a review found these four lost)."""
    assert assess(text).tier in (tier, DISCLOSURE), assess(text)


def test_a_self_harm_phrase_gets_the_hotline_reply_whatever_the_model_says() -> None:
    found = assess("I want to kill myself")
    assert found.tier == DISCLOSURE and found.rule == "kill myself"
    assert found.probability < shipped().tier1  # the model alone would not have said so
    assert assess("em muon chet").tier == DISCLOSURE
    assert assess("Bài này khó chết đi được").tier == NOTHING  # the idiom


def test_other_phrase_rules_only_ask_for_a_look() -> None:
    # "if only I could disappear": the model alone misses it
    found = assess("giá mà em biến mất")
    assert found.probability < shipped().tier2 and found.rule == "em bien mat"
    assert found.tier == NEEDS_A_LOOK


def test_a_long_message_is_judged_by_its_worst_part() -> None:
    proposal = "Em đề xuất xây cầu qua suối cho các bạn đi học an toàn hơn. " * 40
    assert assess(proposal).tier == NOTHING
    assert assess(proposal + "Tối nào bố em say rượu cũng đánh em.").tier != NOTHING


def test_huge_input_is_bounded() -> None:
    found = assess("a" * 100_000)
    assert found.tier == NOTHING and 0.0 <= found.probability <= 1.0


@pytest.mark.parametrize("text", [
    "cứu em với", "cuu e vs!!", "Cô ơi cứu em", "giúp em với ạ", "SOS!!!", "/sos", "help me",
    "please help", "I need help now", "em đang gặp nguy hiểm", "🆘", "ai cứu em với",
    "lam on giup toi", "Em cần giúp ngay",
])
def test_a_call_for_help_is_recognised_in_any_spelling(text: str) -> None:
    assert asks_for_help(text) and urgent(text)


@pytest.mark.parametrize("text", [
    "em cần giúp đỡ về bài tập", "Em đề xuất giúp đỡ trẻ em nghèo", "cừu", "xin chào",
    "trẻ em cần được giúp đỡ", "🆘 trẻ em bị đuối nước rất nhiều mỗi mùa hè ở quê em", "",
])
def test_a_sentence_with_the_words_is_no_call_for_help(text: str) -> None:
    assert not asks_for_help(text)


def test_calls_for_help_written_by_someone_else() -> None:
    """80 calls and 80 messages with the same words, by a helper who never saw plea.py: 62/80
    found and 0/80 false the first time; after the matcher was generalised (calls repeated,
    fear beside the call, more ways of calling someone) the set is seen, so it guards against
    going back, and no held-out safeguarding message may read as a call."""
    with (HELDOUT / "pleas.tsv").open(encoding="utf-8") as file:
        rows = [line.rstrip("\n").split("\t") for line in file][1:]
    calls = [text for label, text in rows if label == "plea"]
    others = [text for label, text in rows if label == "not_plea"]
    assert len(calls) == len(others) == 80
    assert sum(map(asks_for_help, calls)) >= 76
    assert [text for text in others if asks_for_help(text)] == []
    for name in ("safeguarding.tsv", "safeguarding_v2.tsv", "safeguarding_v3.tsv",
                 "safeguarding_v4.tsv", "safeguarding_v5.tsv", "safeguarding_v6.tsv",
                 "safeguarding_v7.tsv", "safeguarding_v8.tsv"):
        assert [row.text for row in load(HELDOUT / name)
                if row.label != "disclosure" and calls_for_help(row.text)] == [], name


@pytest.mark.parametrize(("name", "found", "false"), [
    # 2026-12-01, a helper that never saw plea.py; measured (38/80, 0/80), then read to
    # generalise the matcher (a call's word typed with a slip, cries around a call, a call in
    # parts, a call told beside what the detector finds): seen now, 68/80 and 1/80 after.
    ("pleas_v2.tsv", 66, 1),
    # Another helper, written while that change was made, measured once before it (33/100,
    # 0/100) and once after (67/100, 1/100).
    ("pleas_v3.tsv", 65, 2),
])
def test_calls_for_help_in_sets_written_later(name: str, found: int, false: int) -> None:
    with (HELDOUT / name).open(encoding="utf-8") as file:
        rows = [line.rstrip("\n").split("\t") for line in file][1:]
    assert sum(calls_for_help(text) for label, text in rows if label == "plea") >= found
    assert sum(calls_for_help(text) for label, text in rows if label == "not_plea") <= false


@pytest.mark.parametrize(("text", "call"), [
    ("gjup em voi", True), ("hepl me", True), ("cíu e vs", True), ("cuus em", True),
    ("có ai không, em sợ quá, cứu em", True), ("hu hu giúp em với", True),
    ("please help me, I'm scared", True), ("cứu em, bố đang đập cửa phòng", True),
    ("cứu em bài này với, mai nộp rồi", False), ("help, tui quên mật khẩu acc game", False),
    # who is calling, said so that someone can find them (a probe's, at the topic menu)
    ("cứu em với, em là Lê Thị Dung ở làng Plei Rơ Wăk", True),
    ("help me, my name is Lan", True), ("cứu em bài này với, em là học sinh lớp 5", False),
    ("cứu em, em học lớp 5, bài này khó quá", False),
    ("giữa trưa em đi học", False), ("câu này khó quá", False), ("cảm ơn đã giúp em", False),
])
def test_a_call_typed_with_a_slip_or_in_parts(text: str, call: bool) -> None:
    """One slip of a finger on a call's word, cries and fear around it, a call with the danger
    told beside it: answered like 🆘; a call beside an ordinary worry is not one."""
    assert calls_for_help(text) is call


def test_every_kind_the_model_names_has_a_name_for_staff() -> None:
    """A case card names the kind of harm the model thinks closest: a kind learnt from the
    corpus without a text in bot/texts/cases.toml would show staff its bare code."""
    from bot.conversation.catalog import shipped_texts

    texts = shipped_texts()
    unnamed = [kind for kind in shipped().kinds
               if {"vi", "en"} - set(texts.get(f"case.kind.{kind}", {}))]
    assert unnamed == []
