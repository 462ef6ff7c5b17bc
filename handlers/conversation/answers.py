"""Reading typed answers: member numbers, phones, dates, order numbers, quantities,
complaint categories, ratings, yes and no, and whether a message is a question.

The NLU's entity wins when it found one; these readers catch what a member types in
answer to a direct question ("1990年5月20日", "19900520"), where no intent is needed."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import cn2an

from core import complaint_words
from core.global_words import normalise
from nlu.entities.orders import find_orders, order_in_answer
from nlu.normalise import normalise as normalised_text
from nlu.normalise import to_simplified

MEMBER_NO = re.compile(r"\b[Mm]\d{6}\b")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TICKET_NO = re.compile(r"[Tt]\d{6,}")
DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
COMPACT_DATE = re.compile(r"(?<![\dA-Za-z-])(\d{4})(\d{2})(\d{2})(?!\d)")
QUANTITY = re.compile(r"\d+")
# Beyond any per-member limit, so an absurd quantity gets the limit's polite refusal.
MAX_QUANTITY = 1000
OLDEST_BIRTH_YEAR = 1900


def member_no(text: str, entity: str | None = None) -> str | None:
    if entity and MEMBER_NO.fullmatch(entity.strip()):
        return entity.strip().upper()
    found = MEMBER_NO.search(text or "")
    return found.group(0).upper() if found else None


def phone(text: str, entity: str | None = None) -> str | None:
    digits = re.sub(r"[\s-]", "", entity or "")
    if PHONE.fullmatch(digits):
        return digits
    found = PHONE.search(re.sub(r"[\s-]", "", text or ""))
    return found.group(0) if found else None


def order_id(text: str, pattern: str, entity: str | None = None, asked: bool = False) -> str | None:
    """An order number, upper-case, never a member or ticket number, a phone or a date: the
    NLU's (every retailer format), else the reply itself when the member was `asked` for
    one, else the shop's own format (complaints.order_id_pattern) found in the text."""
    # The entity is checked too: another backend (Rasa) may hand back any span.
    for reply, whole in ((entity, True), (text, asked)):
        if reply and whole and (answered := order_in_answer(normalised_text(reply).text)):
            return answered
    for found in _compiled(pattern).finditer((text or "").strip()):
        value = found.group(0).upper()
        if not (MEMBER_NO.fullmatch(value) or TICKET_NO.fullmatch(value)):
            return value
    return None


_PATTERNS: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(pattern)
    return _PATTERNS[pattern]


def folded(text: str | None) -> str:
    """Lower-case Simplified Chinese with half-width characters, for word matching."""
    return to_simplified(unicodedata.normalize("NFKC", text or "")).lower()


def complaint_category(text: str, categories: list[str], entity: str | None = None) -> str | None:
    """The NLU's category when it gave one, else the category the words name or describe."""
    if entity in categories:
        return entity
    return complaint_words.category_of(folded(text), categories)


# -- yes, no, questions ---------------------------------------------------------------------

