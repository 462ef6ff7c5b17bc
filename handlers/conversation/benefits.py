"""Benefits: what the member can redeem, and redeeming one for a voucher.
Flow diagram: handlers/conversation/benefits.md."""

from __future__ import annotations

import re

from core import catalogue, payloads
from handlers.conversation import answers, points
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State, confirmation
from handlers.desk import member_views as views
from storage import rewards
from storage.ledger import Ledger, LedgerError
from storage.models import Benefit


def _ledger(ctx: Context) -> Ledger:
    return Ledger(ctx.session, ctx.config, clock=lambda: ctx.now)


def _benefit(ctx: Context, code: str | None) -> Benefit | None:
    """An active benefit by code; the small catalogue is read once per turn."""
    info = ctx.session.info
    if "benefits" not in info:
        info["benefits"] = {b.code: b for b in views.catalogue(ctx.session)}
    return info["benefits"].get(code or "")


def _chosen(ctx: Context) -> Benefit:
    """The benefit of the form's slot, checked when it was chosen."""
    benefit = _benefit(ctx, ctx.slots["benefit"])
    if benefit is None:
        raise LookupError(f"benefit {ctx.slots['benefit']!r} left the catalogue during the form")
    return benefit


def list_benefits(ctx: Context) -> None:
    if points.asks_what_a_tier_takes(ctx):  # `白金要多少分`: the tier's points, not rewards
        ctx.handler = "points.tier_info"
        points.tier_info(ctx)
        return
    balance = views.balance(ctx.session, ctx.bound_member.id)
    offered = views.eligible_benefits(ctx.session, ctx.bound_member)
    if not offered:
        ctx.say("benefits.none")
        return
    lines = "\n".join(
        ctx.t(
            "benefits.line" if b.cost <= balance else "benefits.line_short",
            name=b.name(ctx.lang),
            cost=b.cost,
        )
        for b in offered
    )
    buttons = [
        ctx.button(
            "benefits.redeem_button",
            payloads.intent("redeem_benefit", benefit=b.code),
            name=b.name(ctx.lang),
        )
        for b in offered
        if b.cost <= balance
    ]
    ctx.say("benefits.list", *buttons, balance=balance, lines=lines)
    ctx.keep_to_amend("redeem_benefit", {})  # `the coffee then` redeems from the list


# -- redeeming: benefit -> (checks) -> confirm -> voucher ----------------------------------


def begin(ctx: Context) -> str | None:
    ctx.set_slot("quantity", 1)
    next_state = fill(ctx)
    if next_state == "confirm":
        _one_at_a_time(ctx)
    return next_state


def _one_at_a_time(ctx: Context) -> None:
    """`两张咖啡券再换一张免运费券`: the second reward is named, not silently dropped."""
    codes = dict.fromkeys(ctx.understood.entities.get("benefit", ()))
    named = [benefit for code in codes if (benefit := _benefit(ctx, code)) is not None]
    if len(named) > 1 and named[0].code == ctx.slots.get("benefit"):
        ctx.say("redeem.one_at_a_time", name=named[0].name(ctx.lang), other=named[1].name(ctx.lang))


def fill(ctx: Context) -> str | None:
    """The benefit and quantity a message names (`3张`, `make it two`, `换成生日蛋糕`)
    replace the form's; the rest stays. A changed redemption gets new confirm buttons: the
    old ones would confirm what the member no longer wants."""
    if _changes(ctx):
        quantity, code = answers.quantity(ctx.entity("quantity")), ctx.entity("benefit")
        if quantity:
            ctx.set_slot("quantity", quantity)
        if _benefit(ctx, code) is not None:
            ctx.set_slot("benefit", code)
        ctx.state.confirmation = None
    return _checked(ctx) if "benefit" in ctx.slots else "benefit"


def _changes(ctx: Context) -> bool:
    quantity, code = answers.quantity(ctx.entity("quantity")), ctx.entity("benefit")
    return bool(quantity and quantity != ctx.slots.get("quantity")) or (
        _benefit(ctx, code) is not None and code != ctx.slots.get("benefit")
    )


def ask_benefit(ctx: Context) -> None:
    offered = views.eligible_benefits(ctx.session, ctx.bound_member)
    ctx.say(
        "redeem.which",
        *(
            ctx.button("redeem.option", payloads.answer(b.code), name=b.name(ctx.lang), cost=b.cost)
            for b in offered
        ),
    )


def got_benefit(ctx: Context) -> str | Reask | None:
    """A button, the benefit named, or its place among the buttons (`第二个`)."""
    code = ctx.answer or ctx.entity("benefit") or _placed(ctx)
    if code is None and answers.yes_or_no(ctx.text) is False:  # `no thanks` at the picker
        ctx.outcome = "cancelled"
        ctx.say("redeem.dropped")
        return None
    if _benefit(ctx, code) is None:
        return ctx.reask("redeem.unknown_benefit")
    ctx.set_slot("benefit", code)
    if quantity := answers.quantity(ctx.entity("quantity")):
        ctx.set_slot("quantity", quantity)
    return _checked(ctx)


def _placed(ctx: Context) -> str | None:
    """The code of the benefit at the place the member typed (`the last one`), if any: the
    list is read only when the message names a place."""
    place = answers.place_in_list(ctx.text)
    if place is None:
        return None
    placed = answers.at_place(views.eligible_benefits(ctx.session, ctx.bound_member), place)
    return placed.code if placed is not None else None


