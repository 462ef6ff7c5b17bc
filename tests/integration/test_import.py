"""CSV import through the real `memberbot import` command (SQLite file), and the importer
itself on SQLite and PostgreSQL: a bad row is reported by line and reason, good rows are
imported, and importing the same file again imports nothing new."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.desk import imports
from handlers.desk import member_views as views
from storage.db import Database
from storage.members import NewMember, by_number, open_membership
from storage.models import LedgerEntry, Member

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

MEMBERS_CSV = """\
member_no,name,phone,birthday,join_date,language,marketing_consent
M100001,王芳,13900000001,1992-07-08,2025-01-02,zh,yes
M100002,Bob Li,13900000002,1988-13-01,2025-01-02,en,no
M100003,赵六,12345,1990-01-01,,zh,yes
M100004,Carol Wu,13900000004,,,en,no
"""

PURCHASES_CSV = """\
order_id,member_no,amount,purchased_at
P-1,M200001,100.50,2026-03-01T12:00:00+08:00
P-2,M999999,50,2026-03-01T12:00:00+08:00
P-3,M200001,abc,2026-03-01
P-4,M200002,88,2026-03-02 09:30
P-5,M200002,NaN,
"""


def memberbot_command() -> str:
    beside_python = Path(sys.prefix) / "bin" / "memberbot"
    return str(beside_python) if beside_python.exists() else shutil.which("memberbot")


def memberbot(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "MEMBERBOT_NOW": T0.isoformat()}
    return subprocess.run(
        [memberbot_command(), "--config", str(ROOT / "config.yml"), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=database.parent,
        timeout=120,
    )


@pytest.fixture
def sqlite_file(migrated_sqlite_file, tmp_path) -> Path:
    path = tmp_path / "memberbot.db"
    shutil.copyfile(migrated_sqlite_file, path)
    return path


def write(tmp_path, name, content) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def counts(database: Path) -> tuple[int, int]:
    db = Database(f"sqlite:///{database}")
    try:
        with db.unit_of_work(write=False) as session:
            return (
                session.scalar(select(func.count()).select_from(Member)),
                session.scalar(select(func.count()).select_from(LedgerEntry)),
            )
    finally:
        db.dispose()


def test_importing_members_reports_bad_rows_by_line_imports_good_ones_and_only_once(
    sqlite_file, tmp_path
):
    csv_file = write(tmp_path, "members.csv", MEMBERS_CSV)

    first = memberbot(sqlite_file, "import", "members", str(csv_file))
    after_first = counts(sqlite_file)
    again = memberbot(sqlite_file, "import", "members", str(csv_file))

    assert first.returncode == 1
    assert f"{csv_file}:3: birthday '1988-13-01' is not a date" in first.stderr
    assert f"{csv_file}:4: phone '12345' is not an 11-digit mobile number" in first.stderr
    assert "Traceback" not in first.stderr
    assert "imported 2, already there 0, rejected 2" in first.stdout
    assert after_first == (2, 2)  # two members, each with a welcome bonus
    assert again.returncode == 1
    assert "imported 0, already there 2, rejected 2" in again.stdout
    assert counts(sqlite_file) == after_first


def test_importing_purchases_reports_bad_rows_by_line_earns_for_good_ones_and_only_once(
    sqlite_file, tmp_path, config
):
    db = Database(f"sqlite:///{sqlite_file}")
    with db.unit_of_work() as session:
        for number in ("M200001", "M200002"):
            open_membership(
                session,
                config,
                NewMember(name=number, phone=None, birthday=None, member_no=number),
                T0,
                source="test",
                welcome_bonus=False,
            )
        session.commit()
    csv_file = write(tmp_path, "purchases.csv", PURCHASES_CSV)

    first = memberbot(sqlite_file, "import", "purchases", str(csv_file))
    again = memberbot(sqlite_file, "import", "purchases", str(csv_file))

    assert first.returncode == 1
    assert f"{csv_file}:3: no member M999999" in first.stderr
    assert f"{csv_file}:4: amount 'abc': Input should be a valid decimal" in first.stderr
    assert f"{csv_file}:6: amount 'NaN'" in first.stderr
    assert "Traceback" not in first.stderr
    assert "imported 2, already there 0, rejected 3" in first.stdout
    assert "imported 0, already there 2, rejected 3" in again.stdout
    with db.unit_of_work(write=False) as session:
        balances = [
            views.balance(session, by_number(session, n).id) for n in ("M200001", "M200002")
        ]
        purchases = session.scalars(select(LedgerEntry.created_at).order_by(LedgerEntry.id)).all()
    db.dispose()
    assert balances == [100, 88]
    # A time without an offset is read in the programme's time zone.
    assert purchases[1] == datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_file_without_the_documented_columns_is_refused_as_bad_input(sqlite_file, tmp_path):
    csv_file = write(tmp_path, "purchases.csv", "order,member,yuan\nP-1,M000001,10\n")

    result = memberbot(sqlite_file, "import", "purchases", str(csv_file))

    assert result.returncode == 2
    assert "header lacks column(s) order_id, member_no, amount, purchased_at" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_importer_imports_each_row_once_on_either_database(db, config, tmp_path):
    members = write(tmp_path, "members.csv", MEMBERS_CSV)
    purchases = write(tmp_path, "purchases.csv", PURCHASES_CSV.replace("M200", "M100"))

    reports = [
        (
            imports.import_members(db, config, members, T0),
            imports.import_purchases(db, config, purchases, T0),
        )
        for _ in range(2)
    ]

    (members_first, purchases_first), (members_again, purchases_again) = reports
    assert (members_first.imported, members_again.imported, members_again.skipped) == (2, 0, 2)
    assert [line for line, _ in members_first.errors] == [3, 4]
    assert (purchases_first.imported, purchases_again.imported) == (1, 0)
    assert [line for line, _ in purchases_again.errors] == [3, 4, 5, 6]
    with db.unit_of_work(write=False) as session:
        assert views.balance(session, by_number(session, "M100001").id) == 100 + 100


REFUNDS_CSV = """\
order_id,refund_id,amount
P-1,R-1,50.25
P-1,R-2,
P-1,R-3,1
P-9,R-1,10
P-4,R-1,-3
"""


def test_importing_refunds_takes_back_points_once_and_reports_bad_rows(
    sqlite_file, tmp_path, config
):
    db = Database(f"sqlite:///{sqlite_file}")
    with db.unit_of_work() as session:
        for number in ("M200001", "M200002"):
            open_membership(
                session,
                config,
                NewMember(name=number, phone=None, birthday=None, member_no=number),
                T0,
                source="test",
                welcome_bonus=False,
            )
        session.commit()
    bought = write(tmp_path, "purchases.csv", PURCHASES_CSV.replace("M999999", "M200001"))
    imports.import_purchases(db, config, bought, T0)
    csv_file = write(tmp_path, "refunds.csv", REFUNDS_CSV)

    first = memberbot(sqlite_file, "import", "refunds", str(csv_file))
    again = memberbot(sqlite_file, "import", "refunds", str(csv_file))

    assert first.returncode == 1
    assert f"{csv_file}:4: order P-1 was bought for 100.50" in first.stderr
    assert f"{csv_file}:5: no purchase with order number P-9" in first.stderr
    assert f"{csv_file}:6: amount '-3': Input should be greater than 0" in first.stderr
    assert "Traceback" not in first.stderr
    assert "imported 2, already there 0, rejected 3" in first.stdout
    assert "imported 0, already there 2, rejected 3" in again.stdout
    with db.unit_of_work(write=False) as session:
        left = views.balance(session, by_number(session, "M200001").id)
    db.dispose()
    assert left == 50  # 100 + 50 from the second order P-2, all of P-1 taken back
