"""The yearly tier evaluation, on the configured day in each member's time zone: every
member who joined before that day gets their tier set from the points earned in the
trailing 12 months (storage/ledger.py `evaluate_tiers`, once per member and year), and a
service notice when they move down (what brings them back up), or, when
`tier_evaluation.notify_kept`, when they keep a tier above the lowest.

Not before its day; a scheduler that was down on the day catches up within
CATCH_UP_DAYS, evaluating as of the moment it runs (so an upgrade earned since is kept),
and never later in the year: a tier is not lowered out of season."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import exists, select

from core import tiers
from core.catalogue import language, text
from core.config import Config
from schedules.audience import ADDRESSEE, ZoneGroup, chunks, reachable, zone_groups
from schedules.outbox import Message, queue
from storage.db import Database
from storage.ledger import Evaluated, Ledger
from storage.models import Member, TierEvaluation

CATCH_UP_DAYS = 7
BATCH = 5000


def evaluation_day(group: ZoneGroup, at: datetime, config: Config) -> date | None:
    """This year's evaluation day if it is due in the group's zone at `at`, else None."""
    today = group.today(at)
    day = config.tier_evaluation.day_in(today.year)
    return day if day <= today < day + timedelta(days=CATCH_UP_DAYS) else None


def evaluate(database: Database, config: Config, at: datetime) -> int:
    """The job: returns how many members were evaluated by this run."""
    with database.unit_of_work(write=False) as session:
        due = []
        for group in zone_groups(session, config):
            day = evaluation_day(group, at, config)
            if day is None:
                continue
            evaluated_before = exists().where(
                TierEvaluation.member_id == Member.id, TierEvaluation.year == day.year
            )
            ids = session.scalars(
                select(Member.id)
                .where(group.members, Member.created_at < group.midnight(day), ~evaluated_before)
                .order_by(Member.id)
            ).all()
            due.append((group, day, list(ids)))
    evaluated = 0
    for group, day, ids in due:
        for batch in chunks(ids, BATCH):
            with database.unit_of_work() as session:
                ledger = Ledger(session, config, clock=lambda: at)
                done = ledger.evaluate_tiers(batch, at, day.year)
                queue(session, notices(session, config, group, day, at, done), at)
                session.commit()
            evaluated += len(done)
    return evaluated


def notices(
    session, config: Config, group: ZoneGroup, day: date, at: datetime, done: list[Evaluated]
) -> list[Message]:
    """Service notices for the members told about their evaluation, if reachable."""
    told = {e.member_id: e for e in done if _tells(e, config)}
    if not told:
        return []
    rows = session.execute(select(*ADDRESSEE).where(Member.id.in_(told), reachable()))
    due = group.send_time(group.today(at), at, config)
    labels = {lang: {t.name: t.label.get(lang) for t in config.tiers} for lang in ("zh", "en")}
    return [
        Message(
            f"tier_evaluation:{m.member_no}:{day.year}",
            m.id,
            "tier_evaluation",
            _notice(config, labels, told[m.id], m.name, language(m.language)),
            due,
            payload={
                "year": day.year,
                "before": told[m.id].tier_before,
                "after": told[m.id].tier_after,
                "earned": told[m.id].earned,
            },
        )
        for m in rows
    ]


def _tells(e: Evaluated, config: Config) -> bool:
    down = tiers.rank(e.tier_after, config) < tiers.rank(e.tier_before, config)
    kept = not e.moved and tiers.rank(e.tier_after, config) > 0
    return down or (kept and config.tier_evaluation.notify_kept)


def _notice(config: Config, labels: dict, e: Evaluated, name: str, lang: str) -> str:
    label = labels[lang]
    if not e.moved:
        return text(
            lang, "reminder.tier_kept", name=name, earned=e.earned, tier=label[e.tier_after]
        )
    return text(
        lang,
        "reminder.tier_down",
        name=name,
        earned=e.earned,
        before=label[e.tier_before],
        after=label[e.tier_after],
        needed=config.tier(e.tier_before).threshold - e.earned,
    )
