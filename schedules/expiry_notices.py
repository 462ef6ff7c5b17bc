"""Notices before something the member owns runs out: points within the window (one
message listing amounts and dates) and vouchers the configured days before.

Points: the dedupe key holds the latest expiry date listed, so a member hears again only
when a new expiry date enters the window; the message lists everything in the window."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.catalogue import language, text
from core.config import Config
from core.send_window import member_zone, reminder_time
from core.validity import last_day
from schedules.audience import ADDRESSEE, reachable
from schedules.outbox import Message, queue_in_batches
from storage.db import Database
from storage.models import Benefit, Member, PointsLot, Voucher


def points_expiry(database: Database, config: Config, at: datetime) -> int:
    window = timedelta(days=config.reminders.points_expiry_window_days)
    query = (
        select(*ADDRESSEE, Member.timezone, PointsLot.remaining, PointsLot.expires_at)
        .join(Member, Member.id == PointsLot.member_id)
        .where(
            PointsLot.remaining > 0,
            PointsLot.expires_at > at,
            PointsLot.expires_at <= at + window,
            reachable(),
        )
        .order_by(PointsLot.member_id, PointsLot.expires_at)
    )
    members: dict[int, tuple] = {}
    amounts: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    with database.unit_of_work(write=False) as session:
        for row in session.execute(query):
            zone = member_zone(row.timezone, config)
            members[row.id] = (row, zone)
            amounts[row.id][last_day(row.expires_at, zone)] += row.remaining
    messages = []
    for member_id, (m, zone) in members.items():
        per_day = amounts[member_id]
        lines = "\n".join(
            text(m.language, "reminder.points_expiry_line", points=p, date=d.isoformat())
            for d, p in per_day.items()
        )
        messages.append(
            Message(
                f"points_expiry:{m.member_no}:{max(per_day)}",
                member_id,
                "points_expiry",
                text(m.language, "reminder.points_expiry", name=m.name, lines=lines),
                reminder_time(at.astimezone(zone).date(), zone, at, config),
                payload={"expiring": [[d.isoformat(), p] for d, p in per_day.items()]},
            )
        )
    return queue_in_batches(database, messages, at)


def voucher_expiry(database: Database, config: Config, at: datetime) -> int:
    ahead = config.reminders.voucher_expiry_days
    query = (
        select(
            *ADDRESSEE,
            Member.timezone,
            Voucher.code,
            Voucher.expires_at,
            Benefit.name_zh,
            Benefit.name_en,
        )
        .join(Member, Member.id == Voucher.member_id)
        .join(Benefit, Benefit.id == Voucher.benefit_id)
        .where(
            Voucher.status == "active",
            Voucher.expires_at > at,
            Voucher.expires_at <= at + timedelta(days=ahead + 2),  # the widest zone offset
            reachable(),
        )
        .order_by(Voucher.expires_at, Voucher.code)
    )
    due: dict[tuple[int, date], list] = defaultdict(list)
    with database.unit_of_work(write=False) as session:
        for row in session.execute(query):
            zone = member_zone(row.timezone, config)
            day = last_day(row.expires_at, zone)
            if (day - at.astimezone(zone).date()).days == ahead:
                due[(row.id, day)].append((row, zone))
    messages = []
    for (member_id, day), rows in due.items():
        m, zone = rows[0]
        lang = language(m.language)
        vouchers = text(lang, "list.separator").join(
            f"{r.name_en if lang == 'en' else r.name_zh} ({r.code})" for r, _ in rows
        )
        messages.append(
            Message(
                f"voucher_expiry:{m.member_no}:{day}",
                member_id,
                "voucher_expiry",
                text(
                    lang,
                    "reminder.voucher_expiry",
                    name=m.name,
                    date=day.isoformat(),
                    days=ahead,
                    vouchers=vouchers,
                ),
                reminder_time(at.astimezone(zone).date(), zone, at, config),
                payload={"vouchers": [r.code for r, _ in rows]},
            )
        )
    return queue_in_batches(database, messages, at)