def _checked(ctx: Context) -> str | None:
    """Say now, before asking to confirm, if the redemption would be refused: the same
    checks as the redemption itself (storage.rewards), read-only."""
    try:
        rewards.quote(
            _ledger(ctx), ctx.bound_member.id, ctx.slots["benefit"], ctx.slots["quantity"]
        )
    except LedgerError as refused:
        _refused(ctx, refused)
        return None
    return "confirm"


def _redeem(ctx: Context, key: str) -> rewards.Redeemed:
    return rewards.redeem(
        _ledger(ctx),
        ctx.bound_member.id,
        ctx.slots["benefit"],
        ctx.slots["quantity"],
        request_key=key,
    )


def _refused(ctx: Context, refused: LedgerError) -> None:
    ctx.outcome = "refused"
    benefit = _benefit(ctx, ctx.slots.get("benefit"))
    details = dict(refused.details)
    if "tiers" in details:
        details["tier"] = ctx.config.tier(details["tiers"][0]).label.get(ctx.lang)
    name = benefit.name(ctx.lang) if benefit else ctx.slots.get("benefit", "")
    key = f"redeem.refused.{refused.code}"
    if not catalogue.has(ctx.lang, key):
        key = "redeem.refused.other"
    ctx.say(key, name=name, **_defaults(details))
    if refused.code == "debt_outstanding":  # no reward can be redeemed: how to earn instead
        ctx.offer("redeem.how_to_earn", "ask_rules", entities={"topic": "earning"})
    else:
        more = "redeem.earn_more" if refused.code == "insufficient_points" else "redeem.see_others"
        ctx.offer(more, "list_benefits")
    _keep(ctx)


def _keep(ctx: Context) -> None:
    """A refused or dropped redemption keeps its benefit for `ok just 2 then`."""
    if "benefit" in ctx.slots:
        ctx.keep_to_amend("redeem_benefit", {"benefit": ctx.slots["benefit"]})


def _defaults(details: dict) -> dict:
    return {"needed": 0, "balance": 0, "stock": 0, "limit": 0, "used": 0, "tier": "", **details}


def ask_confirm(ctx: Context) -> None:
    benefit = _chosen(ctx)
    quantity = ctx.slots["quantity"]
    balance = views.balance(ctx.session, ctx.bound_member.id)
    cost = benefit.cost * quantity
    ctx.confirm(
        "redeem.confirm",
        quantity=quantity,
        name=benefit.name(ctx.lang),
        cost=cost,
        after=balance - cost,
    )


def got_confirm(ctx: Context) -> str | Reask | None:
    """Another quantity or benefit typed instead of yes or no (`make it two`, `change it to
    3`, `yes, 2 please`) changes the redemption, which is asked again."""
    if ctx.pressed_yes is None and ctx.answer is None:
        if _adding(ctx):
            return _adds(ctx)
        if _changes(ctx):
            return fill(ctx)
    confirmed = _confirmed(ctx)
    if ctx.outcome == "cancelled":
        _keep(ctx)
    return confirmed


# `再加一张免运费券` at "redeem 2 coffee vouchers?" replaced the coffee vouchers with it.
_ADDS = re.compile(r"再加|再来|还要|另外|加上|\b(?:also|as well|plus|another|on top)\b")


_ANOTHER = re.compile(r"\banother one\b", re.IGNORECASE)


def _adding(ctx: Context) -> bool:
    return _ADDS.search(answers.folded(ctx.text)) is not None


def _adds(ctx: Context) -> str | Reask | None:
    """More of the same adds to the quantity; another benefit waits for this one."""
    code = ctx.entity("benefit")
    if code and code != ctx.slots.get("benefit") and (other := _benefit(ctx, code)):
        return ctx.reask(
            "redeem.one_at_a_time",
            heard=True,
            name=_chosen(ctx).name(ctx.lang),
            other=other.name(ctx.lang),
        )
    more = answers.quantity(ctx.entity("quantity")) or (
        1 if _ANOTHER.search(ctx.text or "") else None
    )
    if not more:  # `yes, and also how long are they valid?` adds nothing
        return _confirmed(ctx)
    ctx.set_slot("quantity", ctx.slots["quantity"] + more)
    ctx.state.confirmation = None
    return _checked(ctx)


@confirmation(dropped="redeem.dropped")
def _confirmed(ctx: Context) -> str | None:
    try:
        done = _redeem(ctx, key=ctx.confirmation_key())
    except LedgerError as refused:  # stock or points went between confirming and now
        _refused(ctx, refused)
        return None
    benefit = _chosen(ctx)
    codes = "\n".join(
        ctx.t("redeem.code_line", code=v.code, until=ctx.last_day(v.expires_at))
        for v in done.vouchers
    )
    ctx.say(
        "redeem.done",
        name=benefit.name(ctx.lang),
        count=done.redemption.quantity,
        points=done.redemption.points,
        codes=codes,
        balance=views.balance(ctx.session, ctx.bound_member.id),
    )
    # `点错了`, `undo` next: what taking a redemption back means, and a person.
    ctx.offered = {
        "intent": "ask_rules",
        "entities": {"topic": "returning"},
        "by_yes": False,
        "undo": True,
    }
    return None


REDEEM = Form(
    name="redeem",
    intent="redeem_benefit",
    begin=begin,
    fill=fill,
    states={
        "benefit": State(ask_benefit, got_benefit),
        "confirm": State(ask_confirm, got_confirm, takes=_adding),
    },
    leaves=_keep,
)
