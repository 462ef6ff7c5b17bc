"""CSV import of members, purchases and refunds: bad rows are reported by line, good rows
land once."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError

from core.config import Config
from handlers.desk import purchases, refunds
from handlers.desk.purchases import Purchase, PurchaseRefused
from handlers.desk.refunds import Refund, RefundRefused
from storage.db import Database
from storage.members import NewMember, by_number, by_phone, open_membership

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


class ImportFileError(Exception):
    """The file as a whole cannot be read (missing, wrong header)."""


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0  # already there: an earlier import of the same row
    errors: list[tuple[int, str]] = field(default_factory=list)


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def _rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(
                f"{path}: header lacks column(s) {', '.join(missing)}; expected {','.join(required)}"
            )
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column} {value!r} is not a date like 1990-05-20") from None


def _member(row: dict[str, str], config: Config) -> NewMember:
    if not row["member_no"] or not row["member_no"][0].isalpha():
        raise ValueError(f"member_no {row['member_no']!r} must be like M000123")
    if not row["name"]:
        raise ValueError("name is empty")
    phone = row["phone"]
    if phone and not (phone.isdigit() and len(phone) == 11 and phone[0] == "1"):
        raise ValueError(f"phone {phone!r} is not an 11-digit mobile number")
    consent = row["marketing_consent"].lower()
    if consent not in TRUE | FALSE:
        raise ValueError(f"marketing_consent {row['marketing_consent']!r} must be yes or no")
    language = row["language"] or config.default_language
    if language not in ("zh", "en"):
        raise ValueError(f"language {language!r} must be zh or en")
    return NewMember(
        name=row["name"],
        phone=phone or None,
        birthday=_date(row["birthday"], "birthday") if row["birthday"] else None,
        language=language,
        marketing_consent=consent in TRUE,
        member_no=row["member_no"].upper(),
        join_date=_date(row["join_date"], "join_date") if row["join_date"] else None,
    )


def _each_row(
    path: Path,
    columns: list[str],
    land: Callable[[dict[str, str]], bool],
    progress: Callable[[int], None],
) -> ImportReport:
    """Every row through `land` (True: imported, False: there already); a ValueError
    refuses the row, reported with its line."""
    report = ImportReport()
    for line, row in _rows(path, columns):
        try:
            landed = land(row)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
        else:
            if landed:
                report.imported += 1
            else:
                report.skipped += 1
        progress(1)
    return report


def import_members(
    db: Database,
    config: Config,
    path: Path,
    at: datetime,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    def land(row: dict[str, str]) -> bool:
        new = _member(row, config)
        with db.unit_of_work() as session:
            if by_number(session, row["member_no"]):
                return False
            if new.phone and by_phone(session, new.phone):
                raise ValueError(f"phone {new.phone} belongs to another member")
            open_membership(session, config, new, at, source=f"import:{path.name}")
            session.commit()
            return True

    return _each_row(path, MEMBER_COLUMNS, land, progress)


def import_purchases(
    db: Database,
    config: Config,
    path: Path,
    at: datetime,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Each row posted as the REST API posts a purchase (handlers/desk/purchases.py)."""

    def land(row: dict[str, str]) -> bool:
        try:
            purchase = Purchase.model_validate(
                {k: row[k] for k in PURCHASE_COLUMNS}
                | {"purchased_at": row["purchased_at"] or None}
            )
            return purchases.post(db, config, purchase, f"import:{path.name}", at).created
        except ValidationError as exc:
            raise ValueError(_problems(exc)) from None
        except PurchaseRefused as refused:
            raise ValueError(
                f"{refused.field}: {refused}" if refused.field else str(refused)
            ) from None

    return _each_row(path, PURCHASE_COLUMNS, land, progress)


def import_refunds(
    db: Database,
    config: Config,
    path: Path,
    at: datetime,
    progress: Callable[[int], None] = lambda n: None,
) -> ImportReport:
    """Each row refunded as the REST API refunds (handlers/desk/refunds.py); an empty
    amount refunds what is left of the order."""

    def land(row: dict[str, str]) -> bool:
        try:
            asked = Refund.model_validate(
                {"refund_id": row["refund_id"], "amount": row["amount"] or None}
            )
            return refunds.refund(
                db, config, row["order_id"], asked, f"import:{path.name}", at
            ).created
        except ValidationError as exc:
            raise ValueError(_problems(exc)) from None
        except RefundRefused as refused:
            raise ValueError(str(refused)) from None

    return _each_row(path, REFUND_COLUMNS, land, progress)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc'])} {error['input']!r}: {error['msg']}"
        for error in exc.errors()
    )
