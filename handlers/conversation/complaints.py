"""Complaints, ticket status and hand-off to a person: the conversation side of tickets.
The rules (priority, deadlines, numbers) are in handlers/desk/tickets.py and core/ticket_rules.py.
Flow diagram: handlers/conversation/complaints.md."""

from __future__ import annotations

import re

from sqlalchemy import select

from core import catalogue, payloads
from handlers.conversation import answers, ticket_talk
from handlers.conversation.context import Context, Reask
from handlers.conversation.forms import Form, State, confirmation
from handlers.desk import tickets
from nlu.understanding import FALLBACK
from storage.models import Ticket

COMPLAINT_INTENT = "file_complaint"
SUMMARY_CHARS = 80
SKIP = "skip"
ORDER_COMING = "order_coming"  # the member said they have an order number
# Typed instead of pressing "no order number".
SKIP_WORDS = frozenset(
    {
        "跳过",
        "无",
        "没有",
        "没有订单号",
        "没订单号",
        "skip",
        "none",
        "no",
        "n/a",
        "no order",
    }
)
SAID_KEPT = 10  # what the member said in the form, kept for staff if it ends unfinished
SLOTS = ("description", "category", "order_id")


def _categories(ctx: Context) -> list[str]:
    return ctx.config.complaints.categories


def _said(ctx: Context) -> str:
    """What this message gives the form: its text, and a trouble told just before the form
    (`smalltalk.out_of_scope`'s offer, accepted), which names a category or an order too."""
    return "\n".join(text for text in (ctx.entity("description"), ctx.text) if text)


def _category(ctx: Context, text: str | None = None) -> str | None:
    """The category the message names (`text`: this text alone, not what came before)."""
    said = _said(ctx) if text is None else text
    return answers.complaint_category(said, _categories(ctx), ctx.entity("complaint_category"))


def _order(ctx: Context, asked: bool = False) -> str | None:
    pattern = ctx.config.complaints.order_id_pattern
    return answers.order_id(_said(ctx), pattern, ctx.entity("order_id"), asked)


def _heard(ctx: Context) -> None:
    """Every message of the form is kept, so an unfinished complaint loses nothing."""
    text = (ctx.text or "").strip()
    if text:
        ctx.set_slot("said", [*ctx.slots.get("said", []), text][-SAID_KEPT:])


def _take(ctx: Context, asked: str | None = None) -> None:
    """Fill every slot still missing that this message gives; the slot `asked` for reads
    the reply whole ("ab12cd34ef" answers "what is the order number?")."""
    _heard(ctx)
    if "description" not in ctx.slots and (told := ctx.entity("description")):
        ctx.set_slot("description", told)  # told before the form, kept by an accepted offer
    if "category" not in ctx.slots and (category := _category(ctx)):
        ctx.set_slot("category", category)
    if "order_id" not in ctx.slots and (order := _order(ctx, asked == "order_id")):
        ctx.set_slot("order_id", order)
    elif "order_id" not in ctx.slots and _NO_ORDER_AFTER_ALL.search(answers.folded(ctx.text)):
        ctx.set_slot("order_id", "")  # `…是在店里买的没有订单号`: the question is answered


# The words of a bare request for the form: `我要投诉`, `i'd like to file a complaint`.
_REQUEST_WORDS = (
    "i i'd id i'm im want wanna would like to a an the please pls plz can could may let me need"
    " make file lodge raise submit open start put in have got complaint complaints complain"
    " complaining about something you your guys how do formal thanks thank thx ty"
)
_ASKING_TO_COMPLAIN = re.compile(
    r"我们|我|你们|你|要|想|请|帮忙|帮|一下|一个|个|吧|啊|呀|哦|了|的|能|可以|怎么|点样|给|投诉|提交|发起"
    r"|谢谢|多谢|唔该"  # `我要投诉，谢谢` read as thanks
    rf"|\b(?:{'|'.join(sorted(_REQUEST_WORDS.split(), key=len, reverse=True))})\b"  # i'd before i
)


def asks_only_to_complain(text: str | None) -> bool:
    """Nothing but a request for the form, which says nothing of what went wrong."""
    return re.search(r"\w", _ASKING_TO_COMPLAIN.sub(" ", answers.folded(text))) is None


