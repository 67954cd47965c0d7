"""Clinician accounts: creating them, signing in (rate-limited), and server-side sessions.

Plain functions over a database session; the clinician blueprint turns requests into calls.
A session's cookie holds only a random 256-bit token; the database keeps its SHA-256, so a
database leak does not leak working sessions, and deleting the cookie's row (or revoking it) ends
the session everywhere at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.auth import api_tokens, passwords, throttle
from intake.clock import SessionClock, as_utc, utcnow
from intake.models import User, UserSession
from intake.tokens import hash_token

ROLES = ("clinician", "admin")
#: 32 random bytes: 256 bits, like the patient links.
TOKEN_BYTES = 32
PASSWORD_LINK_LIFETIME = timedelta(hours=24)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """The account cannot be created or changed as asked; ``str()`` says why."""


@dataclass(frozen=True)
class Settings:
    """The account rules a deployment chose (intake.config), in one value for the functions here."""

    idle: timedelta
    absolute: timedelta
    limits: throttle.Limits
    argon2_profile: str

    @property
    def clock(self) -> SessionClock:
        return SessionClock(self.idle, self.absolute)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            idle=timedelta(minutes=int(config["CLINICIAN_IDLE_MINUTES"])),
            absolute=timedelta(hours=int(config["CLINICIAN_SESSION_HOURS"])),
            limits=throttle.Limits.from_config(config),
            argon2_profile=str(config["ARGON2_PROFILE"]),
        )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(db: Session, email: str) -> User | None:
    return db.scalars(select(User).where(User.email == normalize_email(email))).first()


def check_new_account(db: Session, email: str, role: str) -> str:
    """The normalised email, or ``AccountError`` when no account can be made for it."""
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address.")
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    if find_user(db, email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    return email


def create_user(
    db: Session, email: str, role: str, password: str | None, settings: Settings
) -> User:
    """Add an account. Without a password, the person sets one through ``issue_password_link``.

    Raises ``AccountError`` for a bad email, role or duplicate, ``PasswordRejected`` for a weak
    password.
    """
    email = check_new_account(db, email, role)
    user = User(email=email, role=role)
    if password is not None:
        passwords.check_password(password, email)
        user.password_hash = passwords.hash_password(password, settings.argon2_profile)
    db.add(user)
    db.flush()
    return user


def issue_password_link(db: Session, user: User) -> str:
    """Return the only copy of a one-time token that lets the person set a password (24 hours)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    user.password_token_hash = hash_token(token)
    user.password_token_expires_at = utcnow() + PASSWORD_LINK_LIFETIME
    db.flush()
    return token


def user_for_password_token(db: Session, token: str) -> User | None:
    """The enabled account a set-password token belongs to, while the token is still valid."""
    if not token:
        return None
    user = db.scalars(select(User).where(User.password_token_hash == hash_token(token))).first()
    if user is None or user.disabled_at is not None or user.password_token_expires_at is None:
        return None
    return user if as_utc(user.password_token_expires_at) > utcnow() else None


def set_password(db: Session, user: User, password: str, settings: Settings) -> None:
    """Set a new password, spend the link token, and end every session of the account."""
    passwords.check_password(password, user.email)
    user.password_hash = passwords.hash_password(password, settings.argon2_profile)
    user.password_token_hash = None
    user.password_token_expires_at = None
    revoke_sessions(db, user)


def password_link_url(base_url: str, token: str) -> str:
    """The address a one-time set-password token is sent as (command line and admin pages)."""
    return f"{base_url.rstrip('/')}/clinic/password?t={token}"


def disable_user(db: Session, user: User) -> list[int]:
    """Stop the account signing in, end its sessions now, and revoke the API tokens it created
    (see intake.auth.api_tokens). Returns those tokens' ids: the caller audits each revocation."""
    user.disabled_at = user.disabled_at or utcnow()
    revoke_sessions(db, user)
    return api_tokens.revoke_created_by(db, user.id)


def enable_user(db: Session, user: User) -> list[int]:
    """Let a disabled account sign in again. Its old sessions stay ended and its API tokens stay
    revoked: any token of it still live (the account was disabled before disabling revoked
    tokens) is revoked now, and its id returned for the audit log, so enabling revives nothing."""
    leftovers = api_tokens.revoke_created_by(db, user.id) if user.disabled_at is not None else []
    user.disabled_at = None
    return leftovers


def lock_active_admins(db: Session) -> list[int]:
    """The ids of the enabled admin accounts, their rows locked until commit (PostgreSQL).

    Take this before reading or changing the account being changed: two admins demoting each
    other at once then wait for one another, and the second sees the first one's change, so the
    clinic never ends up without an admin. (SQLite's BEGIN IMMEDIATE already serialises writers.)
    """
    query = (
        select(User.id)
        .where(User.role == "admin", User.disabled_at.is_(None))
        .order_by(User.id)
        .with_for_update()
    )
    return list(db.scalars(query))


