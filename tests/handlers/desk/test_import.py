"""CSV import through the real `memberbot import` command (SQLite file), and the importer
itself on SQLite and PostgreSQL: a bad row is reported by line and reason, good rows are
imported, and importing the same file again imports nothing new. A file with a bad row
writes nothing unless --partial; the import refuses what the API refuses; referrers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.desk import erasure, imports
from handlers.desk import member_views as views
from handlers.desk.ticket_lifecycle import Actor
from storage.db import Database
from storage.members import NewMember, by_number, open_membership
from storage.models import LedgerEntry, Member
from tests.conftest import ROOT

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


def test_a_members_file_with_bad_rows_is_exit_2_with_a_line_per_bad_row_and_writes_nothing(
    sqlite_file, tmp_path
):
    csv_file = write(tmp_path, "members.csv", MEMBERS_CSV)

    refused = memberbot(sqlite_file, "import", "members", str(csv_file))

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"{csv_file}:3: birthday '1988-13-01' is not a date like 1990-05-20",
        f"{csv_file}:4: phone '12345' is not an 11-digit mobile number",
    ]
    assert "imported 0, already there 0, rejected 2 (nothing written" in refused.stdout
    assert counts(sqlite_file) == (0, 0)


def test_partial_keeps_the_good_members_and_importing_again_adds_nothing(sqlite_file, tmp_path):
    csv_file = write(tmp_path, "members.csv", MEMBERS_CSV)

    first = memberbot(sqlite_file, "import", "members", str(csv_file), "--partial")
    after_first = counts(sqlite_file)
    again = memberbot(sqlite_file, "import", "members", str(csv_file), "--partial")

    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert len(first.stderr.strip().splitlines()) == 2  # the bad rows, still listed
    assert "imported 2, already there 0, rejected 2" in first.stdout
    assert after_first == (2, 2)  # two members, each with a welcome bonus
    assert "imported 0, already there 2, rejected 2" in again.stdout
    assert counts(sqlite_file) == after_first


def test_partial_with_no_good_row_is_exit_2_as_without_it(sqlite_file, tmp_path):
    bad_only = "\n".join(MEMBERS_CSV.splitlines()[:1] + MEMBERS_CSV.splitlines()[2:4]) + "\n"
    csv_file = write(tmp_path, "members.csv", bad_only)

    result = memberbot(sqlite_file, "import", "members", str(csv_file), "--partial")

    assert result.returncode == 2
    assert "imported 0, already there 0, rejected 2" in result.stdout


def test_a_good_file_imports_with_exit_0(sqlite_file, tmp_path):
    good = "\n".join(MEMBERS_CSV.splitlines()[:2] + MEMBERS_CSV.splitlines()[4:]) + "\n"
    csv_file = write(tmp_path, "members.csv", good)

    result = memberbot(sqlite_file, "import", "members", str(csv_file))

    assert result.returncode == 0, result.stderr
    assert "imported 2, already there 0, rejected 0" in result.stdout


def test_every_problem_of_a_row_is_on_its_line(sqlite_file, tmp_path):
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "X1,,12345,2999-01-01,,fr,maybe\n",
    )

    result = memberbot(sqlite_file, "import", "members", str(csv_file))

    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"{csv_file}:2: member_no 'X1' must be like M000123; name is empty; ")
    for problem in (
        "phone '12345'",
        "birthday 2999-01-01 is in the future",
        "marketing_consent",
        "language 'fr'",
    ):
        assert problem in line


def test_a_gbk_file_is_read_as_gbk_and_a_file_in_neither_names_the_option(sqlite_file, tmp_path):
    gbk = tmp_path / "members-gbk.csv"
    gbk.write_bytes(
        MEMBERS_CSV.splitlines()[0].encode()
        + "\nM100001,王芳,13900000001,1992-07-08,2025-01-02,zh,是\n".encode("gbk")
    )
    utf16 = tmp_path / "members-utf16.csv"
    utf16.write_text(MEMBERS_CSV, encoding="utf-16")

    detected = memberbot(sqlite_file, "import", "members", str(gbk))
    named = memberbot(sqlite_file, "import", "members", str(gbk), "--encoding", "gbk")
    unreadable = memberbot(sqlite_file, "import", "members", str(utf16))
    wrong_name = memberbot(sqlite_file, "import", "members", str(gbk), "--encoding", "nope")

    assert detected.returncode == 0, detected.stderr
    assert "imported 1" in detected.stdout and "already there 1" in named.stdout
    with Database(f"sqlite:///{sqlite_file}").unit_of_work(write=False) as session:
        assert by_number(session, "M100001").name == "王芳"
    assert unreadable.returncode == 2
    assert (
        unreadable.stderr.strip()
        == f"Error: {utf16} is neither UTF-8 nor GBK text: give its --encoding"
    )
    assert wrong_name.returncode == 2 and "--encoding 'nope'" in wrong_name.stderr


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_column(sqlite_file, tmp_path):
    csv_file = tmp_path / "members.csv"
    csv_file.write_text(
        MEMBERS_CSV.splitlines()[0] + "\n" + MEMBERS_CSV.splitlines()[1] + "\n",
        encoding="utf-8-sig",
    )

    result = memberbot(sqlite_file, "import", "members", str(csv_file))

    assert result.returncode == 0, result.stderr


def test_a_purchases_file_with_bad_rows_earns_nothing_unless_partial(sqlite_file, tmp_path, config):
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

    refused = memberbot(sqlite_file, "import", "purchases", str(csv_file))
    nothing = counts(sqlite_file)
    partial = memberbot(sqlite_file, "import", "purchases", str(csv_file), "--partial")
    again = memberbot(sqlite_file, "import", "purchases", str(csv_file), "--partial")

    assert refused.returncode == 2 and nothing == (2, 0)
    assert refused.stderr.strip().splitlines() == [
        f"{csv_file}:3: no member M999999",
        f"{csv_file}:4: amount 'abc': Input should be a valid decimal",
        f"{csv_file}:6: amount 'NaN': Input should be a finite number",
    ]
    assert "Traceback" not in refused.stderr
    assert "imported 2, already there 0, rejected 3" in partial.stdout
    assert "imported 0, already there 2, rejected 3" in again.stdout
    # Order numbers in another case are the same orders.
    lower = write(tmp_path, "lower.csv", PURCHASES_CSV.lower().replace("m2", "M2"))
    relisted = memberbot(sqlite_file, "import", "purchases", str(lower), "--partial")
    assert "imported 0, already there 2, rejected 3" in relisted.stdout, relisted.stderr
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

    refused = imports.import_file("members", db, config, members, T0)
    reports = [
        (
            imports.import_file("members", db, config, members, T0, partial=True),
            imports.import_file("purchases", db, config, purchases, T0, partial=True),
        )
        for _ in range(2)
    ]

    assert (refused.written, refused.imported, [line for line, _ in refused.errors]) == (
        False,
        0,
        [3, 4],
    )
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
    imports.import_file("purchases", db, config, bought, T0, partial=True)
    csv_file = write(tmp_path, "refunds.csv", REFUNDS_CSV)

    refused = memberbot(sqlite_file, "import", "refunds", str(csv_file))
    first = memberbot(sqlite_file, "import", "refunds", str(csv_file), "--partial")
    again = memberbot(sqlite_file, "import", "refunds", str(csv_file), "--partial")

    assert refused.returncode == 2 and "nothing written" in refused.stdout
    assert first.returncode == 0 and again.returncode == 0
    assert (
        f"{csv_file}:4: order P-1 was refunded in full already (100.50 of 100.50)" in first.stderr
    )
    assert f"{csv_file}:5: no purchase with order number P-9" in first.stderr
    assert f"{csv_file}:6: amount '-3': Input should be greater than 0" in first.stderr
    assert "Traceback" not in first.stderr
    assert "imported 2, already there 0, rejected 3" in first.stdout
    assert "imported 0, already there 2, rejected 3" in again.stdout
    with db.unit_of_work(write=False) as session:
        left = views.balance(session, by_number(session, "M200001").id)
    db.dispose()
    assert left == 50  # 100 + 50 from the second order P-2, all of P-1 taken back


def _members(db, config, *numbers):
    with db.unit_of_work() as session:
        for number in numbers:
            open_membership(
                session,
                config,
                NewMember(name=number, phone=None, birthday=None, member_no=number),
                T0 - timedelta(days=30),
                source="test",
                welcome_bonus=False,
            )
        session.commit()


def test_the_import_refuses_what_the_api_refuses(db, config, tmp_path):
    _members(db, config, "M100001", "M100002")
    imports.import_file(
        "purchases",
        db,
        config,
        write(
            tmp_path,
            "first.csv",
            "order_id,member_no,amount,purchased_at\nP-1,M100001,100,2026-03-01T12:00:00+08:00\n",
        ),
        T0,
    )
    csv_file = write(
        tmp_path,
        "purchases.csv",
        "order_id,member_no,amount,purchased_at\n"
        "P-1,M100002,100,2026-03-01T12:00:00+08:00\n"  # the order belongs to another member
        "P-1,M100001,120,2026-03-01T12:00:00+08:00\n"  # with another amount
        "P-1,M100001,100,2026-03-01T12:00:00+08:00\n"  # the same purchase again: fine
        "P-2,M100001,100,2099-01-01T12:00:00+08:00\n"
        "P-3,M100001,100,1999-12-31T12:00:00+08:00\n"
        "P-4,M100001,100,2026-03-02T12:00:00+08:00\n"
        "P-4,M100002,100,2026-03-02T12:00:00+08:00\n",  # reused within the file
    )

    report = imports.import_file("purchases", db, config, csv_file, T0)

    problems = dict(report.errors)
    assert sorted(problems) == [2, 3, 5, 6, 8]
    assert "posted before with another member or amount" in problems[2]
    assert "posted before with another member or amount" in problems[3]
    assert "purchased_at: must not be in the future" in problems[5]
    assert "must not be before 2000-01-01" in problems[6]
    assert problems[8] == "order P-4 is repeated in the file at line 7 with another member_no"
    assert report.written is False
    with db.unit_of_work(write=False) as session:
        assert views.balance(session, by_number(session, "M100001").id) == 100


def test_a_referrer_named_in_the_import_earns_once_on_the_first_purchase(db, config, tmp_path):
    _members(db, config, "M100001")
    members = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent,referrer\n"
        "M100002,王芳,,,,zh,yes,m100001\n"
        "M100003,李四,,,,zh,yes,M100002\n",  # named earlier in the same file
    )
    purchases = write(
        tmp_path,
        "purchases.csv",
        "order_id,member_no,amount,purchased_at\n"
        "P-1,M100002,150,2026-03-01T12:00:00+08:00\n"
        "P-2,M100002,500,2026-03-02T12:00:00+08:00\n",
    )

    assert imports.import_file("members", db, config, members, T0).errors == []
    assert imports.import_file("purchases", db, config, purchases, T0).errors == []
    imports.import_file("purchases", db, config, purchases, T0)

    with db.unit_of_work(write=False) as session:
        referrer = by_number(session, "M100001")
        history = [(e.kind, e.points, e.reason) for e in views.history(session, referrer.id)]
        referee = by_number(session, "M100003")
        assert session.get(Member, referee.referrer_id).member_no == "M100002"
    assert history == [("referral", 300, "first purchase of M100002")]


def test_an_unknown_self_or_erased_referrer_is_a_row_error(db, config, tmp_path):
    _members(db, config, "M100001")
    erasure.erase(db, "M100001", Actor("ada", "admin"), T0)
    members = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent,referrer\n"
        "M100002,王芳,,,,zh,yes,M999999\n"
        "M100003,李四,,,,zh,yes,M100003\n"
        "M100004,赵六,,,,zh,yes,M100001\n",
    )

    report = imports.import_file("members", db, config, members, T0)

    assert report.errors == [
        (2, "referrer: no member M999999"),
        (3, "referrer is the member themselves"),
        (4, "referrer: M100001 was erased and cannot refer anyone"),
    ]


def test_a_row_shorter_or_longer_than_the_header_is_a_bad_row_in_every_kind_of_file(
    db, config, tmp_path
):
    members = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "M100061,短行,13900000061\n"
        "M100019,short\n"
        "M100020,多列,13900000020,1990-01-01,2026-01-01,zh,yes,extra,more\n",
    )
    purchases = write(
        tmp_path, "purchases.csv", "order_id,member_no,amount,purchased_at\nP-1,M100061,10\n"
    )
    refunds = write(tmp_path, "refunds.csv", "order_id,refund_id,amount\nP-1,R-1,1,2\n")

    refused = imports.import_file("members", db, config, members, T0, partial=True)
    bought = imports.import_file("purchases", db, config, purchases, T0, partial=True)
    refunded = imports.import_file("refunds", db, config, refunds, T0, partial=True)

    assert refused.errors == [
        (2, "lacks column(s) birthday, join_date, language, marketing_consent"),
        (3, "lacks column(s) phone, birthday, join_date, language, marketing_consent"),
        (4, "has 2 column(s) more than the header: 'extra', 'more'"),
    ]
    assert bought.errors == [(2, "lacks column(s) purchased_at")]
    assert refunded.errors == [(2, "has 1 column(s) more than the header: '2'")]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_an_empty_file_says_it_is_empty(sqlite_file, tmp_path):
    csv_file = write(tmp_path, "members.csv", "")

    result = memberbot(sqlite_file, "import", "members", str(csv_file))

    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Error: {csv_file} is empty: expected the header "
        "member_no,name,phone,birthday,join_date,language,marketing_consent"
    )


def test_a_member_number_repeated_with_other_values_is_a_bad_row_and_the_same_row_is_already_there(
    db, config, tmp_path
):
    _members(db, config, "M000001")
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "M100015,ok,13900000015,1990-01-01,2026-01-01,zh,yes\n"
        "M100015,dup,13900000016,1990-01-01,2026-01-01,zh,yes\n"
        "m100015,ok,13900000015,1990-01-01,2026-01-01,zh,yes\n"  # the same member again
        "M000001,别人,,,,en,no\n",
    )

    report = imports.import_file("members", db, config, csv_file, T0, partial=True)
    again = imports.import_file("members", db, config, csv_file, T0, partial=True)

    assert report.errors == [
        (3, "member M100015 is repeated in the file at line 2 with another name, phone"),
        (
            5,
            "member M000001 is already there with another name: an import only adds members",
        ),
    ]
    assert (report.imported, report.skipped) == (1, 1)
    assert (again.imported, again.skipped, len(again.errors)) == (0, 2, 2)
    with db.unit_of_work(write=False) as session:
        assert by_number(session, "M100015").phone == "13900000015"
        assert by_number(session, "M000001").name == "M000001"


def test_a_refund_repeated_in_the_file_with_another_amount_names_the_line(db, config, tmp_path):
    _members(db, config, "M100001")
    bought = "order_id,member_no,amount,purchased_at\nP-1,M100001,100,2026-03-01T12:00:00+08:00\n"
    imports.import_file("purchases", db, config, write(tmp_path, "p.csv", bought), T0)
    csv_file = write(tmp_path, "refunds.csv", "order_id,refund_id,amount\nP-1,R-1,10\nP-1,R-1,20\n")

    report = imports.import_file("refunds", db, config, csv_file, T0)

    assert report.errors == [
        (3, "refund R-1 of order P-1 is repeated in the file at line 2 with another amount")
    ]


def test_every_problem_of_a_member_row_is_reported_at_once_with_those_the_database_shows(
    db, config, tmp_path
):
    _members(db, config, "M100001")
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent,referrer\n"
        "M100014,坏行四,13900000014,1990-01-01,2026-01-01,fr,yes,M999999\n"
        "M100016,早入会,13900000016,2000-05-01,1999-01-01,zh,yes,M100001\n",
    )

    report = imports.import_file("members", db, config, csv_file, T0)

    assert report.errors == [
        (2, "language 'fr' must be zh or en; referrer: no member M999999"),
        (3, "join_date 1999-01-01 is before the birthday 2000-05-01"),
    ]


def test_the_same_file_imported_after_a_member_unsubscribed_in_chat_is_no_conflict(
    db, config, tmp_path
):
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "M100020,王五,13900000020,1990-01-01,2026-01-01,zh,yes\n",
    )
    imports.import_file("members", db, config, csv_file, T0)
    with db.unit_of_work() as session:
        member = by_number(session, "M100020")
        member.marketing_consent, member.language = False, "en"
        session.commit()

    again = imports.import_file("members", db, config, csv_file, T0)

    assert (again.imported, again.skipped, again.errors) == (0, 1, [])
    with db.unit_of_work(write=False) as session:
        assert by_number(session, "M100020").marketing_consent is False


def test_a_member_repeated_in_one_file_with_another_consent_is_a_bad_row(db, config, tmp_path):
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent\n"
        "M100023,Gus,13900000023,1990-01-01,2026-01-01,en,yes\n"
        "M100023,Gus,13900000023,1990-01-01,2026-01-01,en,no\n",
    )

    report = imports.import_file("members", db, config, csv_file, T0, partial=True)

    assert report.errors == [
        (3, "member M100023 is repeated in the file at line 2 with another marketing_consent")
    ]


def test_an_erased_member_and_the_ones_they_referred_are_no_conflict_but_not_brought_back(
    db, config, tmp_path
):
    csv_file = write(
        tmp_path,
        "members.csv",
        "member_no,name,phone,birthday,join_date,language,marketing_consent,referrer\n"
        "M100030,王芳,13900000030,1990-01-01,2026-01-01,zh,yes,\n"
        "M100031,李雷,13900000031,1991-01-01,2026-01-01,zh,yes,M100030\n",
    )
    imports.import_file("members", db, config, csv_file, T0)
    erasure.erase(db, "M100030", Actor("ada", "admin"), T0)

    again = imports.import_file("members", db, config, csv_file, T0, partial=True)

    assert again.errors == [
        (2, "member M100030 was erased at their request: an import does not bring them back")
    ]
    assert again.skipped == 1  # M100031: its referrer link, cleared by the erasure, is no clash