_WANTS_TO_COMPLAIN = re.compile(
    r"(?:要|想|怎么|点样|如何|怎样|能|可以|帮我)\s*(?:投诉|客诉)"
    r"|\b(?:want to|wanna|would like to|i'd like to|id like to|how (?:do|can|to)(?: i)?|can i"
    r"|need to|let me|have to|how do you)\s+(?:make |file |lodge |raise |submit |put in |send )?"
    r"(?:a |an )?(?:formal )?complain(?:t)?\b|\bi have a complaint\b"
)


def asks_to_complain(text: str | None) -> bool:
    """A bare request to complain (`我想投诉`, `怎么投诉`, `how do I complain`), which the NLU
    read as asking after a ticket, or fell back on; `我的投诉` asks after one."""
    return asks_only_to_complain(text) and bool(_WANTS_TO_COMPLAIN.search(answers.folded(text)))


def describes(ctx: Context) -> bool:
    """A description, not only "我要投诉" or another request: read as a complaint and more
    than the request ("the staff laughed at me"), long enough, or it says what went wrong
    ("积分没到账", not "兑换咖啡券" or "我还有多少积分")."""
    text = (ctx.text or "").strip()
    understood = ctx.understood
    if (
        understood.typed
        and understood.intent == COMPLAINT_INTENT
        and not asks_only_to_complain(text)
    ):
        return True
    if answers.long_text(text):
        return True
    if answers.is_question(text):
        return False
    return _category(ctx, text) is not None and answers.says_something_is_wrong(text)


def tells_more(ctx: Context, at_summary: bool = False) -> bool:
    """More of the trouble, told where the form asked for something else: `11月20日那笔只给
    了280分，应该是560分` at "which order?", or which order it was by its day or amount when
    the member has no number at hand (`就是11月5号那单，金额199元`). A long statement, or one
    with a date or an amount, that is no confident other request; a complaint reading is
    filled as the form's own intent, a question is answered aside."""
    text = (ctx.text or "").strip()
    if answers.is_question(text) or asks_only_to_complain(text):
        return False
    if at_summary:
        # At the summary any detail that is no yes, no or "wait" is more of the trouble:
        # `大概下午三点左右`, `I have photos`, `仲有個盒爛咗` were "please tap Confirm or Cancel".
        if ctx.yes_no() is not None or answers.not_yet(text) or not any(c.isalpha() for c in text):
            return False
    elif not (answers.long_text(text) or ctx.entity("date") or ctx.entity("amount")):
        return False
    understood = ctx.understood
    return understood.intent in (COMPLAINT_INTENT, FALLBACK, "out_of_scope") or not (
        understood.confident(ctx.config.nlu.digression_threshold)
    )


def _keep_more(ctx: Context) -> None:
    """The message joins the description; a step that asked something else says so before
    it asks again, or the member would think it unheard."""
    text, before = (ctx.text or "").strip(), ctx.slots.get("description")
    ctx.set_slot("description", f"{before}\n{text}" if before else text)
    if before and ctx.state.step in ("category", "order", "confirm"):
        ctx.say("complaint.noted")


def fill(ctx: Context) -> str:
    """From the first message, and from any later one of the same intent."""
    if ctx.state.step == "confirm" and _correct(ctx):
        return "confirm"
    _take(ctx)
    if (ctx.text or "").strip() and describes(ctx):
        _keep_more(ctx)
    return _next(ctx)


def _next(ctx: Context) -> str:
    for slot, state in (("description", "description"), ("category", "category")):
        if slot not in ctx.slots:
            return state
    return "order" if "order_id" not in ctx.slots else "confirm"


def ask_description(ctx: Context) -> None:
    ctx.say("complaint.ask_description")


def got_description(ctx: Context) -> str | Reask:
    text = (ctx.text or "").strip()
    # A bare yes or no (`是的`, `ok`) answers nothing asked here: filed, it told staff nothing.
    if len(text) < 2 or answers.yes_or_no(text) is not None:
        return ctx.reask("complaint.too_short")
    ctx.set_slot("description", text)
    _take(ctx)
    return _next(ctx)


def ask_category(ctx: Context) -> None:
    ctx.say(
        "complaint.ask_category",
        *(ctx.button(f"complaint.category.{c}", payloads.answer(c)) for c in _categories(ctx)),
    )


