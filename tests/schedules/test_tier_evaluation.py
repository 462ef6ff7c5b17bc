"""The yearly tier evaluation job on SQLite and PostgreSQL, driven at chosen moments: on
its day in the member's time zone and not before, once per member and year, with a
service notice for those who move down (and, if configured, for those who keep a tier)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from schedules import tier_evaluation
from schedules.scheduler import MESSAGE_JOBS
from storage.ledger import Ledger
from storage.members import NewMember, identity, open_membership
from storage.models import Member, OutboundMessage, TierEvaluation

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
JOINED = datetime(2025, 6, 1, 12, tzinfo=SHANGHAI)
EVALUATION = datetime(2027, 1, 1, 10, tzinfo=SHANGHAI)


def member(db, config, bought: datetime, amount="2500", timezone=None, joined=JOINED, lang="zh"):
    """A member who reached gold with one purchase; reachable on Telegram."""
    with db.unit_of_work() as session:
        made = open_membership(
            session,
            config,
            NewMember(name="王芳", phone=None, birthday=None, language=lang),
            joined,
            source="test",
            welcome_bonus=False,
        )
        made.timezone = timezone
        identity(session, "telegram", f"tg-{made.member_no}", joined).member_id = made.id
        session.flush()
        Ledger(session, config, clock=lambda: bought).earn_purchase(
            made.id, f"order-{made.member_no}", Decimal(amount), at=bought
        )
        session.commit()
        return made.id


def tier(db, member_id) -> str:
    with db.unit_of_work(write=False) as session:
        return session.get(Member, member_id).tier


def notices(db) -> list[OutboundMessage]:
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        session.expunge_all()
        return rows


def evaluations(db) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(TierEvaluation))


def notify_kept(config, on: bool):
    return config.model_copy(
        update={"tier_evaluation": config.tier_evaluation.model_copy(update={"notify_kept": on})}
    )


def test_the_evaluation_is_one_of_the_scheduled_daily_jobs():
    assert "yearly-tier-evaluation" in [job.name for job in MESSAGE_JOBS]


def test_a_member_who_earned_too_little_moves_down_on_the_day_and_is_told_how_to_get_back(
    db, config
):
    someone = member(db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI))
    assert tier(db, someone) == "gold"

    evaluated = tier_evaluation.evaluate(db, config, EVALUATION)

    assert (evaluated, tier(db, someone)) == (1, "silver")
    [notice] = notices(db)
    assert (notice.kind, notice.category) == ("tier_evaluation", "service")
    assert "金卡" in notice.text and "银卡" in notice.text and "2,000" in notice.text


def test_nothing_moves_the_day_before_the_evaluation(db, config):
    someone = member(db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI))

    evaluated = tier_evaluation.evaluate(
        db, config, datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI)
    )

    assert (evaluated, tier(db, someone), notices(db)) == (0, "gold", [])


def test_running_the_job_again_evaluates_and_tells_each_member_once(db, config):
    member(db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI))
    tier_evaluation.evaluate(db, config, EVALUATION)

    again = tier_evaluation.evaluate(db, config, EVALUATION.replace(hour=18))

    assert (again, evaluations(db), len(notices(db))) == (0, 1, 1)


def test_a_member_who_earned_enough_keeps_the_tier_and_hears_so_when_configured(db, config):
    someone = member(db, config, bought=datetime(2026, 6, 1, tzinfo=SHANGHAI), lang="en")

    tier_evaluation.evaluate(db, notify_kept(config, True), EVALUATION)

    assert tier(db, someone) == "gold"
    [notice] = notices(db)
    assert "keep your Gold tier" in notice.text and "2,500" in notice.text


def test_a_member_who_keeps_the_tier_hears_nothing_unless_configured(db, config):
    member(db, config, bought=datetime(2026, 6, 1, tzinfo=SHANGHAI))

    tier_evaluation.evaluate(db, notify_kept(config, False), EVALUATION)

    assert (evaluations(db), notices(db)) == (1, [])


def test_the_day_is_the_members_own_day(db, config):
    london = member(
        db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI), timezone="Europe/London"
    )
    shanghai = member(db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI))
    new_year_in_shanghai = datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)  # 31 Dec in London

    tier_evaluation.evaluate(db, config, new_year_in_shanghai)
    first = (tier(db, shanghai), tier(db, london))
    tier_evaluation.evaluate(db, config, datetime(2027, 1, 1, 0, 30, tzinfo=LONDON))

    assert first == ("silver", "gold")
    assert tier(db, london) == "silver"


def test_a_member_who_joined_after_the_evaluation_day_is_not_evaluated_that_year(db, config):
    member(
        db,
        config,
        bought=datetime(2027, 1, 1, 15, tzinfo=SHANGHAI),
        joined=datetime(2027, 1, 1, 14, tzinfo=SHANGHAI),
    )

    assert tier_evaluation.evaluate(db, config, datetime(2027, 1, 1, 16, tzinfo=SHANGHAI)) == 0


def test_a_scheduler_down_on_the_day_catches_up_within_a_week_and_not_after(db, config):
    late = member(db, config, bought=datetime(2025, 12, 1, tzinfo=SHANGHAI))

    tier_evaluation.evaluate(db, config, datetime(2027, 1, 9, 10, tzinfo=SHANGHAI))
    untouched = tier(db, late)
    tier_evaluation.evaluate(db, config, datetime(2027, 1, 3, 10, tzinfo=SHANGHAI))

    assert (untouched, tier(db, late)) == ("gold", "silver")
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(TierEvaluation.year)) == 2027
        assert session.scalar(select(TierEvaluation.tier_before)) == "gold"


def test_the_evaluation_day_may_be_29_february(config):
    leap = config.tier_evaluation.model_copy(update={"month": 2, "day": 29})

    assert leap.day_in(2027) == date(2027, 2, 28)
    assert leap.day_in(2028) == date(2028, 2, 29)