YES = frozenset(
    {
        "yes",
        "submit",
        "submit it",
        "confirm",
        "correct",
        "right",
        "提交",
        "确认提交",
        "没错",
        "y",
        "yeah",
        "yep",
        "yup",
        "sure",
        "ok",
        "okay",
        "of course",
        "please",
        "yes please",
        "go ahead",
        "好",
        "好的",
        "好啊",
        "是",
        "是的",
        "要",
        "要的",
        "可以",
        "行",
        "嗯",
        "对",
        "对的",
        "没问题",
        "确定",
        "需要",
        "👍",
        # What members type for yes when a button asks: slang, and the yeses made with 没
        # (没毛病 "nothing wrong") that the NLU would otherwise weigh as negations.
        "好滴",
        "好哒",
        "好嘞",
        "得嘞",
        "嗯嗯",
        "嗯呢",
        "妥",
        "妥了",
        "妥妥的",
        "没毛病",
        "没意见",
        "没异议",
        "无异议",
        "必须的",
        "当然",
        "当然可以",
        "同意",
        "确认",
        "可以的",
        "好呀",
        "是啊",
        "对啊",
        "👌",
        "✅",
        "absolutely",
        "definitely",
        "totally",
        "sure thing",
        "roger",
        "roger that",
        "affirmative",
        "alright",
        "all right",
        "sounds good",
        "do it",
        "go for it",
        "fine",
        # The yes to a question that asks whether one has something (有订单号吗？): the NLU
        # read a bare 有 as the 没有 it was taught.
        "有",
        "有的",
        "有啊",
        "有呀",
        "i do",
        "i have",
        "i have one",
        "yes i do",
        "yes i have",
        "yes i have one",
        "yes i have it",
        # Cantonese (系 is 係 made Simplified) and Singlish.
        "系",
        "系呀",
        "系啊",
        "啱",
        "啱呀",
        "啱啊",
        "得",
        "冇问题",
        "can",
        "can can",
        "ok can",
        "我要",
        "我要的",
        "np",
        "no problem",
        "no prob",
    }
)
NO = frozenset(
    {
        "no",
        "n",
        "nope",
        "nah",
        "no thanks",
        "not now",
        "不",
        "不是",
        "不用",
        "不要",
        "不用了",
        "不了",
        "否",
        "不需要",
        "先不了",
        "算了吧",
        "算了",
        "不对",
        "不行",
        "不可以",
        "不是的",
        "不必了",
        "错了",
        "没有",
        "免了",
        "no way",
        "not really",
        "no need",
        "never mind",
        "nevermind",
        "negative",
        "wrong",
        "👎",
        "❌",
        "没兴趣",
        "don't want",
        "dont want",
        "don't need",
        "not interested",
        # Cantonese and Singlish.
        "唔好",
        "唔要",
        "唔使",
        "唔使了",
        "唔得",
        "冇",
        "冇兴趣",
        "唔系",
        "cannot",
        "don't want liao",
        "dont want liao",
        "no need liao",
        # Not yet: at a confirmation, as good as a no (the NLU read `let me think` as a yes).
        "let me think",
        "let me think about it",
        "i need to think",
        "i need to think about it",
        "hold on",
        "wait",
        "我再想想",
        "让我想想",
        "我考虑一下",
        "考虑一下",
        "等等",
        "等一下",
    }
)
# Chinese marks a question with a word anywhere in it; English with a question word where
# a clause begins: `let me explain what happened` and `they wouldn't show me` are statements.
CHINESE_QUESTION_WORDS = ("吗", "么", "多少", "多久", "几", "怎么", "什么", "如何", "哪", "为啥")
# `咋` asks (`积分咋没到`), `不咋样` judges; a question may end its clause, not the message
# (`积分咋还没到账呢，上周六买的`).
CHINESE_QUESTION = re.compile(r"(?<!不)咋|呢(?=[,.!~;])")
ENGLISH_QUESTION = re.compile(
    r"(?:^|[.!?,;:]\s*)(?:(?:so|and|but|ok|okay|hi|hey|also|then|btw|oh|um|well)\s+)*"
    r"(?:how|what|when|which|where|do i|can i|is my|are my)\b"
)


def said(text: str | None, words: frozenset[str]) -> bool:
    """The whole message is one of `words` (any case, either script, punctuation around)."""
    return normalise(folded(text)) in words


# Not yet, said at a confirmation: the form waits (`dont submit yet` filed the complaint, and
# `hold on` dropped it).
NOT_YET = re.compile(
    r"\b(?:wait|hold on|hang on|not yet|one (?:sec|second|moment)|give me a (?:sec|second|minute"
    r"|moment)|let me think|i need to think|(?:don't|dont|do not) \w+(?: it)? yet)\b"
    r"|等等|等一下|稍等|先别(?!了)|先不要?(?:提交|确认|兑换|办|交)|我再想想|让我想想|考虑一下|等阵|等一阵"
)


def not_yet(text: str | None) -> bool:
    return NOT_YET.search(folded(text)) is not None


