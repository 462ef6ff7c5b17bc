"""The member's own data: erasing it on request, after a confirmation, and unbinding this
one chat (a lighter request: the membership and other chats stay). Flow diagram:
handlers/conversation/privacy.md."""

from __future__ import annotations

from handlers.conversation.context import Context
from handlers.conversation.forms import Form, State, confirmation
from handlers.desk.erasure import erase_personal_data


def erase_begin(ctx: Context) -> str:
    return "confirm"


def ask_erase(ctx: Context) -> None:
    ctx.confirm("erasure.confirm")


@confirmation(dropped="erasure.dropped", undoable=False)
def got_erase(ctx: Context) -> None:
    ctx.confirmation_key()
    erase_personal_data(ctx.session, ctx.bound_member, f"chat:{ctx.identity.channel}", ctx.now)
    ctx.member = None
    ctx.say("erasure.done")
    return None


ERASE = Form(
    name="erase_data",
    intent="erase_data",
    begin=erase_begin,
    states={"confirm": State(ask_erase, got_erase)},
)


def unlink(ctx: Context) -> None:
    if ctx.member is None:
        ctx.say("unlink.not_bound")
        return
    member_no = ctx.member.member_no
    ctx.identity.member_id, ctx.identity.member, ctx.member = None, None, None
    ctx.say("unlink.done", member_no=member_no)
