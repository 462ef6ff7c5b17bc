"""The member's own data: erasing it on request, after a confirmation, and unbinding this
one chat (a lighter request: the membership and other chats stay). Flow diagram:
handlers/conversation/privacy.md."""

from __future__ import annotations

from handlers.conversation.context import Context
from handlers.conversation.forms import Form, State, asked_plainly, confirmation
from handlers.desk import tickets
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


# Said in so many words: unlinking at once. Anything else the NLU read as unlinking
# (`unlink 是什么`, `解绑了怎么重新绑`, `who can unlink my account`) is asked first: an
# unlinked chat must be linked again, with a code, before it shows the points.
UNLINK_WORDS = frozenset(
    {"解绑", "解除绑定", "取消绑定", "unlink", "/unlink", "unlink my account", "unbind"}
)


def unlink_begin(ctx: Context) -> str | None:
    if ctx.member is None:
        ctx.say("unlink.not_bound")
        return None
    if asked_plainly(ctx, UNLINK_WORDS):
        _unlink(ctx)
        return None
    return "confirm"


def ask_unlink(ctx: Context) -> None:
    ctx.confirm("unlink.confirm", member_no=ctx.bound_member.member_no)


@confirmation(dropped="unlink.dropped", words=UNLINK_WORDS)
def got_unlink(ctx: Context) -> None:
    _unlink(ctx)
    return None


def _unlink(ctx: Context) -> None:
    member = ctx.bound_member
    tickets.chat_unlinked(ctx.session, member, ctx.identity)
    if ctx.state.owner == "staff":  # the person was the member's: this chat is the bot's now
        ctx.state.owner, ctx.state.ticket_id = "bot", None
    member_no = member.member_no
    ctx.identity.member_id, ctx.identity.member, ctx.member = None, None, None
    ctx.say("unlink.done", member_no=member_no)


UNLINK = Form(
    name="unlink_account",
    intent="unlink_account",
    begin=unlink_begin,
    states={"confirm": State(ask_unlink, got_unlink)},
)