# A request restated after a slip: `不是，我是想查一下积分`, `no I mean my vouchers`. Read
# whole, the 不是 made it a "no" to nothing.
_MEANT = re.compile(
    r"^(?:(?:不是|不对|哦不对|噢不对|啊不对|错了|说错了|打错了|no|nope|sorry|oops|sry)[\s,，.!！]*)*"
    r"(?:我是说|我是想|我的意思是|我想说的是|我要的是|\bi mean\b|\bi meant\b|what i meant (?:is|was)"
    r"|\bi wanted\b)[\s,，:：]*"
)


def meant(text: str | None) -> str | None:
    """The request after a slip's correction (`我想重新收推送`), or None."""
    said = folded(text).strip()
    found = _MEANT.match(said)
    rest = said[found.end() :].strip() if found else ""
    return rest or None


# A complaint said in so many words: `积分还没到账，我要投诉`, `我要complain 那个order…`.
_NAMES_A_COMPLAINT = re.compile(r"投诉|客诉|complain")


def names_a_complaint(text: str | None) -> bool:
    return _NAMES_A_COMPLAINT.search(folded(text)) is not None


# Carrying on with the open form: `ok back to it`, `let's continue`, `继续吧`. Read as a
# cancel (`back`), it dropped a half-written complaint.
_RESUMES = re.compile(
    r"^(?:(?:ok|okay|right|alright|好|好的|嗯|那)[\s,，.!！]*)?(?:let'?s\s+)?"
    r"(?:(?:go |get )?back to (?:it|that|this|(?:the|my) (?!menu|start|main)\w+)|continue|carry on"
    r"|keep going"
    r"|where were we|继续|接着(?:来|说|办)?|回到刚才|回到正题)"
    r"(?:\s*(?:then|please|pls|吧|啦|了|呀|哦))?[\s.!！?？~]*$"
)


def resumes(text: str | None) -> bool:
    return _RESUMES.match(folded(text).strip()) is not None


# Taking back what was just done: `哎呀点错了`, `oops, I didn't mean that, undo`.
_UNDOES = re.compile(
    r"点错|按错|发错|手滑|误操作|误点|不小心|弄错了|搞错了|撤销|撤回|反悔|后悔|还是(?:想|要)"
    r"|\b(?:undo|by (?:mistake|accident)|accidentally|mistakenly|didn'?t mean|did not mean"
    r"|take (?:it|that) back|revert|changed my mind|change my mind|wrong button|misclick"
    r"|mis-click)\b"
)


def undoes(text: str | None) -> bool:
    return _UNDOES.search(folded(text)) is not None


# A ticket's trouble is not over: `还是没解决`, `STILL NOT FIXED`, `reopen it`.
_NOT_FIXED = re.compile(
    r"还是没|还没(?:解决|好|到|收到|修好|处理)|没(?:有)?解决|没修好|仍然|依然|重新打开|重开"
    r"|\b(?:still (?:not|no|hasn'?t|haven'?t|didn'?t|broken|waiting)|not (?:fixed|solved|resolved)"
    r"|never (?:came|arrived)|didn'?t (?:work|help|fix)|re-?open)\b"
)


def not_fixed(text: str | None) -> bool:
    return _NOT_FIXED.search(folded(text)) is not None


# Said around a yes or a no without changing it: `好的谢谢`, `no thanks lah`, `ok please`.
_COURTESY = re.compile(
    r"^(?:(?:thanks|thank you|thx|ty|please|pls|谢谢|多谢|谢了|唔该)[\s,，.!！~]*)+"
    r"|(?:[\s,，.!！~]*(?:thanks|thank you|thx|ty|please|pls|谢谢|多谢|谢了|唔该|谢谢你|谢谢您"
    r"|lah|la|leh|lor|ah|啦|啊|呀|哦|喔))+[\s.!！~]*$"
)


def yes_or_no(text: str | None) -> bool | None:
    for candidate in (text, _COURTESY.sub("", folded(text).strip())):
        if said(candidate, YES):
            return None if hesitates(text) else True
        if said(candidate, NO):
            return False
    return None