def got_category(ctx: Context) -> str | Reask:
    typed = next((c for c in _categories(ctx) if ctx.typed(f"complaint.category.{c}")), None)
    chosen = ctx.answer or typed or _category(ctx)
    _take(ctx)
    if chosen not in _categories(ctx):
        if tells_more(ctx):
            _keep_more(ctx)
            return "category"
        return ctx.reask("complaint.pick_category")
    ctx.set_slot("category", chosen)
    return _next(ctx)


def ask_order(ctx: Context) -> None:
    key = "complaint.send_order" if ctx.slots.get(ORDER_COMING) else "complaint.ask_order"
    ctx.say(key, ctx.button("complaint.no_order", payloads.answer(SKIP)))


def _no_order(ctx: Context) -> bool:
    return answers.said(ctx.text, SKIP_WORDS) or ctx.typed("complaint.no_order")


def answers_order(ctx: Context) -> bool:
    """An order number or "no order number", however the NLU reads it."""
    return _no_order(ctx) or _order(ctx, asked=True) is not None


def got_order(ctx: Context) -> str | Reask:
    _take(ctx, asked="order_id")
    if "order_id" in ctx.slots:
        if _says_more_than_the_order(ctx):  # `订单A20261102的咖啡机插上电就跳闸，赶紧给我退钱`
            _keep_more(ctx)
        return _next(ctx)
    # A "no" means no order number; `不投诉了` (cancel) drops the complaint instead, as a
    # digression once the step has not taken it.
    if _looking_it_up(ctx):
        return ctx.reask("complaint.order_later", heard=True)
    # "Do you have an order number?" answered `好的` or `yes I do`: ask for the number itself
    # (it was told "that is no order number"); a second yes is no answer.
    if not ctx.slots.get(ORDER_COMING) and ctx.yes_no() is True and not answers.long_text(ctx.text):
        ctx.set_slot(ORDER_COMING, True)
        return "order"
    if ctx.answer == SKIP or _no_order(ctx) or (ctx.yes_no() is False and not _cancels(ctx)):
        ctx.set_slot("order_id", "")
        return _next(ctx)
    if tells_more(ctx):
        _keep_more(ctx)
        return "order"
    return ctx.reask("complaint.bad_order")


# What a reply to "which order?" may say around its answer without telling anything more:
# `好的，我的订单号是 A20261104，谢谢`, `it's order no. SO-2026-88123` (a request to complain,
# `我要投诉，订单号A20261103`, is stripped by asks_only_to_complain).
_ORDER_TALK = re.compile(
    r"订单(?:号码|编号|号)?|单号|交易(?:单)?号|小票(?:号码|号)?|号码|编号|就是|这个|是|为|嗯|哦|噢"
    r"|好的|好|谢谢|麻烦|在这|这里|发你|给你"
    r"|\b(?:it's|its|it|is|was|here's|here|this|that|one|my|order|number|no|num|id|ref|reference"
    r"|receipt|ok|okay|sure|yes|yeah|yep|thanks|thank|thx|um|oh|so|sorry)\b"
)


def _says_more_than_the_order(ctx: Context) -> bool:
    """The answer to "which order?" (its number, or none after all) tells more besides: the
    rest joins the description, as at the other steps, instead of being dropped."""
    said = answers.folded(ctx.text)
    if order := ctx.slots["order_id"]:
        said = said.replace(order.lower(), " ")
    rest = _ORDER_TALK.sub(" ", _NO_ORDER_AFTER_ALL.sub(" ", said))
    return not asks_only_to_complain(rest)


# `等下，我先查下订单号`, `hold on, let me find it`: the number is coming. Read as a "no"
# (the NLU's deny, the confirmations' "wait") it was filed as having no order number.
_LOOKING_IT_UP = re.compile(
    r"等一?下|稍等|等等|我(?:先|去)?(?:查|找|翻)|找一?找|查一?查"
    r"|\b(?:hold on|wait|one (?:sec|second|moment)|give me a (?:sec|second|minute|moment)"
    r"|let me (?:check|find|look)|(?:checking|looking for it))\b"
)


def _looking_it_up(ctx: Context) -> bool:
    return ctx.answer is None and _LOOKING_IT_UP.search(answers.folded(ctx.text)) is not None


