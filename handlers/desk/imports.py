"""CSV import of members, purchases and refunds, as strict as the API: every row is checked with the
same rules (purchases with the API's `Purchase` model and its one use case), every problem
of every row is reported with its line, and a file with a bad row writes nothing unless
`partial` keeps the good rows. Importing the same file again imports nothing twice.

A file is UTF-8 (with or without a byte-order mark) or GBK, detected, or in the encoding
named."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.config import Config
from handlers.desk import purchases, refunds
from handlers.desk.purchases import MEMBER_NO, Purchase, PurchaseRefused
from handlers.desk.refunds import Refund, RefundRefused
from storage.db import Database
from storage.members import (
    NewMember,
    ReferralRefused,
    by_number,
    by_phone,
    find_referrer,
    open_membership,
)

MEMBER_COLUMNS = [
    "member_no",
    "name",
    "phone",
    "birthday",
    "join_date",
    "language",
    "marketing_consent",
]
PURCHASE_COLUMNS = ["order_id", "member_no", "amount", "purchased_at"]
REFUND_COLUMNS = ["order_id", "refund_id", "amount"]
TRUE = {"1", "true", "yes", "y", "是"}
FALSE = {"0", "false", "no", "n", "否", ""}
DETECTED = ("utf-8-sig", "gb18030")  # GB18030 reads every GBK file


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, undecodable, wrong header)."""


