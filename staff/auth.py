"""Workbench sign-in: a signed session cookie naming a server-side session row (so sign
out and deactivation end it at once), and a CSRF token on every form that posts.

The signing secret comes from STAFF_SESSION_SECRET; without it each process makes its
own, and a restart signs everyone out."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from storage.db import Database
from storage.models import StaffSession, StaffUser

log = logging.getLogger(__name__)

COOKIE = "memberbot_staff"
SIGNIN_COOKIE = "memberbot_signin"
SESSION_HOURS = 12


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, as a request sees them."""

    id: int
    username: str
    display_name: str
    role: str
    language: str
    csrf: str


def _secret() -> str:
    secret = os.environ.get("STAFF_SESSION_SECRET")
    if not secret:
        log.warning("STAFF_SESSION_SECRET is not set: staff sessions end when serve restarts")
        secret = secrets.token_urlsafe(32)
    return secret


class Sessions:
    def __init__(self, db: Database, secret: str | None = None):
        self.db = db
        self._signer = URLSafeTimedSerializer(secret or _secret(), salt="memberbot-staff")

    # -- signed-in sessions ----------------------------------------------------------------

    def open(self, user: StaffUser, at: datetime) -> str:
        """A new session for `user`; returns the cookie value."""
        token = secrets.token_urlsafe(32)
        with self.db.unit_of_work() as session:
            session.add(
                StaffSession(
                    token_hash=_digest(token),
                    staff_id=user.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=at,
                    expires_at=at + timedelta(hours=SESSION_HOURS),
                )
            )
            session.commit()
        return self._signer.dumps(token)

    def current(self, cookie: str | None, at: datetime) -> Staff | None:
        token = self._unsign(cookie, SESSION_HOURS * 3600)
        if token is None:
            return None
        with self.db.unit_of_work(write=False) as session:
            found = session.execute(
                select(StaffSession, StaffUser)
                .join(StaffUser, StaffUser.id == StaffSession.staff_id)
                .where(StaffSession.token_hash == _digest(token))
            ).first()
            if found is None:
                return None
            row, user = found
            if row.ended_at is not None or row.expires_at <= at or not user.active:
                return None
            return Staff(
                user.id, user.username, user.display_name, user.role, user.language, row.csrf_token
            )

    def close(self, cookie: str | None, at: datetime) -> None:
        token = self._unsign(cookie, None)
        if token is None:
            return
        with self.db.unit_of_work() as session:
            row = session.scalar(
                select(StaffSession).where(StaffSession.token_hash == _digest(token))
            )
            if row is not None and row.ended_at is None:
                row.ended_at = at
                session.commit()

    # -- the sign-in form's own token ------------------------------------------------------

    def signin_token(self) -> tuple[str, str]:
        """(cookie value, form value) for the sign-in form: they must come back together."""
        nonce = secrets.token_urlsafe(24)
        return self._signer.dumps(nonce, salt="signin"), nonce

    def signin_ok(self, cookie: str | None, form_value: str | None) -> bool:
        if not cookie or not form_value:
            return False
        try:
            nonce = self._signer.loads(cookie, salt="signin", max_age=3600)
        except BadSignature:
            return False
        return hmac.compare_digest(str(nonce), form_value)

    def _unsign(self, cookie: str | None, max_age: int | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.loads(cookie, max_age=max_age)
        except BadSignature:
            return None


def csrf_ok(staff: Staff | None, form_value: str | None) -> bool:
    return bool(staff and form_value and hmac.compare_digest(staff.csrf, form_value))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