def _cancels(ctx: Context) -> bool:
    understood = ctx.understood
    return understood.intent == "cancel" and understood.confident(
        ctx.config.nlu.digression_threshold
    )


def ask_confirm(ctx: Context) -> None:
    description = ctx.slots["description"]
    if len(description) > SUMMARY_CHARS:
        description = description[:SUMMARY_CHARS] + "…"
    ctx.confirm(
        "complaint.confirm",
        category=ctx.t(f"complaint.category.{ctx.slots['category']}"),
        description=description,
        order=ctx.slots["order_id"] or "-",
    )


def got_confirm(ctx: Context) -> str | Reask | None:
    """A typed category or order number corrects the summary, which is shown again;
    otherwise yes files the complaint and no drops it."""
    if ctx.pressed_yes is None and ctx.answer is None:
        if _correct(ctx):
            return "confirm"
        if wrong := _says_wrong(ctx.text):
            return _ask_again(ctx, wrong)
        if _asks_the_categories(ctx):
            return "category"
        if tells_more(ctx, at_summary=True):  # `仲有佢哋收銀嗰個仲鬧我`: more, shown again
            _keep_more(ctx)
            return "confirm"
    return _file_confirmed(ctx)


_THE_CATEGORIES = re.compile(
    r"(?:哪些|什么|几种|有啥|哪几)\S{0,3}(?:类型|类别|分类)|\b(?:types|categories)\b"
)


def _asks_the_categories(ctx: Context) -> bool:
    """`what types are there?` at the summary: the categories are shown to pick from."""
    return _THE_CATEGORIES.search(answers.folded(ctx.text)) is not None


# "The order number is wrong", "其实没有订单号", "类型不对" at the summary, which invites
# corrections: read as a no, they dropped the complaint. No order number said in passing
# answers the order question before it is asked.
_NO_ORDER_AFTER_ALL = re.compile(r"没有?(?:订单号|订单|单号)|\bno order(?: number| no\.?)?\b")
_WRONG = {
    "order_id": re.compile(
        r"(?:订单号?|单号)[^,.!?]{0,4}(?:不对|错了|有误|写错|不是这个)"
        r"|\b(?:wrong|incorrect) order\b|\border(?: number| no\.?)? (?:is |was |'s )?(?:wrong|incorrect)\b"
    ),
    "category": re.compile(
        r"(?:类型|类别|分类)[^,.!?]{0,4}(?:不对|错了|选错|有误|不是这个)"
        r"|\b(?:wrong|incorrect) (?:category|type)\b|\b(?:category|type) (?:is |was |'s )?(?:wrong|incorrect)\b"
    ),
}


def _says_wrong(text: str | None) -> str | None:
    said = answers.folded(text)
    if _NO_ORDER_AFTER_ALL.search(said):
        return "no_order"
    return next((slot for slot, wrong in _WRONG.items() if wrong.search(said)), None)


def _ask_again(ctx: Context, wrong: str) -> str:
    """The slot said to be wrong is asked again; "no order number after all" clears it."""
    if wrong == "no_order":
        ctx.set_slot("order_id", "")
        ctx.say("complaint.corrected")
        return "confirm"
    ctx.state.slots = {
        name: v for name, v in ctx.slots.items() if name not in (wrong, ORDER_COMING)
    }
    return "order" if wrong == "order_id" else "category"


# `it's a damaged item not late delivery`, `不是配送的问题`: the category not meant.
_NEGATED = re.compile(r"(?:\bnot\b|\bisn'?t\b|\bwasn'?t\b|不是|并非|而非)[^,.;!?，。；！？]{0,24}")
_NAMES_A_CATEGORY = re.compile(
    r"类型|类别|分类|问题是|\b(?:category|type|kind)\b"
    # What it was "really" about: `其实是质量问题，买的杯子裂了`, `actually it was about a
    # wrong charge on my bill` (both joined the description and kept the type).
    r"|其实是|实际上是|应该是|\bactually (?:it'?s|it was|about|is)\b|\bit(?:'s| was) (?:actually|really)\b"
)


