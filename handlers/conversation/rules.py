"""How the programme works, answered from config.yml: change the file, the answer follows.

A question about one rule (points expiry, vouchers, the birthday gift, tiers, renewal,
referral, earning) or about what an action does (erasing one's data, unsubscribing, unlinking) gets
that short answer, and so does a question about points asked while deciding on erasing or
unlinking; anything else gets the summary."""

from __future__ import annotations

import re

from core import payloads
from core.membership import renewal_promise
from handlers.conversation import answers
from handlers.conversation.context import Context

# Topic -> words that ask about it (Simplified Chinese after folding, or English), in the
# order they are tried: "会员到期怎么续" is renewal before it is expiry.
# What an action would do comes first: "删除后积分还在吗" and "if i unsubscribe, will i lose my
# points" ask about the action, not about points expiring.
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # `投诉一般多久处理？` got the whole summary.
    (
        "handling",
        (
            "多久处理",
            "多久回复",
            "多久能处理",
            "多久会处理",
            "处理要多久",
            "处理时间",
            "回复时间",
            "幾時處理",
            "几时处理",
            "response time",
            "how long does a complaint",
            "how long do complaints",
            "how long will my complaint",
            "how long does it take to handle",
        ),
    ),
    ("erasure", ("删除", "删掉", "注销", "erase", "delete", "deleted", "wipe")),
    ("unsubscribing", ("退订", "取消订阅", "不接收", "unsubscrib", "opt out", "opting out")),
    ("unlinking", ("解绑", "解除绑定", "取消绑定", "unlink", "unbind")),
    ("referral", ("推荐", "邀请", "介绍朋友", "refer", "invite")),
    # `兑换的券有效期多久` asks about vouchers, not points (it got the points' expiry).
    ("vouchers", ("券", "voucher", "coupon")),
    ("birthday", ("生日", "birthday")),
    (
        "renewal",
        (
            "续",
            "会员到期",
            "会员有效期",
            "会员过期",
            "renew",
            "membership expire",
            "membership valid",
            "membership last",
        ),
    ),
    (
        "expiry",
        ("过期", "清零", "有效期", "失效", "expire", "expiry", "valid", "lose my points", "last"),
    ),
    (
        "tiers",
        (
            "等级",
            "升级",
            "降级",
            "保级",
            "银卡",
            "金卡",
            "铂金",
            "钻石",
            "tier",
            "level",
            "upgrade",
            "downgrade",
            "gold",
            "platinum",
            "diamond",
        ),
    ),
    (
        "earning",
        ("怎么赚", "怎么算", "怎么获得", "每消费", "一块钱", "earn", "per yuan", "calculated"),
    ),
)


# Taking a redemption back: `刚才那张免运费券能退吗 把积分还我`, `撤销兑换`, `can I get my points
# back for the voucher`. Read as a fallback or a cancel, it was a dead end.
_RETURNS = re.compile(
    r"(?:退|还)回?积分|积分(?:退|还)(?:回|给我|我)|退券|(?:取消|撤销|撤回)(?:刚才|这次)?的?兑换"
    r"|兑换的?券?(?:能|可以)(?:退|取消|撤销)(?!款|订)|券(?:能|可以)退(?!款|订)"
    r"|\b(?:refund|return|give back|cancel|undo|reverse)\b[^.?!]{0,25}\b(?:voucher|coupon|redemption)s?\b"
    r"|\bpoints back\b|\bun-?redeem"
)


def asks_to_return(text: str | None) -> bool:
    return _RETURNS.search(answers.folded(text)) is not None


def topic(text: str | None) -> str | None:
    said = answers.folded(text)
    if asks_to_return(said):
        return "returning"
    return next((name for name, words in TOPICS if any(w in said for w in words)), None)


# Asked while deciding on an action, a question that names no other rule is about that
# action: "what happens to my points?" at "Delete your personal data?" (it got the
# summary). "will i lose my points" names expiry, which is what erasing would mean too.
ACTION_OF_FORM = {"erase_data": "erasure", "unlink_account": "unlinking"}
ABOUT_POINTS_ONLY = (None, "expiry")


def ask_rules(ctx: Context) -> None:
    # An offer names its topic (how to earn, after a redemption waiting on a debt).
    chosen = ctx.entity("topic") or topic(ctx.text)
    deciding = ACTION_OF_FORM.get(ctx.state.flow or "")
    if deciding and chosen in ABOUT_POINTS_ONLY:
        chosen = deciding
    if chosen is None:
        summary(ctx)
        return
    ctx.handler = f"rules.{chosen}"
    points, lang = ctx.config.points, ctx.lang
    if chosen in ("erasure", "unsubscribing", "unlinking"):
        ctx.say(f"rules.{chosen}")
    elif chosen == "returning":
        ctx.say(
            "rules.returning", ctx.button("intent.human_handoff", payloads.global_word("person"))
        )
    elif chosen == "expiry":
        ctx.say("rules.answer", text=_expiry(ctx))
    elif chosen == "handling":
        levels = ctx.config.service_levels
        ctx.say(
            "rules.handling",
            normal=f"{levels.first_response.normal:g}",
            vip=f"{levels.first_response.vip:g}",
            urgent=f"{levels.first_response.urgent:g}",
            resolution=f"{levels.resolution:g}",
        )
    elif chosen == "vouchers":
        ctx.say("rules.vouchers", validity=ctx.config.benefits.voucher_validity_days)
    elif chosen == "birthday":
        ctx.say("rules.birthday", points=points.birthday_gift)
    elif chosen == "tiers":
        ctx.say("rules.tiers", tiers=_tiers(ctx))
    elif chosen == "renewal":
        ctx.say(
            "rules.renewal",
            term=ctx.config.membership.term_months,
            renewal=renewal_promise(ctx.config, lang),
        )
    elif chosen == "referral":
        ctx.say("rules.referral", multiple=points.referral_multiplier)
    else:
        ctx.say("rules.earning", per_yuan=points.per_yuan)


def summary(ctx: Context) -> None:
    config, lang = ctx.config, ctx.lang
    points = config.points
    ctx.say(
        "rules.summary",
        per_yuan=points.per_yuan,
        expiry=_expiry(ctx),
        welcome=points.welcome_bonus,
        birthday=points.birthday_gift,
        referral=points.referral_multiplier,
        tiers=_tiers(ctx),
        validity=config.benefits.voucher_validity_days,
        term=config.membership.term_months,
        renewal=renewal_promise(config, lang),
    )


def _expiry(ctx: Context) -> str:
    months = ctx.config.points.expiry_months
    return ctx.t("rules.expiry", months=months) if months else ctx.t("rules.no_expiry")


def _tiers(ctx: Context) -> str:
    return "\n".join(
        ctx.t(
            "rules.tier_line",
            tier=t.label.get(ctx.lang),
            threshold=t.threshold,
            multiplier=t.multiplier,
            vip=ctx.t("rules.vip") if t.vip else "",
        )
        for t in ctx.config.tiers
    )
