"""Sparse TF-IDF features: character 1-4-grams within words, and word 1-2-grams.

Character n-grams carry Chinese (no spaces between words) and survive typos; word
n-grams help Latin text. Digits are folded to 0 so numbers generalise, and an order
number becomes one mark: its long run of digits would otherwise read like the phone
numbers of binding and profile texts. Each clause's negations and stopping verbs, odd
or even in number, mark the clause's polarity, alone and paired with its other words, so
that `我不想退订` and `我想退订` differ in more than one character; a condition (`如果`, `if`)
has a mark of its own, so that a question about what would follow is not the request, and so
does another company's points (`信用卡积分`), which are not the member's own, and another
company or person named as the one who failed (`淘宝买的卫衣还没发货`; not when the member
quotes an order number: that order is the brand's). Each block
is L2-normalised on its own, then the two are side by side in one vector; the text's
pretrained token vector (embeddings.py) is the third block.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

import numpy as np

from nlu.embeddings import shipped
from nlu.entities.orders import find_orders
from nlu.other_parties import NONE, OtherParties

LONGEST_CHAR_GRAM = 4  # characters 1-4, words 1-2
WORD_MARK = "\x01"  # word features share the vocabulary with character ones
ORDER_MARK = " \x02 "  # an order number, whatever its format
# A day written with slashes (`11/05`, `11/5`, `2026/11/05`): folded to `00/00` it read as a
# score (`4/5`, `10/10`), and `11/05买的 A20261105 少了3件` was rate_service at 0.99. A
# score is out of 5, 10 or 100 and not above it, without a leading zero.
DATE_MARK = " \x0f "
_SLASHED = re.compile(r"(?<![0-9a-z/])(\d{1,4})/(\d{1,2})(?:/(\d{1,4}))?(?![0-9a-z/])")
_OUT_OF = {"5", "10", "100"}
_WORDS = re.compile(r"\w+")
_DIGITS = re.compile(r"\d")


POLARITY_MARK = "\x06"
# 别 is "other" in 别人, 别家 and part of 级别, 区别; 免 is "free" in 免费, 免运费券; 停车 parks.
# Cantonese says 唔 and 冇 (`唔好停止推送`, `冇兴趣`): 唔该 is "please" and "thank you".
_CHINESE_NEGATORS = (
    r"[不没勿莫甭冇]|唔(?!该)|(?<![级区性差特类分告识个辨鉴派])别(?![人的家处])"
    r"|取消|关闭|关掉|解除|撤销|撤回"
)
_ENGLISH_NEGATORS = (
    r"not|no|never|don't|dont|didn't|didnt|doesn't|doesnt|isn't|isnt|won't|wont"
    r"|can't|cant|cannot|haven't|havent|hasn't|hasnt|wasn't|aren't|shouldn't|wouldn't"
)
# Every negation, every verb that stops, removes or refuses, and every word that undoes or
# regrets flips what a text asks for: `stop the offers` (one) wants none, `don't stop the
# offers` and `undo my unsubscribe` (two) want them. The Chinese verbs that undo (取消,
# 关闭 ...) are negations too: 关闭免打扰 wants the messages back.
_FLIPS = (
    re.compile(
        rf"{_CHINESE_NEGATORS}|停(?!车)|[删拒]|免(?![费运单息邮税])|关(?=[了上一])"
        r"|无需|无须|毋须|毋需|禁止|谢绝|到此为止|退订|退掉|退出|拉黑|屏蔽|移出|移除"
        r"|后悔|误会|误操作|误点|点错|按错|手滑"
    ),
    re.compile(
        rf"\b(?:{_ENGLISH_NEGATORS}|no longer|without|stop|stopped|cancel|unsubscribe"
        r"|unsubscribing|unsubscribed|revoke|remove|delete|disable|withdraw|unlink|quit|opt out|opt me out"
        r"|opting out|opted out|turn off|turning off|turned off|take me off|silence|mute|block"
        r"|refuse|reject|decline|declined|forbid|prohibit|rescind|retract|undo|undid|reverse|revert|regret|mistake|accident"
        r"|accidentally)\b"
    ),
)
_FLIP_COUNT = 4  # counted as four: one feature among dozens of n-grams must be heard
# Not flips: a word said again for emphasis (`别发了别发了`, `no no no`) counts once, and a
# Chinese yes-no question asks, it does not refuse: `能不能退订`, `有没有人工`, `可以不可以`,
# `积分加了没`, `我想退订，可以不` (counted as negations, `我能不能退订推送` was `subscribe`).
# Nor does a rhetorical question deny: `我不是已经退订了吗`, `难道我没退订吗`, `didn't i
# already unsubscribe` all say the member did unsubscribe (they read as subscribing).
_REPEATS = re.compile(r"([\u4e00-\u9fff]+?)\1+|\b(\w+)(?:\s+\2\b)+")
_NOT_FLIPS_CHINESE = re.compile(
    r"([\u4e00-\u9fff]{1,2})[不没唔]\1|有冇|了没有?$|(?:可以|[行好对是能])不$|不是(?=[^吗么嘛]*[吗么嘛])"
    r"|难道(?:我们|你们|我|你)?(?:不是|没有|不|没)"
    # Nor does failing: `退订不了`, `退订没用`, `unsubscribe doesn't work`, `is there no way
    # to unsubscribe` want what failed (all read as subscribing) ...
    r"|(?<![先就还那也算受忍])不(?:了|掉|动)|不到|没用|不管用|没反应|不起作用|没成功|不成功"
    r"|没效果|没生效|不生效|没有?(?=[^,.?!]{0,8}(?:选项|按钮|入口|办法|链接))"
    # ... nor not knowing how: `不知道怎么退订`, `i don't know how to unsubscribe`.
    r"|不(?:了解|明白|懂|知道|清楚)"
)
_NOT_FLIPS_ENGLISH = re.compile(
    r"\b(?:didn't|didnt|haven't|havent|hasn't|hasnt|wasn't|weren't|isn't|isnt|aren't|don't"
    r"|dont|doesn't|doesnt|won't|wont|can't|cant|couldn't|shouldn't|wouldn't)"
    r"(?=\s+(?:i|you|we|they|he|she|it|that|this)\b)"
    r"|\b(?:can't|cant|cannot|couldn't|unable to)\b"
    r"|\b(?:(?:doesn't|does not|didn't|did not|isn't|is not|wasn't|won't|wont|not)\s+"
    r"(?:work|working|worked|help|helping|go through|possible))\b"
    r"|\bno(?=\s+(?:\w+\s+)?(?:way|option|button|link|choice|place)\b)"
    r"|\b(?:don't|dont|do not) (?:know|understand)\b"
)


def _flips_for(text: str) -> tuple[re.Pattern, ...]:
    """The flip patterns that can match the text: the Chinese ones need Chinese."""
    return _FLIPS[1:] if text.isascii() else _FLIPS


def _once(repeated: re.Match) -> str:
    return repeated[1] or repeated[2]


# A condition asks what would follow, it does not request: `如果我退订，积分还在吗`,
# `what happens to my points if i unlink` (unsubscribing and unlinking act at once).
CONDITION_MARK = "\x07"
_CONDITIONS = re.compile(r"如果|要是|假如|假设|万一|的话|\b(?:if|suppose|what happens)\b")
# ... but `如果可以的话帮我退订` and `if you can, unsubscribe me` are requests, made politely.
_POLITE = re.compile(
    r"(?:如果|要是|假如)?(?:可以|方便|能|行)的话|(?:如果|要是)(?:可以|方便|能行|行)"
    r"|\bif (?:possible|you (?:can|could|would|don't mind|wouldn't mind|please)"
    r"|it's (?:not too much trouble|ok|okay|possible)|that's (?:ok|okay))\b"
)


# Another company's points, miles or balance are not ours to answer: `支付宝积分能换什么` and
# `check my phone bill balance` read as the member's own (`积分能换什么` outweighs one
# name). One mark for every such name lets each out-of-scope example teach all of them.
# A bank, card or payment app alone is how a member paid (`用信用卡付款也有积分吗` is ours),
# so it counts only before its own points; a brand alone may be one of our rewards. A card
# alone is ours (`check my card points`): only a credit, debit or bank card is theirs.
OTHER_PROGRAMME_MARK = "\x08"
# Another company or person than the brand named (other_parties.py): `顺丰把包裹弄丢了`.
OTHER_PARTY_MARK = "\x0e"
_OTHER_PROGRAMMES_CHINESE = re.compile(
    r"(?:信用卡|银行卡?|支付宝|花呗|京东|淘宝|天猫|拼多多|美团|航空公司|航空|酒店|移动|联通|电信)"
    r"的?(?:积分|会员|余额|额度|等级)|京豆|淘金币|里程|话费"
)
_OTHER_PROGRAMMES_ENGLISH = re.compile(
    r"\b(?:bank|bank card|credit card|debit card|amex|visa|mastercard|paypal|alipay|airline|hotel"
    r"|carrier|phone|mobile)(?:'s)? (?:reward |rewards |loyalty )?(?:points|rewards|miles|status"
    r"|balance|membership|bill)\b|\b(?:air ?miles|frequent flyer)\b"
)
_THEIR_UNITS = ("points", "rewards", "miles", "status", "balance", "membership", "bill", "flyer")


def _names_another_programme(text: str) -> bool:
    if not text.isascii() and _OTHER_PROGRAMMES_CHINESE.search(text):
        return True
    # The pattern is tried only on a text with one of its nouns: most texts have none.
    return any(unit in text for unit in _THEIR_UNITS) and bool(
        _OTHER_PROGRAMMES_ENGLISH.search(text)
    )


# A negation reaches no further than its clause: in `这个微信不用了，解除绑定吧` the 不 does not
# undo the 解除, so each clause has its own parity. Joined requests are clauses too: in
# `stop sending and unsubscribe me`, `停发并退订`, `我要退订 不要再发` and `退订了就别发了` the
# two stops add up, they do not cancel out (counted together they read as subscribing).
_CLAUSES = re.compile(
    r"[,.;:!?\n&]+|\s+(?:and|then|also|plus)\s+|并且|并|然后|而且|就"
    r"|(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])"
)


@dataclass(frozen=True)
class TextFeatures:
    grams: Counter  # n-gram -> count (analyse)
    vector: np.ndarray  # the pretrained token vector


def features_of(text: str, parties: OtherParties = NONE) -> TextFeatures:
    """Everything a classifier reads of a normalised text."""
    return TextFeatures(analyse(text, parties), shipped().vector(text))


def analyse(text: str, parties: OtherParties = NONE) -> Counter:
    """Counts of the character and word n-grams of a normalised text, of its clauses'
    polarities, and its marks (a condition, another programme, another party named)."""
    end = len(text)
    orders = find_orders(text)
    for order in sorted(orders, key=lambda o: -o.start):  # from the end: offsets hold
        if order.end <= end:
            text, end = text[: order.start] + ORDER_MARK + text[order.end :], order.start
    # An order number quoted to the brand's desk is an order placed with the brand, on its
    # marketplace stores and sent by its couriers: `京东订单号 290123456789 还没到货` and `SF
    # waybill SF1234567890123 stuck` are complaints to answer, not another company's failure.
    other_party = not orders and parties.named_in(text)  # before digits fold: `12306`
    text = _DIGITS.sub("0", _SLASHED.sub(_dated, text))
    counts = _grams(text)
    if other_party:
        counts[WORD_MARK + OTHER_PARTY_MARK] = _FLIP_COUNT
    if any(pattern.search(text) for pattern in _flips_for(text)):
        for clause in _CLAUSES.split(text):
            counts.update(_polarity(clause))
    if _CONDITIONS.search(text) and _CONDITIONS.search(_POLITE.sub(" ", text)):
        counts[WORD_MARK + CONDITION_MARK] = _FLIP_COUNT
    if _names_another_programme(text):
        counts[WORD_MARK + OTHER_PROGRAMME_MARK] = _FLIP_COUNT
    return counts


def _dated(slashed: re.Match) -> str:
    first, second, third = slashed.groups()
    score = (
        third is None
        and second in _OUT_OF
        and not first.startswith("0")
        and int(first) <= int(second)
    )
    return slashed[0] if score else DATE_MARK


def _polarity(clause: str) -> Counter:
    """The clause's polarity (odd or even number of flips), alone and paired with each of
    its other words (Latin) or character pairs (Chinese). A linear model cannot learn from
    `退订` and `不` apart that `不要退订` wants the messages: the pairs give it `+推送` against
    `-推送`, learnt from every flip at once."""
    flip_patterns = _flips_for(clause)
    found = sum(len(pattern.findall(clause)) for pattern in flip_patterns)
    if not found:
        return Counter()  # most clauses: the rewriting below is for those with a flip
    if found > 1:  # a repeat can only undo a flip's twin
        clause = _REPEATS.sub(_once, clause)
    clause = _NOT_FLIPS_ENGLISH.sub(" ", clause)
    if not clause.isascii():
        clause = _NOT_FLIPS_CHINESE.sub(" ", clause)
    flips = sum(len(pattern.findall(clause)) for pattern in flip_patterns)
    if not flips:
        return Counter()
    mark = WORD_MARK + POLARITY_MARK + ("-" if flips % 2 else "+")
    counts = Counter({mark: _FLIP_COUNT})
    for pattern in flip_patterns:
        clause = pattern.sub(" ", clause)
    for token in _WORDS.findall(clause):
        whole = token.isascii() or len(token) == 1
        pieces = [token] if whole else [token[i : i + 2] for i in range(len(token) - 1)]
        counts.update(mark + piece for piece in pieces)
    return counts


def _grams(text: str) -> Counter:
    grams: list[str] = []
    for word in text.split():
        grams.extend(_char_grams(word))
    tokens = _WORDS.findall(text)
    grams.extend([WORD_MARK + token for token in tokens])
    grams.extend([f"{WORD_MARK}{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)])
    return Counter(grams)


# Members' words repeat from one message to the next: a word's n-grams are cut once per
# process, not once per message (a third of a long message's parse time). A few thousand
# words hold a chat's everyday vocabulary in a few MB.
@lru_cache(maxsize=4096)
def _char_grams(word: str) -> tuple[str, ...]:
    """The word's characters, then its 2-4-grams with a space at either end."""
    padded = f" {word} "
    size = len(padded)
    grams = list(word)  # the characters alone, not the padding: a space says nothing
    for n in range(2, min(LONGEST_CHAR_GRAM, size) + 1):
        grams.extend([padded[i : i + n] for i in range(size - n + 1)])
    return tuple(grams)


