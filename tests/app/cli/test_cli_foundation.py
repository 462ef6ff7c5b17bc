"""The foundation through the real `memberbot` console script, as a newcomer runs it:
`db upgrade`, `demo seed` (twice), and the one-line errors for bad configuration and a bad
MEMBERBOT_NOW."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from handlers.desk import member_views as views
from storage.db import Database
from storage.members import by_number
from storage.models import (
    Benefit,
    ChatIdentity,
    LedgerEntry,
    Member,
    PointsLot,
    Redemption,
    Voucher,
)
from tests.conftest import ROOT

SEEDED_AT = "2026-05-20T10:00:00+08:00"


def memberbot_command() -> str:
    beside_python = Path(sys.prefix) / "bin" / "memberbot"
    return str(beside_python) if beside_python.exists() else shutil.which("memberbot")


def memberbot(
    workdir: Path, *args: str, now: str = SEEDED_AT, config: Path = ROOT / "config.yml"
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'memberbot.db'}",
        "MEMBERBOT_NOW": now,
    }
    env.pop("MEMBERBOT_CONFIG", None)
    return subprocess.run(
        [memberbot_command(), "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=120,
    )


def row_counts(db: Database) -> dict[str, int]:
    with db.unit_of_work(write=False) as session:
        return {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Member,
                ChatIdentity,
                Benefit,
                LedgerEntry,
                PointsLot,
                Redemption,
                Voucher,
            )
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A database made by `db upgrade` and `demo seed` run twice, with what each printed."""
    workdir = tmp_path_factory.mktemp("demo")
    upgraded = memberbot(workdir, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    first_seed = memberbot(workdir, "demo", "seed")
    db = Database(f"sqlite:///{workdir / 'memberbot.db'}")
    after_first_seed = row_counts(db)
    second_seed = memberbot(workdir, "demo", "seed")
    yield {
        "db": db,
        "workdir": workdir,
        "upgraded": upgraded,
        "seeds": [first_seed, second_seed],
        "after_first_seed": after_first_seed,
    }
    db.dispose()


def test_db_upgrade_creates_the_schema_on_the_configured_database_and_says_so(demo):
    assert demo["upgraded"].returncode == 0, demo["upgraded"].stderr
    assert demo["upgraded"].stdout.startswith("schema created at revision ")
    again = memberbot(demo["workdir"], "db", "upgrade")
    assert again.stdout.startswith("schema is up to date (revision "), again.stdout


def test_demo_seed_succeeds_every_time_it_runs(demo):
    for seed in demo["seeds"]:
        assert seed.returncode == 0, seed.stderr
        assert "demo data ready" in seed.stdout


def test_demo_seed_twice_changes_nothing(demo):
    assert row_counts(demo["db"]) == demo["after_first_seed"]


def test_the_demo_member_is_gold_with_2680_points_of_which_300_expire_within_30_days(demo, config):
    seeded_at = datetime.fromisoformat(SEEDED_AT)
    with demo["db"].unit_of_work(write=False) as session:
        zhang = by_number(session, "M000001")
        expiring = views.expiring(
            session,
            zhang.id,
            seeded_at,
            days=config.reminders.points_expiry_window_days,
            zone=config.zone,
        )
        shown = (zhang.name, zhang.phone, zhang.tier, views.balance(session, zhang.id))

    assert shown == ("张伟", "13800000001", "gold", 2680)
    assert sum(e.points for e in expiring) == 300


@pytest.mark.parametrize(
    ("member_no", "name", "tier", "points", "language", "console_user"),
    [
        ("M000001", "张伟", "gold", 2680, "zh", "demo"),
        ("M000002", "Alice Chen", "silver", 520, "en", "demo-en"),
        ("M000003", "李娜", "silver", 0, "zh", None),
    ],
)
def test_demo_seed_loads_the_three_demo_members(
    demo, member_no, name, tier, points, language, console_user
):
    with demo["db"].unit_of_work(write=False) as session:
        member = by_number(session, member_no)
        users = session.scalars(
            select(ChatIdentity.external_id).where(
                ChatIdentity.member_id == member.id, ChatIdentity.channel == "console"
            )
        ).all()
        shown = (member.name, member.tier, views.balance(session, member.id), member.language)

    assert shown == (name, tier, points, language)
    assert users == ([console_user] if console_user else [])


def test_demo_seed_loads_the_four_benefits(demo):
    with demo["db"].unit_of_work(write=False) as session:
        benefits = {
            b.code: (b.name_zh, b.cost, b.stock, b.tiers[0])
            for b in session.scalars(select(Benefit))
        }

    assert sorted(benefits.values()) == sorted(
        [
            ("咖啡券", 200, None, "silver"),
            ("免运费券", 100, None, "silver"),
            ("生日蛋糕", 1000, None, "gold"),
            ("贵宾室通行证", 5000, 5, "platinum"),
        ]
    )


def wrong_config(tmp_path, change) -> Path:
    raw = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda raw: raw["quiet_hours"].update(start="25:00"), "quiet_hours.start = '25:00'"),
        (lambda raw: raw["tiers"][1].update(threshold=0), "gold (0) is not above silver (0)"),
    ],
    ids=["quiet hours at 25:00", "tier thresholds not rising"],
)
def test_a_wrong_configuration_value_exits_2_with_one_line_naming_it(tmp_path, change, named):
    result = memberbot(tmp_path, "db", "upgrade", config=wrong_config(tmp_path, change))

    assert result.returncode == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_bad_memberbot_now_exits_2_with_one_line_saying_what_is_expected(tmp_path):
    result = memberbot(tmp_path, "demo", "seed", now="next tuesday")

    assert result.returncode == 2
    assert "MEMBERBOT_NOW='next tuesday' is not ISO 8601" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["garbage", "mysql://x/y"])
def test_a_database_url_that_cannot_be_used_exits_2_with_one_line(tmp_path, url):
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("MEMBERBOT_CONFIG", None)
    result = subprocess.run(
        [memberbot_command(), "tickets", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

    assert result.returncode == 2
    assert "DATABASE_URL is not a database this can use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
