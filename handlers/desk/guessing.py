"""Guessing staff passwords and API keys, throttled: failures are counted per account and
per client address; `sign_in.max_failures` within `sign_in.window_minutes` lock the
account (or the address) out for `sign_in.lock_seconds`, doubling with each further
failure. Every failure, and every sign-in refused for waiting, is an audit event."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.config import SignIn
from core.lockout import Rule
from handlers.desk import staff_accounts
from storage import attempts
from storage.db import Database
from storage.models import AuditEvent, StaffUser

ACCOUNT, ADDRESS, API_ADDRESS = "signin_account", "signin_address", "api_address"


@dataclass(frozen=True)
class Attempt:
    """What a try came to: the user (or the key's holder), or how long to wait."""

    user: StaffUser | None = None
    key: staff_accounts.KeyHolder | None = None
    retry_after: int | None = None  # seconds; set when the caller is locked out


def rule(settings: SignIn) -> Rule:
    return Rule(
        settings.max_failures,
        timedelta(minutes=settings.window_minutes),
        timedelta(seconds=settings.lock_seconds),
        growing=True,
        longest=timedelta(hours=1),
    )


def sign_in(
    db: Database, settings: SignIn, username: str, password: str, address: str, at: datetime
) -> Attempt:
    """A staff member signing in from `address`."""
    who = username.strip().lower()[:50]
    subjects = ((ACCOUNT, who), (ADDRESS, address))
    if wait := _locked(db, settings, subjects, at):
        _audit(db, "signin_refused", who, address, at)
        return Attempt(retry_after=wait)
    user = staff_accounts.authenticate(db, username, password)
    if user is not None:
        with db.unit_of_work() as session:
            attempts.forgive(session, ACCOUNT, who)
            session.commit()
        return Attempt(user=user)
    return Attempt(retry_after=_failed(db, settings, subjects, "signin_failed", who, at))


def api_key(db: Database, settings: SignIn, key: str, address: str, at: datetime) -> Attempt:
    """A system calling the REST API from `address` with `key`."""
    subjects = ((API_ADDRESS, address),)
    if wait := _locked(db, settings, subjects, at):
        return Attempt(retry_after=wait)
    with db.unit_of_work(write=False) as session:
        holder = staff_accounts.key_holder(session, key)
    if holder is not None:
        return Attempt(key=holder)
    return Attempt(retry_after=_failed(db, settings, subjects, "api_key_failed", "-", at))


def _locked(db: Database, settings: SignIn, subjects, at: datetime) -> int | None:
    with db.unit_of_work(write=False) as session:
        ends = [attempts.lock_end(session, s, who, rule(settings), at) for s, who in subjects]
    until = max(filter(None, ends), default=None)
    return max(1, math.ceil((until - at).total_seconds())) if until else None


def _failed(db: Database, settings: SignIn, subjects, action: str, who: str, at: datetime):
    """Note a failure; the wait now due, or None while the caller may still try."""
    address = subjects[-1][1]
    with db.unit_of_work() as session:
        for scope, subject in subjects:
            attempts.fail(session, scope, subject, rule(settings), at)
        session.add(_event(action, who, address, at))
        session.commit()
    return _locked(db, settings, subjects, at)


def _audit(db: Database, action: str, who: str, address: str, at: datetime) -> None:
    with db.unit_of_work() as session:
        session.add(_event(action, who, address, at))
        session.commit()


def _event(action: str, who: str, address: str, at: datetime) -> AuditEvent:
    return AuditEvent(
        actor=f"address:{address}"[:100],
        action=action,
        entity="staff_user" if who != "-" else "api_key",
        entity_id=who[:50],
        data={"address": address},
        created_at=at,
    )