def hesitates(text: str | None) -> bool:
    """A yes asked back, held back or taken back is no yes: `ok?`, `嗯？`, `ok wait`, `好，等一下`,
    `yes no` each spent the points at a confirmation."""
    words = set(re.findall(r"\w+", folded(text)))
    return (
        is_question(text)
        or not_yet(text)
        or _HOLDS_BACK.search(folded(text)) is not None
        or bool(words & YES and words & NO)
    )


# A yes with a but, a later or a maybe: `好 但是先不换`, `好的，明天再说`, `yes but later`, `yes
# tomorrow`, `yes if it doesn't expire soon`, `maybe` each spent the points.
_HOLDS_BACK = re.compile(
    r"但是|但|不过|可是|明天|改天|再说|以后|回头|晚点|先不|也许|可能|或许|如果|要是"
    r"|\b(?:but|though|later|tomorrow|maybe|perhaps|if|unless|not now|another time|next time)\b"
)


# A message this long already says what happened, not just "我要投诉".
LONG_HANZI = 12
LONG_WORDS = 8


def long_text(text: str | None) -> bool:
    said = text or ""
    hanzi = sum(1 for c in said if "\u4e00" <= c <= "\u9fff")
    return hanzi >= LONG_HANZI or (not hanzi and len(said.split()) >= LONG_WORDS)


# Words that say something went wrong: "积分没到账" is a complaint, "兑换咖啡券" a request.
_WRONG_LINES = (
    "没 不 未 坏 差 慢 错 少 丢 破 烂 假 碎 漏 脏 臭 凶 骂 吼 糟 坑 骗 霉 虫 过期 变质 瑕疵 次品 掉色 褪色",
    "起球 开线 划痕 敷衍 冷漠 态度 多收 多扣 过敏 异物 恶心 失望 离谱",
    "not n't never wrong bad late broken missing damaged rude dirty slow stale expired cracked",
    "fake overcharg twice ignor yell shout refus lost stolen spoil leak torn faulty defect",
    "terrible awful horrible unacceptable rotten mould mold scratch smash crush dent soak",
    "馊 闪退 卡顿 崩溃 忙音 清零 归零 扣了 踢皮球 垃圾 发霉 生虫 异味 溢出",
    "peel flicker disgust worm swollen fell apart crash scam disgrace rip-off ripped",
    "useless",
)
WRONG_WORDS = tuple(word for line in _WRONG_LINES for word in line.split())


def says_something_is_wrong(text: str | None) -> bool:
    said = folded(text)
    return any(word in said for word in WRONG_WORDS)


def tells_of_an_order_gone_wrong(text: str | None) -> bool:
    """`13812345678 A20261101 没到`: an order number beside what went wrong, whatever else
    (a phone) the message holds. Nobody links an account with an order number."""
    return bool(find_orders(normalised_text(text or "").text)) and says_something_is_wrong(text)


# Praise, with nothing said to be wrong: `Just wanted to say the staff at the Jing'an store were
# amazing!` and `服务太棒了👍` were filed as complaints about the staff.
_PRAISE = re.compile(
    r"表扬|点赞|赞|棒|真好|很好|好评|感谢|谢谢|辛苦|满意|👍|❤|"
    r"\b(?:amazing|great|awesome|excellent|love|loved|lovely|wonderful|fantastic|brilliant|thank"
    r"|thanks|compliment|praise|kudos|shout ?out|well done|helpful|friendly|nice|superb)\b"
)


def praises(text: str | None) -> bool:
    """Praise, and no trouble or request to complain (`我要投诉，谢谢` complains)."""
    return (
        _PRAISE.search(folded(text)) is not None
        and not says_something_is_wrong(text)
        and not names_a_complaint(text)
    )


# Where an order is, or when it comes: `订单A20261101到哪里了？`, `when will my online order be
# delivered?` got the generic "can't help". The bot cannot track orders, and says so.
_ORDER_WORDS = re.compile(
    r"订单|单号|快递|包裹|物流|\b(?:order|parcel|package|delivery|shipment)\b"
)
_WHERE_OR_WHEN = re.compile(
    r"到哪|在哪|哪里|几时|什么时候|多久|何时|发货了吗|发了吗|出货|到了吗|物流信息|查(?:一下|下)?物流"
    r"|\b(?:where|when|how long|track|tracking|status|shipped|delivered|arrive)\b"
)


