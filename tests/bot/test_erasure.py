"""Erasure proven on the database itself: a member binds on WeChat, talks to a person
about a parcel (a ticket with a transcript, a staff reply in the outbox), then the data is
erased (by an admin, or by the member in the chat). Afterwards no text or JSON column of
any table holds the member's name, phone, birthday, openid or words; the points and the
ticket remain."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import JSON, String, Text, cast, or_, select

from handlers.desk import compensation, erasure, purchases
from handlers.desk import ticket_lifecycle as lifecycle
from handlers.desk.purchases import Purchase
from handlers.desk.ticket_lifecycle import Actor
from storage.members import by_number, by_phone
from storage.models import (
    Base,
    ChatIdentity,
    OutboundMessage,
    PointsAccount,
    Ticket,
    TicketEvent,
)
from tests.bot.conftest import SEEDED_AT
from tests.bot.script import Script

OPENID = "oWx3-lina-openid-7788"
ADDRESS = "幸福路88号"
BOB = Actor("bob", "agent")
PERSONAL = ["李娜", "13800000003", "1995-02-14", OPENID, ADDRESS]


def traces(database, values: list[str]) -> list[str]:
    """Every table.column whose text (JSON included, as stored) contains one of `values`."""
    spelled = {v for value in values for v in (value, json.dumps(value)[1:-1])}
    found = []
    with database.unit_of_work(write=False) as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                text = cast(column, Text)
                hits = session.scalars(
                    select(text).where(or_(*(text.contains(v) for v in spelled)))
                ).all()
                found += [f"{table.name}.{column.name}: {hit}" for hit in hits]
    return found


def talk_to_a_person(database, config, parser) -> Script:
    chat = Script(database, config, parser, user=OPENID, at=SEEDED_AT, channel="wechat")
    for said in (
        "绑定会员",
        "13800000003",
        "1995-02-14",
        "转人工",
        f"我住在{ADDRESS}，包裹三天没到",
    ):
        chat.run({"say": said}, said)
    with database.unit_of_work(write=False) as session:
        number = session.scalar(select(Ticket.number))
    lifecycle.reply(
        database,
        config,
        {},
        number,
        f"李娜您好，{ADDRESS}的包裹已加急",
        Actor("bob", "agent"),
        SEEDED_AT + timedelta(minutes=5),
    )
    assert traces(database, PERSONAL)  # the test would prove nothing otherwise
    return chat


def erased_by_an_admin(database, chat):
    erasure.erase(database, "M000003", Actor("ada", "admin"), SEEDED_AT + timedelta(hours=1))


def erased_in_the_chat(database, chat):
    chat.run({"say": "菜单"}, "back to the bot")
    chat.run({"say": "请删除我的个人数据", "intent": "erase_data"}, "ask")
    chat.run({"press": "确认", "replies": ["您的个人数据已删除"]}, "confirm")


@pytest.mark.parametrize("erase", [erased_by_an_admin, erased_in_the_chat])
def test_no_personal_field_survives_anywhere_in_the_database(db, config, parser, seeded, erase):
    database = seeded(db)
    with database.unit_of_work() as session:
        balance_before = session.get(PointsAccount, by_number(session, "M000003").id).balance
    chat = talk_to_a_person(database, config, parser)

    erase(database, chat)

    assert traces(database, PERSONAL) == []
    with database.unit_of_work(write=False) as session:
        member = by_number(session, "M000003")
        assert member.erased_at is not None and member.phone is None
        assert session.get(PointsAccount, member.id).balance == balance_before
        ticket = session.scalar(select(Ticket))
        assert ticket.member_id == member.id and ticket.number.startswith("T")
        assert (
            session.scalar(select(ChatIdentity).where(ChatIdentity.member_id == member.id)) is None
        )


@pytest.mark.parametrize("erase", [erased_by_an_admin, erased_in_the_chat])
def test_erasure_closes_the_open_ticket_and_nothing_more_goes_to_the_member(
    db, config, parser, seeded, erase
):
    database = seeded(db)
    chat = talk_to_a_person(database, config, parser)

    erase(database, chat)

    later = SEEDED_AT + timedelta(hours=2)
    with database.unit_of_work(write=False) as session:
        ticket = session.scalar(select(Ticket))
        number, ticket_id = ticket.number, ticket.id
        closing = session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "status").order_by(TicketEvent.id)
        ).all()[-1]
        assert ticket.status == "closed"
        assert closing.body == "closed: the member's personal data was erased"
        sent_before = {(o.id, o.status) for o in session.scalars(select(OutboundMessage))}
        assert {status for _, status in sent_before} <= {"cancelled", "sent", "failed"}
    for act in (
        lambda: lifecycle.reply(database, config, {}, number, "李娜您好", BOB, later),
        lambda: lifecycle.reopen(database, config, number, BOB, later),
        lambda: compensation.propose(database, config, {}, number, 50, "x", BOB, later),
    ):
        with pytest.raises(lifecycle.TicketError) as refused:
            act()
        assert refused.value.code == "erased"
    with database.unit_of_work(write=False) as session:
        assert {(o.id, o.status) for o in session.scalars(select(OutboundMessage))} == sent_before
        assert session.get(Ticket, ticket_id).status == "closed"


def joining(database, config, parser, user: str, phone: str, at) -> Script:
    """A new member in the registration form, asked who referred them."""
    chat = Script(database, config, parser, user=user, at=at, channel="wechat")
    for said in ("我想加入会员", "好的", "赵敏", phone, "19900102", "愿意"):
        chat.run({"say": said}, said)
    return chat


def first_purchase(database, config, phone: str, order_id: str, at) -> None:
    with database.unit_of_work(write=False) as session:
        member_no = by_phone(session, phone).member_no
    purchase = Purchase(order_id=order_id, member_no=member_no, amount=Decimal("300"))
    purchases.post(database, config, purchase, "pos", at)


def test_an_erased_member_is_no_referrer_and_no_referral_is_ever_paid_to_them(
    db, config, parser, seeded
):
    database = seeded(db)
    # named as referrer while still a member, who then asks for erasure
    early = joining(database, config, parser, "wx-early", "13912345672", SEEDED_AT)
    early.run({"say": "M000002", "check": {"referrer": "M000002"}}, "referred by Alice")
    erasure.erase(database, "M000002", Actor("ada", "admin"), SEEDED_AT + timedelta(hours=1))
    with database.unit_of_work() as session:
        erased = by_number(session, "M000002").id
        balance = session.get(PointsAccount, erased).balance

    later = SEEDED_AT + timedelta(hours=2)
    chat = joining(database, config, parser, "wx-new", "13912345671", later)
    chat.run({"say": "M000002", "outcome": "reask", "replies": ["没找到这个会员号"]}, "erased")
    chat.run({"say": "没有", "replies": ["注册成功"], "check": {"referrer": None}}, "no one")
    first_purchase(database, config, "13912345671", "P-NEW", later)
    first_purchase(database, config, "13912345672", "P-EARLY", later)

    with database.unit_of_work(write=False) as session:
        assert session.get(PointsAccount, erased).balance == balance
        assert by_phone(session, "13912345672").referrer_id is None
