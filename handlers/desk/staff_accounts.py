"""Staff accounts and API keys: argon2-hashed passwords, roles, and keys stored as digests.

Roles, least to most: agent (answers tickets, grants compensation within policy),
supervisor (also approves compensation beyond policy, edits canned replies, receives
escalations), admin (also manages accounts and API keys)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.ticket_rules import OPEN_STATUSES, unassigned_status
from storage.db import Database
from storage.models import ApiKey, AuditEvent, StaffSession, StaffUser, Ticket, TicketEvent

ROLES = ("agent", "supervisor", "admin")
SCOPES = ("members", "purchases", "vouchers", "tickets")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
MIN_PASSWORD = 8
KEY_PREFIX = "mbk_"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both answers take as long. Made at
    the first sign-in, not at import: a hash takes argon2's 64 MB and every command imports
    this module."""
    return _hasher.hash(secrets.token_urlsafe(16))


class StaffError(Exception):
    """A request the account rules refuse; the message says what to fix."""


@dataclass(frozen=True)
class NewKey:
    name: str
    key: str  # shown once, never stored


@dataclass(frozen=True)
class KeyHolder:
    """Who is calling the API with a live key, and what the key may reach."""

    name: str
    scopes: tuple[str, ...] | None  # None: every scope

    def may(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


def at_least(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def add_staff(
    db: Database,
    username: str,
    display_name: str,
    password: str,
    role: str,
    language: str,
    at: datetime,
    actor: str = "cli",
) -> StaffUser:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise StaffError(
            f"username {username!r}: use 2 to 50 lower-case letters, digits, dots, dashes"
        )
    if role not in ROLES:
        raise StaffError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if language not in ("zh", "en"):
        raise StaffError(f"language {language!r}: use zh or en")
    _check_password(password)
    with db.unit_of_work() as session:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)):
            raise StaffError(f"a staff account {username!r} already exists")
        user = StaffUser(
            username=username,
            display_name=display_name.strip() or username,
            password_hash=_hasher.hash(password),
            role=role,
            language=language,
            active=True,
            created_at=at,
        )
        session.add(user)
        _audit(session, actor, "staff_added", "staff_user", username, at, role=role)
        session.commit()
        session.expunge(user)
        return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password needs at least {MIN_PASSWORD} characters")


def _audit(session: Session, actor: str, action: str, entity: str, ident: str, at, **data):
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=ident,
            data=data or None,
            created_at=at,
        )
    )


def _account(session: Session, username: str) -> StaffUser:
    user = by_username(session, username)
    if user is None:
        raise StaffError(
            f"no staff account {username.strip().lower()!r}: see `memberbot staff list`"
        )
    return user


def _return_tickets(session: Session, user: StaffUser, actor: str, at: datetime) -> int:
    """Unassigned as `memberbot tickets assign T -` would, with the reason in the history."""
    held = session.scalars(
        select(Ticket)
        .where(Ticket.assignee_id == user.id, Ticket.status.in_(OPEN_STATUSES))
        .with_for_update()
    ).all()
    for ticket in held:
        ticket.assignee_id, ticket.status = None, unassigned_status(ticket.status)
        ticket.updated_at = at
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind="assigned",
                actor=actor,
                body=f"back to the queue: {user.username}'s account was deactivated",
                data={"to": None, "before": user.username, "status": ticket.status},
                created_at=at,
            )
        )
    return len(held)


def _end_sessions(session: Session, user: StaffUser, at: datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=at)
    )


def deactivate(db: Database, username: str, actor: str, at: datetime) -> int:
    """The account signs in no more, its open sessions end now, and `--as` refuses it. Its
    open tickets go back to the queue, as nobody would answer them otherwise; returns how
    many."""
    with db.unit_of_work() as session:
        user = _account(session, username)
        if user.username == actor:
            raise StaffError("you cannot deactivate your own account")
        if not user.active:
            raise StaffError(f"the staff account {user.username!r} is deactivated already")
        if user.role == "admin" and not _other_admins(session, user):
            raise StaffError(
                f"{user.username!r} is the last active admin: add another admin first, or "
                "nobody could manage the accounts"
            )
        user.active = False
        _end_sessions(session, user, at)
        returned = _return_tickets(session, user, actor, at)
        _audit(session, actor, "staff_deactivated", "staff_user", user.username, at)
        session.commit()
        return returned


def _other_admins(session: Session, user: StaffUser) -> bool:
    return (
        session.scalar(
            select(StaffUser.id).where(
                StaffUser.role == "admin", StaffUser.active.is_(True), StaffUser.id != user.id
            )
        )
        is not None
    )