def _named_category(ctx: Context) -> str | None:
    """The category the member names at the summary: its label (`服务态度`, `late
    delivery`), or what they describe after saying it is the type (`the type is wrong, it's
    a damaged item`). Details added (`还有 客服电话打了三次都没人接`) name none: they join
    the description."""
    said = _NEGATED.sub(" ", answers.folded(ctx.text))
    for category in _categories(ctx):
        labels = (
            catalogue.text(lang, f"complaint.category.{category}") for lang in catalogue.LANGUAGES
        )
        if any(answers.folded(label) in said for label in labels):
            return category
    if _NAMES_A_CATEGORY.search(said):
        return answers.complaint_category(said, _categories(ctx))
    return None


def _correct(ctx: Context) -> bool:
    """A category named in words ("是服务态度的问题"), not the classifier's guess on any
    reply, or another order number, replaces what was understood."""
    _heard(ctx)
    category = _named_category(ctx)
    order = _order(ctx)
    corrected = False
    if category and category != ctx.slots["category"]:
        ctx.set_slot("category", category)
        corrected = True
    if order and order != ctx.slots["order_id"]:
        ctx.set_slot("order_id", order)
        corrected = True
    if corrected:
        ctx.say("complaint.corrected")
    return corrected


@confirmation(dropped="complaint.dropped", waits=True)
def _file_confirmed(ctx: Context) -> str | None:
    ctx.confirmation_key()  # remembered as done: a second press says so, opens nothing
    ticket = _file(ctx, ctx.slots["category"], ctx.slots["description"])
    ctx.say("complaint.opened", number=ticket.number, due=ctx.when(ticket.first_response_due))
    if ticket.urgent:
        ctx.say("complaint.urgent")
    return None


def _file(ctx: Context, category: str, description: str) -> Ticket:
    return tickets.open_ticket(
        ctx.session,
        ctx.config,
        kind="complaint",
        category=category,
        description=description,
        order_id=ctx.slots.get("order_id"),
        at=ctx.now,
        member=ctx.member,
        identity=ctx.identity,
    )


def give_up(ctx: Context) -> None:
    """The re-ask limit: file the complaint with what is known, the rest marked for staff,
    rather than drop what the member took the trouble to say."""
    missing = [slot for slot in SLOTS if slot not in ctx.slots]
    said = "\n".join(ctx.slots.get("said", []))
    ticket = _file(ctx, ctx.slots.get("category", "other"), ctx.slots.get("description") or said)
    tickets.mark_missing(ctx.session, ticket, missing, ctx.now)
    ctx.outcome = "filed_incomplete"
    ctx.say(
        "complaint.filed_incomplete",
        number=ticket.number,
        due=ctx.when(ticket.first_response_due),
        missing=ctx.t("list.separator").join(ctx.t(f"complaint.slot.{m}") for m in missing),
    )


# `都过了一天了还没人联系我` with a complaint open chases it: filed again, it made a second
# ticket for the same trouble.
_CHASES = re.compile(
    r"(?:还|都)?没(?:有)?人(?:联系|回复?|理|打电话|处理)|还没(?:有)?(?:回复|回音|消息|处理|联系)"
    r"|催(?:一下|一催|下|促|办)?|怎么还没(?:处理|回复|联系)"
    r"|\b(?:nobody|no one|no-one)(?: has)? (?:called|contacted|replied|answered|got back|rang)\b"
    r"|\b(?:still waiting|haven't heard back|havent heard back|not heard back|any update|chase)\b"
)


# `补充一下，杯子颜色也发错了`, `one more thing about my complaint`: more for a complaint
# already filed, which started a second one.
_ADDS_TO = re.compile(
    r"补充|追加|\b(?:add(?:ing)? (?:this |that |more )?to (?:my|the) (?:complaint|ticket)"
    r"|one more thing|forgot to (?:say|mention)|more (?:details|info) (?:for|on|about))\b"
)


def _open_complaint(ctx: Context) -> Ticket | None:
    """The member's open complaint a message names (`T000001`), else their latest."""
    open_ones = [
        t
        for t in tickets.for_member(ctx.session, ctx.member, ctx.identity)
        if t.kind == "complaint"
    ]
    named = (ctx.entity("ticket_id") or "").upper()
    if named:
        return next((t for t in open_ones if t.number == named), None)
    return open_ones[0] if open_ones else None


