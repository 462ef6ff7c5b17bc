"""How the programme works, answered from config.yml: change the file, the answer follows."""

from __future__ import annotations

from core.membership import renewal_promise
from handlers.conversation.context import Context


def ask_rules(ctx: Context) -> None:
    config, lang = ctx.config, ctx.lang
    tiers = "\n".join(
        ctx.t(
            "rules.tier_line",
            tier=t.label.get(lang),
            threshold=t.threshold,
            multiplier=t.multiplier,
            vip=ctx.t("rules.vip") if t.vip else "",
        )
        for t in config.tiers
    )
    points = config.points
    expiry = (
        ctx.t("rules.expiry", months=points.expiry_months)
        if points.expiry_months
        else ctx.t("rules.no_expiry")
    )
    ctx.say(
        "rules.summary",
        per_yuan=points.per_yuan,
        expiry=expiry,
        welcome=points.welcome_bonus,
        birthday=points.birthday_gift,
        referral=points.referral_multiplier,
        tiers=tiers,
        validity=config.benefits.voucher_validity_days,
        term=config.membership.term_months,
        renewal=renewal_promise(config, lang),
    )
