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
from storage.models import Member

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
    """A row's problems, every one of them. `clash`: its key (member number, order, refund)
    is there already with other values, which the file may have written itself a few lines
    up: then it is told as the file repeating itself."""

    def __init__(self, problems: list[str], clash: str | None = None):
        super().__init__("; ".join(problems + ([clash] if clash else [])))
        self.problems, self.clash = problems, clash


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


def _member(row: dict[str, str], config: Config, today: date) -> tuple[NewMember, list[str]]:
    """The row as a new member, and every problem the row has on its own."""
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
    if birthday and joined and joined < birthday:
        problems.append(f"join_date {joined} is before the birthday {birthday}")
    if _names_self(row):
        problems.append("referrer is the member themselves")
    new = NewMember(
        name=row["name"],
        phone=phone or None,
        birthday=birthday,
        language=language,
        marketing_consent=consent in TRUE,
        member_no=number,
        join_date=joined,
    )
    return new, problems


def _names_self(row: dict[str, str]) -> bool:
    return bool(row["member_no"]) and row.get("referrer", "").upper() == row["member_no"].upper()


def _add_member(
    session: Session, config: Config, row: dict[str, str], at: datetime, source: str
) -> bool:
    """True when the member was opened, False when the same member was there already."""
    new, problems = _member(row, config, at.astimezone(config.zone).date())
    existing = by_number(session, row["member_no"])
    if existing is not None and existing.erased_at is not None:
        raise RowError(
            [
                f"member {existing.member_no} was erased at their request: an import does not bring them back"
            ]
        )
    if existing is not None:
        others = _differences(existing, new)
        clash = (
            f"member {existing.member_no} is already there with another {', '.join(others)}: "
            "an import only adds members"
            if others
            else None
        )
        if problems or clash:
            raise RowError(problems, clash)
        return False
    if new.phone and by_phone(session, new.phone):
        problems.append(f"phone {new.phone} belongs to another member")
    referrer = None
    if row.get("referrer") and not _names_self(row):
        try:
            referrer = find_referrer(session, row["referrer"])
        except ReferralRefused as exc:
            problems.append(f"referrer: {exc}")
    if problems:
        raise RowError(problems)
    named = NewMember(**{**vars(new), "referrer_id": referrer.id if referrer else None})
    open_membership(session, config, named, at, source=source)
    return True


def _differences(member: Member, new: NewMember) -> list[str]:
    """The columns in which the row says otherwise than the member on record; an empty
    join date (today, on the first import) says nothing. What changes after an import
    without the operator (phone, language and consent in chat; a referrer link an erasure
    cleared) is not compared: the same file imported again is no conflict, and what
    changed stays."""
    stated = {
        "name": (member.name, new.name),
        "birthday": (member.birthday, new.birthday),
        "join_date": (member.join_date, new.join_date or member.join_date),
    }
    return [column for column, (kept, said) in stated.items() if kept != said]


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
        if refused.code == "conflict":
            raise RowError([], clash=str(refused)) from None
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
        if refused.code == "conflict":
            raise RowError([], clash=str(refused)) from None
        raise RowError([str(refused)]) from None


def _folded(row: dict[str, str]) -> dict[str, str]:
    """A row as compared with another: `m100015` is `M100015`."""
    return {column: value.strip().casefold() for column, value in row.items()}


def _reasons(
    exc: RowError, key: str, row: dict[str, str], earlier: tuple[int, dict[str, str]] | None
) -> str:
    """A clash with a row this file wrote is the file repeating itself, not a record from
    before: say where, and in which columns the two rows differ."""
    if not (exc.clash and earlier):
        return str(exc)
    line, first = earlier
    others = [c for c, value in _folded(row).items() if value != _folded(first).get(c)]
    repeat = f"is repeated in the file at line {line} with another {', '.join(others)}"
    return "; ".join(exc.problems + [f"{key} {repeat}"])


def _problems(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'])} {e['input']!r}: {e['msg']}" for e in exc.errors()
    ]


@dataclass(frozen=True)
class Kind:
    """One kind of file: its columns, how one row is written, and what to tell the operator."""

    columns: list[str]
    add: Callable[[Session, Config, dict[str, str], datetime, str], bool]
    key: Callable[[dict[str, str]], str]  # what a row is about, named as people name it
    help: str


KINDS = {
    "members": Kind(
        MEMBER_COLUMNS,
        _add_member,
        lambda row: f"member {row['member_no'].upper()}",
        "Members: member_no,name,phone,birthday (YYYY-MM-DD),join_date,language (zh/en),"
        "marketing_consent (yes/no)[,referrer (a member number)]. New members get the welcome "
        "bonus; a referrer earns the referral bonus on the new member's first purchase.",
    ),
    "purchases": Kind(
        PURCHASE_COLUMNS,
        _add_purchase,
        lambda row: f"order {row['order_id']}",
        "Purchases: order_id,member_no,amount (yuan),purchased_at (ISO 8601); each row posted "
        "as the REST API posts a purchase, earning points once per order.",
    ),
    "refunds": Kind(
        REFUND_COLUMNS,
        _add_refund,
        lambda row: f"refund {row['refund_id']} of order {row['order_id']}",
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
    chosen = KINDS[kind]
    report = ImportReport()
    rows = list(_rows(path, chosen.columns, encoding))
    good: dict[str, tuple[int, dict[str, str]]] = {}  # key: the line that wrote it
    with db.unit_of_work() as session:
        for line, row, shape in rows:
            try:
                if shape:
                    raise RowError(shape)
                first = good.get(chosen.key(row))
                if first is not None and _folded(first[1]) != _folded(row):
                    # The file repeats itself otherwise: every column counts, even those the
                    # database comparison leaves to the member (consent, language, phone).
                    raise RowError([], clash="repeated")
                with session.begin_nested():  # a bad row rolls back to here
                    added = chosen.add(session, config, row, at, f"import:{path.name}")
            except RowError as exc:
                key = chosen.key(row)
                report.errors.append((line, _reasons(exc, key, row, good.get(key))))
            else:
                good.setdefault(chosen.key(row), (line, row))
                report.imported += added
                report.skipped += not added
            progress(1)
        report.written = partial or not report.errors
        if report.written:
            session.commit()
    if not report.written:
        report.imported = report.skipped = 0
    return report
