"""Failed guesses at a secret, one row each, counted per scope and subject; and signed
requests seen, so a replayed one is recognised. Shared by every process through the
database; what can no longer matter is deleted as new rows come."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.lockout import Rule, locked_until
from storage.db import Database, rows_changed
from storage.models import FailedAttempt, SignedRequest

SUBJECT_MAX = 200
SEEN = insert(SignedRequest.__table__)  # every WeChat message: built once, on the table


def _subject(subject: str) -> str:
    return subject[:SUBJECT_MAX]


def lock_end(session: Session, scope: str, subject: str, rule: Rule, at: datetime):
    """When the lockout of `subject` ends, or None when it is not locked out."""
    failures = session.scalars(
        select(FailedAttempt.at).where(
            FailedAttempt.scope == scope,
            FailedAttempt.subject == _subject(subject),
            FailedAttempt.at > rule.horizon(at),
        )
    ).all()
    return locked_until(list(failures), rule, at)


def fail(session: Session, scope: str, subject: str, rule: Rule, at: datetime) -> None:
    """Note one failure (and forget this scope's failures that can no longer count)."""
    session.execute(
        delete(FailedAttempt).where(
            FailedAttempt.scope == scope, FailedAttempt.at <= rule.horizon(at)
        )
    )
    session.add(FailedAttempt(scope=scope, subject=_subject(subject), at=at))


def forgive(session: Session, scope: str, subject: str) -> None:
    """The subject proved itself: its failures no longer count."""
    session.execute(
        delete(FailedAttempt).where(
            FailedAttempt.scope == scope, FailedAttempt.subject == _subject(subject)
        )
    )


def first_sight(db: Database, channel: str, signature: str, body: bytes, at: datetime) -> bool:
    """True when this signed request has not been seen before, or only with this very
    body (the platform retrying the same message, which the inbound claim dedupes);
    False when the signature comes back with another body: a replay."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        with db.transaction() as conn:
            conn.execute(
                SEEN,
                {"channel": channel, "signature": signature[:64], "body_digest": digest,
                 "seen_at": at},
            )  # fmt: skip
        return True
    except IntegrityError:
        with db.unit_of_work(write=False) as session:
            seen = session.get(SignedRequest, (channel, signature[:64]))
            return seen is not None and seen.body_digest == digest


def forget_signatures_before(db: Database, before: datetime) -> int:
    with db.unit_of_work() as session:
        gone = session.execute(delete(SignedRequest).where(SignedRequest.seen_at < before))
        session.commit()
        return rows_changed(gone)