def forget_words() -> None:
    """Empty the words' n-gram cache. Training analyses thousands of words once: the cached
    n-grams would keep the corpus's strings, and their memory, alive after it is compacted."""
    _char_grams.cache_clear()


class Vectoriser:
    """Maps a normalised text to (feature indices, TF-IDF weights)."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, is_word: np.ndarray):
        self.vocabulary = vocabulary
        self.idf = idf.astype(np.float32)
        self.is_word = is_word.astype(bool)

    def __len__(self) -> int:
        return len(self.idf)

    def words(self) -> list[str]:
        """The single words among the features (not the word pairs or character n-grams)."""
        return [g[1:] for g in self.vocabulary if g[:1] == WORD_MARK and " " not in g]

    def transform_counts(self, counts: Counter) -> tuple[np.ndarray, np.ndarray, float]:
        """Feature indices, weights and coverage (share of n-grams the model knows) of a
        text's counts (`analyse`)."""
        # C-level maps and reductions, not Python loops: a long message has hundreds of grams.
        found = np.fromiter(map(self.vocabulary.get, counts, repeat(-1)), np.int64, len(counts))
        occurrences = np.fromiter(counts.values(), np.float32, len(counts))
        known = found >= 0
        indices = found[known]
        if not len(indices):
            return np.zeros(0, np.int64), np.zeros(0, np.float32), 0.0
        total = float(occurrences.sum())
        occurrences = occurrences[known]
        weights = (1.0 + np.log(occurrences)) * self.idf[indices]
        block = self.is_word[indices].astype(np.intp)  # 1: a word n-gram, 0: a character one
        norms = np.sqrt(np.bincount(block, weights * weights, minlength=2))
        norms[norms == 0] = 1.0
        weights /= norms[block]
        return indices, weights, float(occurrences.sum()) / total

    def to_arrays(self) -> dict[str, np.ndarray]:
        # The n-grams as UTF-8 text, one a line (no n-gram holds a newline): an array of
        # fixed-width strings took the longest one's width for all, 15 MB for 50,000.
        grams = "\n".join(sorted(self.vocabulary, key=self.vocabulary.__getitem__))
        return {
            "vocabulary": np.frombuffer(grams.encode("utf-8"), dtype=np.uint8),
            "idf": self.idf,
            "is_word": self.is_word,
        }

    @classmethod
    def from_arrays(cls, arrays) -> Vectoriser:
        text = arrays["vocabulary"].tobytes().decode("utf-8")
        grams = text.split("\n") if len(arrays["idf"]) else []
        vocabulary = dict(zip(grams, range(len(grams)), strict=True))
        return cls(vocabulary, arrays["idf"], arrays["is_word"])
