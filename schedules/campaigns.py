"""Push campaigns: a message per language to a segment, at a chosen time.

A campaign is created "scheduled", never for a time already past; the `due-campaigns` job
(or `run`, at once) queues one marketing message per member of the segment who has a
reachable chat identity, keyed `campaign:<id>:<member_no>`, then marks it "queued". The
dispatcher does the rest: consent at the moment of sending, quiet hours, holidays. A
campaign whose day is a public holiday (when `campaigns.skip_public_holidays`) moves to the
next working day when created.

Campaigns are never sent late: one whose day (programme time zone) passed before the job
could queue it (the scheduler was down) is marked "missed" and stays so until an operator
reschedules it or runs it by hand.

One status vocabulary for `campaign list`, `campaign report` and the workbench (STATUSES):
scheduled, missed, queued (messages on their way), done (every message has an outcome)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.catalogue import language
from core.config import Config
from core.send_window import is_public_holiday, next_working_day
from schedules.audience import ADDRESSEE, chunks, reachable
from schedules.outbox import MARKETING, PENDING, Message, marketing_text, queue
from schedules.segments import Segment, condition
from storage.db import Database
from storage.models import Benefit, Campaign, Member, OutboundMessage

QUEUE_BATCH = 1000
LANGUAGES = ("zh", "en")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
STATUSES = ("scheduled", "missed", "queued", "done")


def status(stored: str, pending: int) -> str:
    """The status people see: a queued campaign is done when no message is pending."""
    return "done" if stored == "queued" and pending == 0 else stored


class CampaignError(ValueError):
    """A campaign request that cannot be done; the message says what to fix."""


@dataclass(frozen=True)
class Preview:
    segment: Segment
    matching: int
    reachable: int
    sample: list[tuple[str, str, str, str]]  # member_no, name, tier, language


def scheduled_time(at: datetime, config: Config) -> tuple[datetime, bool]:
    """The campaign's time, moved to the next working day if it falls on a public holiday."""
    local = at.astimezone(config.zone)
    if not (config.campaigns.skip_public_holidays and is_public_holiday(local.date(), config)):
        return at, False
    day = next_working_day(local.date(), config)
    return datetime.combine(day, local.time(), tzinfo=config.zone), True


def create(
    database: Database,
    config: Config,
    name: str,
    segment: Segment,
    messages: dict[str, str],
    scheduled_at: datetime,
    by: str,
    at: datetime,
    benefits: Sequence[str] = (),
) -> tuple[Campaign, bool]:
    """A scheduled campaign; True with it when its time moved off a public holiday.
    `benefits`: codes of the benefits it promotes, whose redemptions its report counts."""
    segment.check(config)
    not_past(scheduled_at, at, config)
    texts = checked_texts(messages)
    when, moved = scheduled_time(scheduled_at, config)
    with database.unit_of_work() as session:
        if session.scalar(select(Campaign.id).where(Campaign.name == name)):
            raise CampaignError(f"a campaign named {name!r} exists: choose another name")
        known = session.scalars(select(Benefit.code).order_by(Benefit.code)).all()
        for code in benefits:
            if code not in known:
                choices = f"choose from {', '.join(known)}" if known else "there are none yet"
                raise CampaignError(f"unknown benefit {code!r}: {choices}")
        campaign = Campaign(
            name=name,
            segment=segment.as_json(),
            messages=texts,
            benefits=list(dict.fromkeys(benefits)) or None,
            scheduled_at=when,
            status="scheduled",
            created_by=by,
            created_at=at,
        )
        session.add(campaign)
        session.commit()
    return campaign, moved


def checked_texts(messages: dict[str, str]) -> dict[str, str]:
    """A text in each language, every member getting theirs (a text in one language only
    would reach the others in a language they did not choose), with no placeholder but
    {name} and no brace outside one (either would reach members as typed)."""
    texts = {lang: (messages.get(lang) or "").strip() for lang in LANGUAGES}
    if missing := [lang for lang, body in texts.items() if not body]:
        flags = " and ".join(f"--text-{lang}" for lang in missing)
        raise CampaignError(
            f"a campaign needs its message in Chinese and English, each member gets theirs: "
            f"give {flags}"
        )
    for lang, body in texts.items():
        if unknown := [p for p in PLACEHOLDER.findall(body) if p != "{name}"]:
            raise CampaignError(
                f"--text-{lang} has the unknown placeholder {unknown[0]}: the only one is {{name}}"
            )
        if "{" in body.replace("{name}", "") or "}" in body.replace("{name}", ""):
            raise CampaignError(
                f"--text-{lang} has a brace outside {{name}}: remove it or complete the {{name}}"
            )
    return texts


def promotable(database: Database, lang: str) -> list[tuple[str, str]]:
    """The benefits a campaign may promote, code and name, cheapest first."""
    with database.unit_of_work(write=False) as session:
        found = session.scalars(select(Benefit).where(Benefit.active).order_by(Benefit.cost))
        return [(benefit.code, benefit.name(lang)) for benefit in found]