def admin_change_refused(
    actor_id: int, user: User, active_admins: list[int], removes_admin: bool
) -> Literal["self", "last_admin", "not_admin"] | None:
    """Why an admin may not demote or disable ``user`` (None: they may).

    Nobody removes their own admin rights (a slip would lock them out), and the last enabled
    admin stays, or nobody could manage accounts from the web any more. ``active_admins`` comes
    from ``lock_active_admins``: an actor demoted meanwhile (by another admin, at the same
    moment) no longer counts as one.
    """
    if not removes_admin or user.role != "admin" or user.disabled_at is not None:
        return None
    if user.id == actor_id:
        return "self"
    if all(i == user.id for i in active_admins):
        return "last_admin"
    if actor_id not in active_admins:
        return "not_admin"
    return None


@dataclass(frozen=True)
class Account:
    """One account as the admin list shows it: never a hash, a secret or a token."""

    id: int
    email: str
    role: str
    two_factor: bool
    disabled_at: datetime | None
    created_at: datetime
    last_sign_in: datetime | None


def list_accounts(db: Session) -> list[Account]:
    """Every account by email, with when a session last started for it (a sign-in)."""
    last = (
        select(UserSession.user_id, func.max(UserSession.created_at).label("at"))
        .group_by(UserSession.user_id)
        .subquery()
    )
    rows = db.execute(
        select(User, last.c.at).outerjoin(last, last.c.user_id == User.id).order_by(User.email)
    )
    return [
        Account(
            user.id,
            user.email,
            user.role,
            user.totp_enabled_at is not None,
            user.disabled_at,
            user.created_at,
            at,
        )
        for user, at in rows
    ]


@dataclass(frozen=True)
class SignIn:
    """What ``authenticate`` decided: ``locked`` means the password was not even checked.
    ``user`` is set only for ``ok``; ``wait`` is how long until the next try can be checked.
    ``needs_code``: the password was right, but the account also needs a code (intake.auth.totp)
    before a session may start."""

    outcome: Literal["ok", "failed", "locked"]
    user: User | None = None
    wait: timedelta = timedelta(0)
    needs_code: bool = False


def authenticate(
    db: Session, email: str, password: str, address: str | None, settings: Settings
) -> SignIn:
    """Check a sign-in under the rate limits. Every kind of miss looks the same to the caller:
    unknown email, disabled account, no password set yet, wrong password."""
    key = throttle.account_key(email)
    throttle.serialize(db, key, address)
    now = utcnow()
    wait = throttle.wait_needed(db, key, address, settings.limits, now)
    if wait:
        return SignIn("locked", wait=wait)
    user = find_user(db, email)
    stored = user.password_hash if user is not None and user.disabled_at is None else None
    profile = settings.argon2_profile
    matches = passwords.verify_password(stored or passwords.dummy_hash(profile), password, profile)
    if user is None or stored is None or not matches:
        throttle.record_attempt(db, key, address, False, now)
        wait = throttle.wait_needed(db, key, address, settings.limits, now)
        return SignIn("failed", wait=wait)  # wait > 0 when this miss started a lock
    if passwords.needs_rehash(stored, profile):
        user.password_hash = passwords.hash_password(password, profile)
    # With two-factor sign-in only the code's success counts (and ends the streak): otherwise
    # knowing the password would reset the count between guesses at the code.
    needs_code = user.totp_enabled_at is not None
    if not needs_code:
        throttle.record_attempt(db, key, address, True, now)
    return SignIn("ok", user=user, needs_code=needs_code)


def start_session(db: Session, user: User, address: str | None) -> str:
    """Open a new session and return the only copy of its token (for the cookie)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    db.add(
        UserSession(
            id=hash_token(token), user=user, created_at=now, last_seen_at=now, address=address
        )
    )
    db.flush()
    return token


def session_status(
    row: UserSession | None, settings: Settings, now: datetime
) -> Literal["ok", "none", "revoked", "idle", "expired", "disabled"]:
    if row is None:
        return "none"
    if row.revoked_at is not None:
        return "revoked"
    if row.user.disabled_at is not None:
        return "disabled"
    return settings.clock.ran_out(row.created_at, row.last_seen_at, now) or "ok"


def seconds_left(row: UserSession, settings: Settings, now: datetime) -> int:
    """How long the session lasts without another request: the idle limit, or less near the end
    of its absolute lifetime (the page warns before this runs out)."""
    return settings.clock.seconds_left(row.created_at, row.last_seen_at, now)


def current_session(db: Session, token: str | None, settings: Settings) -> UserSession | None:
    """The live session a cookie token names, its idle clock restarted; None once it has ended
    (revoked, idle or past its absolute lifetime, or the account disabled)."""
    if not token:
        return None
    row = db.get(UserSession, hash_token(token))
    now = utcnow()
    if session_status(row, settings, now) != "ok" or row is None:
        return None
    row.last_seen_at = now
    return row


def end_session(db: Session, token: str | None) -> UserSession | None:
    """Revoke the session a cookie token names (sign-out); returns it when there was one."""
    row = db.get(UserSession, hash_token(token)) if token else None
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def revoke_sessions(db: Session, user: User) -> None:
    db.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
