"""Routing: which handler answers which intent, in one table.

A route runs a function that answers at once, or starts a form (a multi-turn flow).
`needs_member`: an unbound chat is offered binding or registration first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.conversation import (
    answers,
    benefits,
    binding,
    complaints,
    points,
    privacy,
    profile,
    register,
    rules,
    smalltalk,
    ticket_talk,
    vouchers,
)
from handlers.conversation.forms import Form
from handlers.desk import ticket_lifecycle


@dataclass(frozen=True)
class Route:
    run: Callable | Form
    needs_member: bool = False


ROUTES: dict[str, Route] = {
    "greet": Route(smalltalk.greet),
    "goodbye": Route(smalltalk.goodbye),
    "thanks": Route(smalltalk.thanks),
    "affirm": Route(smalltalk.stray_answer),
    "deny": Route(smalltalk.stray_answer),
    "help": Route(smalltalk.help),
    "out_of_scope": Route(smalltalk.out_of_scope),
    "cancel": Route(smalltalk.help),  # handled as the global word; listed so it is routable
    "set_language": Route(smalltalk.help),  # handled by the engine; listed so it is routable
    "check_points": Route(points.check_points, needs_member=True),
    "points_history": Route(points.history, needs_member=True),
    "tier_info": Route(points.tier_info, needs_member=True),
    "list_benefits": Route(benefits.list_benefits, needs_member=True),
    "redeem_benefit": Route(benefits.REDEEM, needs_member=True),
    "my_vouchers": Route(vouchers.my_vouchers, needs_member=True),
    "extend_voucher": Route(vouchers.EXTEND, needs_member=True),
    "membership_status": Route(profile.membership_status, needs_member=True),
    "update_profile": Route(profile.UPDATE, needs_member=True),
    "unsubscribe": Route(profile.unsubscribe),
    "subscribe": Route(profile.SUBSCRIBE, needs_member=True),
    "bind_account": Route(binding.BIND),
    "register": Route(register.REGISTER),
    "unlink_account": Route(privacy.UNLINK),
    "erase_data": Route(privacy.ERASE, needs_member=True),
    "ask_rules": Route(rules.ask_rules),
    "file_complaint": Route(complaints.COMPLAINT),
    "ticket_status": Route(complaints.ticket_status),
    "human_handoff": Route(complaints.handoff),
    "rate_ticket": Route(ticket_lifecycle.on_rating_button),  # from a button only
    "rate_service": Route(ticket_talk.nothing_to_rate),  # a pending rating is taken before
}

# Intents the NLU may confuse, told apart by what the member typed: (test, the intent).
REFINED: dict[str, tuple[tuple[Callable[[str | None], bool], str], ...]] = {
    "my_vouchers": ((vouchers.asks_extension, "extend_voucher"),),
    "file_complaint": (
        (points.asks_where_points_went, "points_history"),
        (answers.praises, "thanks"),
    ),
    "bind_account": ((answers.tells_of_an_order_gone_wrong, "file_complaint"),),
    "human_handoff": ((answers.asks_if_staff_answered, "ticket_status"),),
}

FORMS: dict[str, Form] = {
    route.run.name: route.run for route in ROUTES.values() if isinstance(route.run, Form)
}
