"""Who failed: another company or person than the brand, named in a member's message.

`淘宝买的卫衣还没发货` and `我们的卫衣还没发货` tell the same failure; only the first is not
ours to answer. A linear model over words learns that from the company's name alone, and each
name is seen a few times at most, so a failure told of a name it had not seen read as a
complaint. The names of the training data's `other_party` lookup table (marketplaces,
couriers, banks, airlines, telecoms, landlords, employers ...: `data/other_parties.yml`)
give one feature together (features.py), so each out-of-scope example teaches all of them.
A message that addresses the brand (`你们`, `your`) is ours, whoever else it names:
`你们发的顺丰到现在没到`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.normalise import normalise

LOOKUP = "other_party"  # the lookup table's name in the training data
LONGEST_CHINESE = 8  # characters in the longest Chinese name looked for
_LATIN_WORDS = re.compile(r"[a-z0-9&]+(?:[.'][a-z0-9&]+)*")  # `booking.com`, `sainsbury's`
_CHINESE_RUNS = re.compile(r"[\u4e00-\u9fff0-9a-z]+")
# Partner brands are rewards too: what follows the points or redeeming is one.
_REDEEMING = re.compile(r"积分|兑换|换购|\b(?:points?|redeem\w*|swap\w*)\b")
# `you` who sent, sold or charged is the brand too: `the DPD parcel you sent me`, `你寄的顺丰`.
_ADDRESSES_US = re.compile(
    r"你们|您们|你哋|你家|贵[店司公]|[你您](?:给我)?(?:发|寄|卖|送)的"
    r"|\b(?:your|yours|ur|you guys|y'all)\b"
    r"|\byou(?:'ve| have)? (?:sent|gave|given|sold|shipped|delivered|posted|mailed|charged"
    r"|billed|promised|told|issued)\b"
    # The brand's own shop on a marketplace is the brand: `天猫旗舰店买的面霜过期了`. Not a
    # website (`苹果官网`): the name before it is its owner's.
    r"|旗舰店|官方店|\b(?:flagship|official (?:online )?(?:store|shop))\b"
)


@dataclass(frozen=True)
class OtherParties:
    chinese: frozenset[str] = frozenset()
    english: frozenset[str] = frozenset()  # words joined by one space
    longest_english: int = 0  # words in the longest English name

    @classmethod
    def of(cls, names: Iterable[str]) -> OtherParties:
        """The names as written in the lookup table (normalised here)."""
        chinese, english = set(), set()
        for name in names:
            normal = normalise(name).text.strip()
            if normal.isascii():
                if words := _LATIN_WORDS.findall(normal):
                    english.add(" ".join(words))
            elif len(normal) <= LONGEST_CHINESE:
                chinese.add(normal)
        longest = max((name.count(" ") + 1 for name in english), default=0)
        return cls(frozenset(chinese), frozenset(english), longest)

    def names(self) -> list[str]:
        return sorted(self.chinese | self.english)

    def named_in(self, text: str) -> bool:
        """Whether a normalised text names another party and does not address the brand.
        A name after the points or redeeming is a reward (`积分兑换星巴克咖啡券`, `swap points
        for netflix`); before them, another programme (`tesco clubcard points`)."""
        if not (self.chinese or self.english) or _ADDRESSES_US.search(text):
            return False
        rewards = _REDEEMING.search(text)
        text = text[: rewards.start()] if rewards else text
        words = _LATIN_WORDS.findall(text)
        for n in range(1, self.longest_english + 1):
            for i in range(len(words) - n + 1):
                if " ".join(words[i : i + n]) in self.english:
                    return True
        if text.isascii():
            return False
        for run in _CHINESE_RUNS.findall(text):
            for i in range(len(run) - 1):
                for j in range(i + 2, min(len(run), i + LONGEST_CHINESE) + 1):
                    if run[i:j] in self.chinese:
                        return True
        return False


NONE = OtherParties()