class RowError(ValueError):
    """A row's problems, every one of them."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # already there: an earlier import of the same row
    errors: list[tuple[int, str]] = field(default_factory=list)
    written: bool = True  # false: a bad row stopped the whole file


def read_text(path: Path, encoding: str | None = None) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFileError(
                f"--encoding {encoding!r} is not an encoding Python knows"
            ) from None
        chosen = ["utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding]
    else:
        chosen = list(DETECTED)
    for name in chosen:
        try:
            return raw.decode(name)
        except UnicodeDecodeError:
            continue
    if encoding:
        raise ImportFileError(f"{path} is not {encoding} text: check --encoding")
    raise ImportFileError(f"{path} is neither UTF-8 nor GBK text: give its --encoding")


def count_rows(path: Path, encoding: str | None = None) -> int:
    return max(0, len(read_text(path, encoding).splitlines()) - 1)


def _rows(
    path: Path, required: list[str], encoding: str | None
) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    """Each row with its line and what is wrong with its shape: a row shorter or longer
    than the header has its values in the wrong columns, so nothing else of it is read."""
    reader = csv.DictReader(io.StringIO(read_text(path, encoding), newline=""))
    if reader.fieldnames is None:
        raise ImportFileError(f"{path} is empty: expected the header {','.join(required)}")
    missing = [c for c in required if c not in reader.fieldnames]
    if missing:
        raise ImportFileError(
            f"{path}: header lacks column(s) {', '.join(missing)}; expected {','.join(required)}"
        )
    for row in reader:
        shape = []
        if lacking := [k for k, v in row.items() if k is not None and v is None]:
            shape.append(f"lacks column(s) {', '.join(lacking)}")
        if extra := row.get(None):
            shape.append(
                f"has {len(extra)} column(s) more than the header: {', '.join(map(repr, extra))}"
            )
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}, shape


def _day(value: str, column: str, today: date, problems: list[str]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems.append(f"{column} {value!r} is not a date like 1990-05-20")
        return None
    if day > today:
        problems.append(f"{column} {value} is in the future")
    elif day < date(1900, 1, 1):
        problems.append(f"{column} {value} is before 1900")
    return day


def _member(row: dict[str, str], config: Config, today: date) -> NewMember:
    """The row as a new member, or RowError with every problem it has."""
    problems: list[str] = []
    number = row["member_no"].upper()
    if not re.match(MEMBER_NO, number):
        problems.append(f"member_no {row['member_no']!r} must be like M000123")
    if not row["name"]:
        problems.append("name is empty")
    phone = row["phone"]
    if phone and not (phone.isdigit() and len(phone) == 11 and phone[0] == "1"):
        problems.append(f"phone {phone!r} is not an 11-digit mobile number")
    birthday = _day(row["birthday"], "birthday", today, problems)
    joined = _day(row["join_date"], "join_date", today, problems)
    consent = row["marketing_consent"].lower()
    if consent not in TRUE | FALSE:
        problems.append(f"marketing_consent {row['marketing_consent']!r} must be yes or no")
    language = row["language"] or config.default_language
    if language not in ("zh", "en"):
        problems.append(f"language {language!r} must be zh or en")
    if row.get("referrer", "").upper() == number and number:
        problems.append("referrer is the member themselves")
    if problems:
        raise RowError(problems)
    return NewMember(
        name=row["name"],
        phone=phone or None,
        birthday=birthday,
        language=language,
        marketing_consent=consent in TRUE,
        member_no=number,
        join_date=joined,
    )


def _add_member(
    session: Session, config: Config, row: dict[str, str], at: datetime, source: str
) -> bool:
    """True when the member was opened, False when the number was there already."""
    new = _member(row, config, at.astimezone(config.zone).date())
    if by_number(session, row["member_no"]):
        return False
    problems = []
    if new.phone and by_phone(session, new.phone):
        problems.append(f"phone {new.phone} belongs to another member")
    referrer = None
    if row.get("referrer"):
        try:
            referrer = find_referrer(session, row["referrer"])
        except ReferralRefused as exc:
            problems.append(f"referrer: {exc}")
    if problems:
        raise RowError(problems)
    named = NewMember(**{**vars(new), "referrer_id": referrer.id if referrer else None})
    open_membership(session, config, named, at, source=source)
    return True


def _add_purchase(
    session: Session, config: Config, row: dict[str, str], at: datetime, source: str
) -> bool:
    """True when the purchase earned points, False when the order had been posted the same."""
    try:
        purchase = Purchase.model_validate(
            {k: row[k] for k in PURCHASE_COLUMNS} | {"purchased_at": row["purchased_at"] or None}
        )
    except ValidationError as exc:
        raise RowError(_problems(exc)) from None
    try:
        return purchases.record(session, config, purchase, source, at).created
    except PurchaseRefused as refused:
        raise RowError([f"{refused.field}: {refused}" if refused.field else str(refused)]) from None


def _add_refund(
    session: Session, config: Config, row: dict[str, str], at: datetime, source: str
) -> bool:
    """True when the refund took points back, False when the refund id had been seen."""
    try:
        asked = Refund.model_validate(
            {"refund_id": row["refund_id"], "amount": row["amount"] or None}
        )
    except ValidationError as exc:
        raise RowError(_problems(exc)) from None
    try:
        return refunds.record(session, config, row["order_id"], asked, source, at).created
    except RefundRefused as refused:
        raise RowError([str(refused)]) from None


def _problems(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'])} {e['input']!r}: {e['msg']}" for e in exc.errors()
    ]


@dataclass(frozen=True)
class Kind:
    """One kind of file: its columns, how one row is written, and what to tell the operator."""

    columns: list[str]
    add: Callable[[Session, Config, dict[str, str], datetime, str], bool]
    help: str


KINDS = {
    "members": Kind(
        MEMBER_COLUMNS,
        _add_member,
        "Members: member_no,name,phone,birthday (YYYY-MM-DD),join_date,language (zh/en),"
        "marketing_consent (yes/no)[,referrer (a member number)]. New members get the welcome "
        "bonus; a referrer earns the referral bonus on the new member's first purchase.",
    ),
    "purchases": Kind(
        PURCHASE_COLUMNS,
        _add_purchase,
        "Purchases: order_id,member_no,amount (yuan),purchased_at (ISO 8601); each row posted "
        "as the REST API posts a purchase, earning points once per order.",
    ),
    "refunds": Kind(
        REFUND_COLUMNS,
        _add_refund,
        "Refunds: order_id,refund_id,amount (yuan; empty: the rest of the order); each row "
        "refunded as the REST API refunds, taking back the points once per refund id.",
    ),
}


def import_file(
    kind: str,
    db: Database,
    config: Config,
    path: Path,
    at: datetime,
    partial: bool = False,
    encoding: str | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Every row in a savepoint of one unit of work: a bad row is undone and reported;
    the whole file is committed only if no row was bad, or if `partial`."""
    columns, add = KINDS[kind].columns, KINDS[kind].add
    report = ImportReport()
    rows = list(_rows(path, columns, encoding))
    with db.unit_of_work() as session:
        for line, row, shape in rows:
            try:
                if shape:
                    raise RowError(shape)
                with session.begin_nested():  # a bad row rolls back to here
                    added = add(session, config, row, at, f"import:{path.name}")
            except RowError as exc:
                report.errors.append((line, str(exc)))
            else:
                report.imported += added
                report.skipped += not added
            progress(1)
        report.written = partial or not report.errors
        if report.written:
            session.commit()
    if not report.written:
        report.imported = report.skipped = 0
    return report