def adds_to_a_ticket(ctx: Context) -> bool:
    """More for an open complaint (the one named, else the latest) goes on it: True when
    said there."""
    if not _ADDS_TO.search(answers.folded(ctx.text)):
        return False
    ticket = _open_complaint(ctx)
    if ticket is None:
        return False
    tickets.add_member_message(ctx.session, ticket, ctx.text or "", ctx.now)
    ctx.handler, ctx.outcome = "ticket.added", "to_ticket"
    ctx.say("complaint.added_to", number=ticket.number)
    return True


def begin(ctx: Context) -> str | None:
    """A chase of an open complaint, or more for it, is said to its ticket (staff see it
    there); anything else starts the form."""
    if adds_to_a_ticket(ctx):
        return None
    if _CHASES.search(answers.folded(ctx.text)) and (complaint := _open_complaint(ctx)):
        tickets.add_member_message(ctx.session, complaint, ctx.text or "", ctx.now)
        ctx.outcome = "to_ticket"
        due = ticket_talk.promised(complaint)
        late = "complaint.chased_late" if due < ctx.now else "complaint.chased"
        ctx.say(late, number=complaint.number, due=ctx.when(due))
        return None
    return fill(ctx)


_DROPS = re.compile(
    r"不(?:想|用|要)?投诉了|不投诉|\b(?:don't|dont|do not) (?:want to |need to )?complain\b"
    r"|\bforget (?:about )?the complaint\b|\bno (?:more )?complaint\b"
)


def drops(text: str | None) -> str | None:
    said = answers.folded(text)
    found = _DROPS.search(said)
    return said[found.end() :] if found else None


COMPLAINT = Form(
    name="complaint",
    intent=COMPLAINT_INTENT,
    begin=begin,
    drops=drops,
    fill=fill,
    give_up=give_up,
    states={
        "description": State(ask_description, got_description, free_text=True, takes=describes),
        "category": State(ask_category, got_category),
        "order": State(ask_order, got_order, takes=answers_order),
        "confirm": State(
            ask_confirm,
            got_confirm,
            takes=lambda ctx: bool(_says_wrong(ctx.text)) or _asks_the_categories(ctx),
        ),
    },
)


# -- ticket status -----------------------------------------------------------------------


def ticket_status(ctx: Context) -> None:
    if adds_to_a_ticket(ctx):  # `是补充刚才T000001那个`
        return
    wanted = (ctx.entity("ticket_id") or "").upper()
    if wanted:
        ticket = ctx.session.scalar(select(Ticket).where(Ticket.number == wanted))
        if ticket is None or not (
            ticket.identity_id == ctx.identity.id
            or (ctx.member is not None and ticket.member_id == ctx.member.id)
        ):
            ctx.say("ticket.not_found", number=wanted)
            return
        ticket_talk.describe(ctx, ticket)
        return
    open_ones = tickets.for_member(ctx.session, ctx.member, ctx.identity)
    if open_ones:
        for ticket in open_ones:
            ticket_talk.describe(ctx, ticket)
        return
    # `is my complaint resolved?` just after it was: "no open tickets" read as "none".
    last = tickets.for_member(ctx.session, ctx.member, ctx.identity, open_only=False, limit=1)
    ctx.say("ticket.none_open")
    if last:
        ticket_talk.describe(ctx, last[0])


# -- a person ----------------------------------------------------------------------------


def handoff(ctx: Context) -> None:
    """The member asked for a person: no confirmation, since asking is the decision,
    and a member who wants a person should not be made to click twice."""
    if ctx.state.owner == "staff":
        still_waiting(ctx)
        return
    said = ctx.text or ctx.t("handoff.asked")
    ticket = tickets.open_handoff(
        ctx.session, ctx.config, ctx.state, ctx.identity, ctx.member, said, ctx.now
    )
    ctx.outcome = "handoff"
    ctx.say("handoff.started", number=ticket.number, due=ctx.when(ticket.first_response_due))


def still_waiting(ctx: Context) -> None:
    ctx.outcome = "handoff"
    if ctx.state.ticket_id is None:
        raise RuntimeError(f"chat {ctx.identity.id} is with staff but has no ticket")
    ticket = ctx.session.get_one(Ticket, ctx.state.ticket_id)
    ctx.say("handoff.waiting", number=ticket.number, due=ctx.when(ticket.first_response_due))