def asks_where_an_order_is(text: str | None) -> bool:
    said = folded(text)
    return bool(_ORDER_WORDS.search(said) and _WHERE_OR_WHEN.search(said))


# Whether staff have answered: `did customer service reply?` opened a second hand-off.
_ASKS_IF_ANSWERED = re.compile(
    r"(?:回复|回|答复|处理)了?(?:吗|没有?)|有(?:没有)?(?:回复|答复)"
    r"|\b(?:did|has|have)\b(?:\s+\w+){0,3}\s+(?:reply|replied|respond|responded|answer|answered"
    r"|get back|got back)\b|\breply yet\b|\bany (?:reply|answer|response)\b"
)


def asks_if_staff_answered(text: str | None) -> bool:
    return _ASKS_IF_ANSWERED.search(folded(text)) is not None


# `are you a bot?`, `你是机器人吗`: who is answering (it was "I can't help with that").
_ASKS_WHO_ANSWERS = re.compile(
    r"你是(?:机器人|真人|人工|ai|谁)|是机器人吗|是不是机器人|是真人吗"
    r"|\bare you (?:a |an )?(?:bot|robot|human|real person|real|ai|person)\b|\bwho are you\b"
)


def asks_who_answers(text: str | None) -> bool:
    return _ASKS_WHO_ANSWERS.search(folded(text)) is not None


# The points are wrong: docked, short, missing. Narrower than WRONG_WORDS, which would
# hear 少 in 多少 ("how many").
POINTS_DISPUTED = re.compile(
    r"[错漏丢]|不对|(?<!多)少[了给算加扣]|[没未冇](?:有)?(?:到账|到|给|加|算|进|入)|多扣|乱扣"
    r"|不见了|唔见|[清归]零"
    r"|\b(?:wrong|incorrect|missing|not right|short|never (?:got|came|arrived|showed))\b"
    r"|\b(?:taken (?:off|away|from)|deducted|docked|disappeared|vanished|wiped)\b"
    r"|\b(?:didn't|did not|haven't|have not) (?:get|got|receive|received|arrive|show)"
)


def says_points_are_wrong(text: str | None) -> bool:
    return POINTS_DISPUTED.search(folded(text)) is not None


def is_question(text: str | None) -> bool:
    said = folded(text).strip()
    return (
        "?" in said
        or said.endswith(("吗", "呢"))
        or any(w in said for w in CHINESE_QUESTION_WORDS)
        or CHINESE_QUESTION.search(said) is not None
        or ENGLISH_QUESTION.search(said) is not None
    )


# -- ratings -------------------------------------------------------------------------------

RATING_NUMBER = re.compile(
    r"^\s*([1-5])\s*(?:分|(?:颗|粒)?星|stars?|/\s*5|out of 5)?(?!\s*[a-z0-9])"
)
# A number given as a score inside a sentence: `给个4分`, `还行吧，给个4分` (read as 还行, 3),
# `I would give it a 4`, `rating: 4`.
RATING_IN_WORDS = re.compile(
    r"(?<![\d.])([1-5一二两三四五])\s*(?:分(?![钟钱])|(?:颗|粒)?星|\bstars?\b|/\s*5|\bout of 5\b)"
    r"|(?:给个?|打个?|评个?|\b(?:give|rate)\s+(?:it|you|you guys|them|this)?\s*(?:a\s+)?|\brating\s*:?\s*"
    r"|\bscore\s*:?\s*)([1-5])(?![\d.])"
)
RATING_WORDS: tuple[tuple[str, int], ...] = (
    ("非常不满意", 1),
    ("很不满意", 1),
    ("太差", 1),
    ("很差", 1),
    ("极差", 1),
    ("垃圾", 1),
    ("不满意", 2),
    ("差评", 2),
    ("不太好", 2),
    ("一般般", 3),
    ("麻麻", 3),
    ("一般", 3),
    ("还行", 3),
    ("凑合", 3),
    ("还可以", 4),
    ("满意", 4),
    ("不错", 4),
    ("很好", 5),
    ("非常满意", 5),
    ("很满意", 5),
    ("太棒", 5),
    ("完美", 5),
    ("好评", 5),
    ("满分", 5),
    ("terrible", 1),
    ("awful", 1),
    ("horrible", 1),
    ("very bad", 1),
    ("bad", 2),
    ("poor", 2),
    ("not good", 2),
    ("average", 3),
    ("so-so", 3),
    ("good", 4),
    ("great", 5),
    ("excellent", 5),
    ("perfect", 5),
    ("amazing", 5),
    ("full marks", 5),
    ("satisfied", 4),
    ("dissatisfied", 2),
    ("unsatisfied", 2),
    ("could be better", 3),
    ("meh", 3),
)
NUMBER_WORDS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
}


