"""Points and tier: the balance with what expires when, the history, the tier and the
distance to the next one. Read-only: nothing here changes the ledger."""

from __future__ import annotations

import re

from handlers.conversation import answers
from handlers.conversation.context import Context
from handlers.desk import member_views as views
from storage.models import LedgerEntry

HISTORY_LINES = 10


def check_points(ctx: Context) -> None:
    member = ctx.bound_member
    window = ctx.config.reminders.points_expiry_window_days
    balance = views.balance(ctx.session, member.id)
    soon = views.expiring(ctx.session, member.id, ctx.now, window, ctx.zone)
    later = None if soon else views.next_expiring(ctx.session, member.id, ctx.now, ctx.zone)
    if later is not None:
        ctx.say(
            "points.balance_later",
            points=balance,
            days=window,
            soonest=later.points,
            date=later.last_day.isoformat(),
        )
    elif not soon:
        ctx.say("points.balance", points=balance, days=window)
    else:
        lines = "\n".join(
            ctx.t("points.expiring_line", points=lot.points, date=lot.last_day.isoformat())
            for lot in soon
        )
        ctx.say("points.balance_expiring", points=balance, days=window, lines=lines)
    if owed := views.debt(ctx.session, member.id):
        ctx.say("points.debt", debt=owed)
    _offer_a_complaint_if_disputed(ctx)


def history(ctx: Context) -> None:
    entries = views.history(ctx.session, ctx.bound_member.id, limit=HISTORY_LINES)
    if not entries:
        ctx.say("points.history_empty")
    else:
        lines = "\n".join(
            ctx.t(
                "points.history_line",
                date=ctx.day(entry.created_at),
                kind=_kind(ctx, entry),
                points=entry.points,
            )
            for entry in entries
        )
        ctx.say("points.history", count=len(entries), lines=lines)
    _offer_a_complaint_if_disputed(ctx)


def _kind(ctx: Context, entry: LedgerEntry) -> str:
    """What the entry is; a correction with the reason staff gave for the member (`points
    adjust --reason`). Other entries' reasons are the ledger's own notes, not for members."""
    if entry.kind == "adjust" and entry.reason:
        return ctx.t("ledger.adjust_because", reason=" ".join(entry.reason.split()))
    return ctx.t(f"ledger.{entry.kind}")


def asks_where_points_went(text: str | None) -> bool:
    """`积分咋还没到账呢` and `why were 200 points taken?` read as complaints are questions:
    the history answers them, with the offer of a complaint (`_offer_a_complaint_if_disputed`),
    and the member sees the figures before anyone is asked to look."""
    return (
        answers.is_question(text)
        and answers.says_points_are_wrong(text)
        and not answers.names_a_complaint(text)  # a member who says so wants the form
    )


def _offer_a_complaint_if_disputed(ctx: Context) -> None:
    """A member who says the points are wrong (积分少给了, my points are wrong) gets the
    figures and the offer of a complaint, so that a person checks them; not in an aside
    from a form, which asks its own question next."""
    if ctx.state.flow is None and answers.says_points_are_wrong(ctx.text):
        # Accepted, the complaint starts from what the member said: asked "what happened?",
        # they would have to say it again.
        ctx.offer("points.disputed", "file_complaint", entities={"description": ctx.text})


def tier_info(ctx: Context) -> None:
    member = ctx.bound_member
    progress = views.tier_progress(ctx.session, ctx.config, member, ctx.now)
    tier = progress.tier
    perks = [b.name(ctx.lang) for b in views.catalogue(ctx.session) if member.tier in b.tiers]
    ctx.say(
        "tier.current",
        tier=tier.label.get(ctx.lang),
        multiplier=tier.multiplier,
        earned=progress.earned,
        benefits=ctx.t("list.separator").join(perks) or "-",
    )
    if tier.vip:
        ctx.say("tier.vip")
    if progress.next_tier is None:
        ctx.say("tier.top")
        return
    ctx.say("tier.next", points=progress.to_next, tier=progress.next_tier.label.get(ctx.lang))
    named = _named_tier(ctx)
    if named is not None and named.threshold > progress.next_tier.threshold:
        # `离钻石还差多少分` was answered with the gap to Platinum alone.
        ctx.say(
            "tier.next", points=named.threshold - progress.earned, tier=named.label.get(ctx.lang)
        )


def _named_tier(ctx: Context):
    """The tier the message names (`钻石`, `diamond`), if any."""
    said = answers.folded(ctx.text)
    return next(
        (
            tier
            for tier in reversed(ctx.config.tiers)
            if any(_short(name) in said for name in (tier.name, tier.label.zh, tier.label.en))
        ),
        None,
    )


def _short(name: str) -> str:
    """`钻石卡` is said `钻石`; `金卡` stays whole (`金` is in 金额)."""
    name = answers.folded(name)
    return name.removesuffix("卡") if len(name) > 2 else name


# How many points a tier takes: `白金要多少分`, `鑽石卡要幾多分` listed the member's rewards.
_ASKS_POINTS_FOR = re.compile(
    r"多少分|多少积分|几多分|几多积分|\bhow many points\b|\bpoints (?:for|to)\b"
)


def asks_what_a_tier_takes(ctx: Context) -> bool:
    return _ASKS_POINTS_FOR.search(answers.folded(ctx.text)) is not None and bool(_named_tier(ctx))