def require_admin(db: Database, username: str) -> None:
    """Who an admin action is recorded as must be an active admin."""
    with db.unit_of_work(write=False) as session:
        user = by_username(session, username)
        if user is None or not user.active or user.role != "admin":
            what = "no active staff account" if user is None or not user.active else user.role
            raise StaffError(
                f"--by {username}: {what}; admin actions are recorded as an active admin's, "
                "or leave --by out to record them as the command line's"
            )


def require_account(db: Database, username: str) -> None:
    """Refuse an unknown account before anything is asked for it."""
    with db.unit_of_work(write=False) as session:
        _account(session, username)


def set_password(db: Database, username: str, password: str, actor: str, at: datetime) -> None:
    """A new password; the account's open sessions end, so it signs in again with it."""
    _check_password(password)
    with db.unit_of_work() as session:
        user = _account(session, username)
        user.password_hash = _hasher.hash(password)
        _end_sessions(session, user, at)
        _audit(session, actor, "staff_password_set", "staff_user", user.username, at)
        session.commit()


def authenticate(db: Database, username: str, password: str) -> StaffUser | None:
    """The active account these credentials open, or None; the same work either way."""
    with db.unit_of_work() as session:
        user = session.scalar(
            select(StaffUser).where(StaffUser.username == username.strip().lower())
        )
        try:
            _hasher.verify(user.password_hash if user else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
            session.commit()
        session.expunge(user)  # the caller keeps it after this unit of work ends
        return user


def audit_trail(session: Session, limit: int = 50) -> list[AuditEvent]:
    """The latest hand-made changes, newest first: who did what, when."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    return list(session.scalars(query.limit(limit)))


def staff_list(session: Session, active_only: bool = True) -> list[StaffUser]:
    query = select(StaffUser).order_by(StaffUser.role.desc(), StaffUser.username)
    if active_only:
        query = query.where(StaffUser.active.is_(True))
    return list(session.scalars(query))


def by_username(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))


# -- API keys --------------------------------------------------------------------------
# A key is 32 random bytes: a fast digest is as safe to store as a slow password hash, and
# keeps every API request at one indexed lookup.


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    db: Database, name: str, actor: str, at: datetime, scopes: list[str] | None = None
) -> NewKey:
    """A new key; `scopes` limit what it reaches (None or empty: everything)."""
    name = name.strip()
    if not name:
        raise StaffError("an API key needs a name saying who uses it, e.g. pos-shanghai")
    unknown = [s for s in scopes or [] if s not in SCOPES]
    if unknown:
        raise StaffError(f"scope {unknown[0]!r}: use one of {', '.join(SCOPES)}")
    chosen = sorted(set(scopes), key=SCOPES.index) if scopes else None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.unit_of_work() as session:
        if session.scalar(select(ApiKey).where(ApiKey.name == name)):
            raise StaffError(f"an API key named {name!r} already exists")
        session.add(
            ApiKey(
                name=name,
                prefix=key[:12],
                key_hash=digest(key),
                created_by=actor,
                created_at=at,
                scopes=chosen,
            )
        )
        _audit(session, actor, "api_key_created", "api_key", name, at, scopes=chosen)
        session.commit()
    return NewKey(name, key)


def revoke_key(db: Database, name: str, actor: str, at: datetime) -> None:
    """The key opens the API no more, from the next request on."""
    with db.unit_of_work() as session:
        found = session.scalar(select(ApiKey).where(ApiKey.name == name.strip()))
        if found is None:
            names = [key.name for key in api_keys(session) if key.revoked_at is None]
            raise StaffError(
                f"no API key named {name.strip()!r}; "
                + (f"the keys in use are {', '.join(names)}" if names else "there are no keys")
            )
        if found.revoked_at is not None:
            raise StaffError(f"the API key {found.name!r} is revoked already")
        found.revoked_at = at
        _audit(session, actor, "api_key_revoked", "api_key", found.name, at)
        session.commit()


def api_keys(session: Session) -> list[ApiKey]:
    return list(
        session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name))
    )


def key_holder(session: Session, key: str) -> KeyHolder | None:
    """The live key's name and scopes, or None for a missing, wrong or revoked one."""
    if not key.startswith(KEY_PREFIX):
        return None
    found = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key)))
    if found is None or found.revoked_at is not None:
        return None
    # The lookup was by digest; compare once more in constant time all the same.
    if not hmac.compare_digest(found.key_hash, digest(key)):
        return None
    return KeyHolder(found.name, tuple(found.scopes) if found.scopes else None)