def rating(text: str | None) -> int | None:
    """A 1-5 rating typed as a number ("2", "2分", "4 stars"), stars (★★★), a number word
    ("五星", "five stars") or a verdict (很满意, 太差了, excellent)."""
    said = folded(text).strip()
    if not said:
        return None
    stars = said.count("★") or said.count("⭐")
    if 1 <= stars <= 5 and not said.strip("★⭐ "):
        return stars
    if match := RATING_NUMBER.match(said):
        return int(match.group(1))
    for word, value in NUMBER_WORDS.items():
        if re.match(rf"^{word}\s*(?:分|(?:颗|粒)?星|stars?)", said):
            return value
    if match := RATING_IN_WORDS.search(said):
        number = match.group(1) or match.group(2)
        return int(number) if number.isdigit() else NUMBER_WORDS[number]
    longest = sorted(RATING_WORDS, key=lambda pair: -len(pair[0]))
    for word, value in longest:
        if found := re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", said):
            if _NEGATED_VERDICT.search(said[: found.start()]):
                return NOT_GOOD if value >= NEUTRAL else NEUTRAL  # `not great`, `not bad`
            return value
    return None


# A verdict negated just before it: `not great`, `不太满意`, `唔係幾滿意` (each read as 4 or 5
# and closed the ticket), `not bad`.
_NEGATED_VERDICT = re.compile(
    r"(?:\bnot|n't|\bnever|不|唔|冇|没)\s*(?:very|so|that|too|really|quite|\S{0,2})\s*$"
)
NOT_GOOD, NEUTRAL = 2, 3


# A date said the Chinese way, in figures or words, the year perhaps in two digits:
# `九二年三月八号`, `95年2月14`, `一九九零年五月二十日`.
_SPOKEN_DATE = re.compile(
    r"([\d〇零一二三四五六七八九]{2}|[\d〇零一二三四五六七八九]{4})\s*年\s*"
    r"([\d一二三四五六七八九十]{1,3})\s*月\s*([\d一二三四五六七八九十]{1,3})"
)
_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")


def _spoken_number(said: str) -> int:
    """十 → 10, 二十 → 20, 十四 → 14, 二十八 → 28; figures as they are."""
    if "十" not in said:
        return int(said.translate(_DIGITS))
    tens, _, ones = said.partition("十")
    return int(tens.translate(_DIGITS) or 1) * 10 + int(ones.translate(_DIGITS) or 0)


def _spoken_date(text: str, today: date) -> tuple[int, int, int] | None:
    match = _SPOKEN_DATE.search(text)
    if match is None:
        return None
    year = int(match.group(1).translate(_DIGITS))
    if year < 100:  # `92年`: the latest such year not after this one
        year += 2000 if year <= today.year % 100 else 1900
    return year, _spoken_number(match.group(2)), _spoken_number(match.group(3))


def birthday(text: str, entity: str | None, today: date) -> date | None:
    """A plausible birthday: a real date, not in the future, not before 1900."""
    for candidate in (entity or "", text or ""):
        match = DATE.search(candidate) or COMPACT_DATE.search(candidate)
        parts = tuple(int(part) for part in match.groups()) if match else None
        parts = parts or _spoken_date(candidate, today)
        if parts is None:
            continue
        try:
            day = date(*parts)
        except ValueError:
            return None
        return day if day.year >= OLDEST_BIRTH_YEAR and day <= today else None
    return None