def not_past(when: datetime, at: datetime, config: Config) -> None:
    if when < at:
        shown = when.astimezone(config.zone).isoformat(timespec="minutes")
        now_shown = at.astimezone(config.zone).isoformat(timespec="minutes")
        raise CampaignError(f"--at {shown} is in the past (now {now_shown}): choose a later time")


def reschedule(
    database: Database, config: Config, name: str, scheduled_at: datetime, at: datetime
) -> tuple[Campaign, bool]:
    """A scheduled or missed campaign at a new time (not past; off a public holiday)."""
    not_past(scheduled_at, at, config)
    when, moved = scheduled_time(scheduled_at, config)
    with database.unit_of_work() as session:
        campaign = find(session, name)
        if campaign.status not in ("scheduled", "missed"):
            shown = status(campaign.status, pending(session, campaign.id))
            raise CampaignError(f"campaign {name!r} is already {shown}: it cannot move")
        campaign.scheduled_at, campaign.status = when, "scheduled"
        session.commit()
    return campaign, moved


def pending(session, campaign_id: int) -> int:
    return session.scalar(
        select(func.count()).where(
            OutboundMessage.campaign_id == campaign_id, OutboundMessage.status.in_(PENDING)
        )
    )


def find(session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        raise CampaignError(f"no campaign named {name!r}: `memberbot campaign list` shows them")
    return campaign


def preview(
    database: Database, config: Config, name: str, at: datetime, sample: int = 10
) -> Preview:
    with database.unit_of_work(write=False) as session:
        campaign = find(session, name)
        who = condition(Segment.from_json(campaign.segment), config, at)
        matching = session.execute(select(func.count()).select_from(Member).where(who)).scalar_one()
        can_reach = session.execute(
            select(func.count()).select_from(Member).where(who, reachable())
        ).scalar_one()
        rows = session.execute(
            select(Member.member_no, Member.name, Member.tier, Member.language)
            .where(who, reachable())
            .order_by(Member.member_no)
            .limit(sample)
        ).all()
        return Preview(
            Segment.from_json(campaign.segment),
            matching,
            can_reach,
            [(no, name, tier, lang) for no, name, tier, lang in rows],
        )


def text_for(messages: dict[str, str], lang: str, name: str) -> str:
    lang = language(lang)
    other = "zh" if lang == "en" else "en"
    body = messages.get(lang) or messages[other]
    return marketing_text(body.replace("{name}", name), lang)


def run(
    database: Database,
    config: Config,
    name: str,
    at: datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Queue the campaign now; returns the messages newly queued (0 on a rerun)."""
    with database.unit_of_work(write=False) as session:
        campaign = find(session, name)
        campaign_id, messages = campaign.id, campaign.messages
        who = condition(Segment.from_json(campaign.segment), config, at)
        ids = session.scalars(select(Member.id).where(who, reachable()).order_by(Member.id)).all()
    queued = 0
    for batch in chunks(list(ids), QUEUE_BATCH):
        with database.unit_of_work() as session:
            members = session.execute(select(*ADDRESSEE).where(Member.id.in_(batch)))
            queued += queue(
                session,
                [
                    Message(
                        f"campaign:{campaign_id}:{m.member_no}",
                        m.id,
                        "campaign",
                        text_for(messages, m.language, m.name),
                        at,
                        category=MARKETING,
                        campaign_id=campaign_id,
                    )
                    for m in members
                ],
                at,
            )
            session.commit()
        progress(len(batch), len(ids))
    with database.unit_of_work() as session:
        find(session, name).status = "queued"
        session.commit()
    return queued


def queue_due(database: Database, config: Config, at: datetime) -> int:
    """The job: queue every scheduled campaign whose time has come on its own day; mark
    "missed" those whose day is over."""
    today = at.astimezone(config.zone).date()
    with database.unit_of_work() as session:
        due = session.scalars(
            select(Campaign).where(Campaign.status == "scheduled", Campaign.scheduled_at <= at)
        ).all()
        names = []
        for campaign in due:
            if campaign.scheduled_at.astimezone(config.zone).date() < today:
                campaign.status = "missed"
            else:
                names.append(campaign.name)
        session.commit()
    return sum(run(database, config, name, at) for name in names)


@dataclass(frozen=True)
class Listed:
    name: str
    scheduled_at: datetime
    status: str
    segment: Segment


def listing(database: Database) -> list[Listed]:
    with database.unit_of_work(write=False) as session:
        pending = dict(
            session.execute(
                select(OutboundMessage.campaign_id, func.count())
                .where(
                    OutboundMessage.campaign_id.is_not(None), OutboundMessage.status.in_(PENDING)
                )
                .group_by(OutboundMessage.campaign_id)
            ).all()
        )
        return [
            Listed(
                c.name,
                c.scheduled_at,
                status(c.status, pending.get(c.id, 0)),
                Segment.from_json(c.segment),
            )
            for c in session.scalars(select(Campaign).order_by(Campaign.scheduled_at))
        ]