def quantity(entity: str | None) -> int | None:
    """A positive whole number from the quantity entity ("2", "两", "two")."""
    if not entity:
        return None
    value = entity.strip()
    if not QUANTITY.fullmatch(value):
        try:
            value = str(cn2an.cn2an(value, "smart"))
        except (ValueError, KeyError, TypeError):
            return None
    if len(value) > 6:  # "999...9" typed or pressed: more than anyone may redeem at once
        return MAX_QUANTITY
    number = int(float(value))
    return min(number, MAX_QUANTITY) if number >= 1 else None


# What `ok just 2 then`, `那就两张吧` and `make it 2 instead` say besides the number: a message
# with anything more (`我还有2个问题想问`, `I have 1 more question`) is not a new quantity.
_ONLY_A_QUANTITY = re.compile(
    r"[\s\W\d_]|[零一二两三四五六七八九十]|[张個个份只杯]|那就|那|就|吧|要|换成|改成|只要|给我|来|好吧|好的|好"
    r"|嗯|算了|还是|了|啊|呀|呢|行|\b(?:ok|okay|fine|just|then|only|make|it|what|how|about|instead"
    r"|please|pls|the|one|ones|vouchers?|alright|sure|so|maybe|let's|lets|do|go|with|i'll"
    r"|take|get|me|actually|hmm|x|pcs|two|three|four|five|six|seven|eight|nine|ten)\b"
)


def only_a_quantity(text: str | None) -> bool:
    """Whether the message says nothing but a number of something already named."""
    return not _ONLY_A_QUANTITY.sub("", folded(text))


# "the first one", "第二个", "the last": a place in the list of buttons just shown.
_ORDINALS = re.compile(
    r"\b(?:(first|1st)|(second|2nd)|(third|3rd)|(fourth|4th)|(fifth|5th))\b|\b(last)\b"
    r"|(?:第|头)([一二三四五1-5])(?![十百千0-9])|(最后)"
)
_CHINESE_PLACES = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4}


def place_in_list(text: str | None) -> int | None:
    """The index a typed ordinal points at (-1 for the last), or None."""
    found = _ORDINALS.search(folded(text))
    if found is None:
        return None
    if found[6] or found[8]:
        return -1
    if found[7]:
        digit = found[7]
        return _CHINESE_PLACES[digit] if digit in _CHINESE_PLACES else int(digit) - 1
    return next(i for i in range(5) if found[i + 1])


def at_place(options: list, place: int | None):
    """The option at `place` (from `place_in_list`), or None (no place, or past the end)."""
    if place is None or not -len(options) <= place < len(options):
        return None
    return options[place]


# -- languages -----------------------------------------------------------------------------

_LANGUAGE_WORDS = {
    "zh": r"中文|汉语|华语|普通话|国语|粤语|广东话|简体|繁体|\b(?:chinese|mandarin|cantonese)\b",
    "en": r"英文|英语|\benglish\b",
}
_REFUSED = re.compile(
    r"(?:不要|不用|别|不想|不懂|看不懂|不会|听不懂|唔要|唔好|唔使|唔识|冇|\b(?:no|not|don't|dont|do not|stop"
    r"|without|can't read|cannot read|can't understand|cannot understand)\b)"
    r"[^,.;!?，。；！？]{0,16}$"
)


def wanted_language(text: str | None) -> str | None:
    """The language a message asks for, hearing what it refuses: `不要英文` wants Chinese,
    `不要中文，要英文` English (the NLU's entity was the first language named)."""
    said = folded(text)
    wanted: list[str] = []
    refused: list[str] = []
    for lang, words in _LANGUAGE_WORDS.items():
        for found in re.finditer(words, said):
            (refused if _REFUSED.search(said[: found.start()]) else wanted).append(lang)
    if len(set(wanted)) == 1:
        return wanted[0]
    if not wanted and len(set(refused)) == 1:
        return "en" if refused[0] == "zh" else "zh"
    return None
