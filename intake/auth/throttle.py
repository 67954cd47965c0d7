"""Sign-in rate limits, kept in the database so they hold across gunicorn workers and restarts.

Failures are counted per account (a hash of the email typed, whether or not an account has it, so
locks say nothing about which accounts exist) and per client address. Failures form a streak
while each comes within the window (15 minutes) of the one before, or of the end of the lock the
one before caused. The Nth failure of a streak (5 per account, 20 per address) locks the key for
1 minute, and each further failure doubles the lock (2, 4, 8... minutes, at most 60). A quiet
window ends the streak; so does a successful sign-in, for the account only (a success from an
address must not reset the address, or one valid account would unlock guessing at all others).
While a key is locked the password is not checked at all and nothing is counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from intake.clock import as_utc
from intake.models import LoginAttempt

#: Rows older than this are deleted; the audit log keeps the lasting record of sign-ins.
KEEP = timedelta(days=1)
#: PostgreSQL advisory locks with two int4 keys never collide with single-bigint ones (the audit
#: chain's): this first key marks ours.
LOCK_NAMESPACE = 0x6C6F67  # "log"
#: Enough rows to follow any streak of a day at the longest lock.
MAX_ROWS = 500


@dataclass(frozen=True)
class Limits:
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    max_lock: timedelta = timedelta(minutes=60)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            account_failures=int(config["LOGIN_ACCOUNT_FAILURES"]),
            address_failures=int(config["LOGIN_ADDRESS_FAILURES"]),
            window=timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"])),
            max_lock=timedelta(minutes=int(config["LOGIN_MAX_LOCK_MINUTES"])),
        )


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def serialize(db: Session, key: str, address: str | None) -> None:
    """Hold the account's and the address's locks until commit, so two workers cannot both check
    a password against the same not-yet-locked key (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises every writer). Sorted, so two sign-ins never wait on each other in a cycle."""
    if db.get_bind().dialect.name != "postgresql":
        return
    names = sorted({f"account:{key}", *([f"address:{address}"] if address else [])})
    for name in names:
        number = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
        db.execute(select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, number)))


def lock_length(failures: int, threshold: int, limits: Limits) -> timedelta | None:
    """The lock the ``failures``th failure of a streak causes: none below the threshold."""
    if failures < threshold:
        return None
    doublings = min(failures - threshold, 30)
    return min(timedelta(minutes=1) * (1 << doublings), limits.max_lock)


def locked_until(failures: Sequence[datetime], threshold: int, limits: Limits) -> datetime | None:
    """When the lock caused by this list of failure times (oldest first) ends, if any."""
    streak = 0
    until: datetime | None = None
    quiet_from: datetime | None = None
    for at in failures:
        if quiet_from is not None and at - quiet_from > limits.window:
            streak = 0
        streak += 1
        lock = lock_length(streak, threshold, limits)
        until = at + lock if lock else None
        quiet_from = until or at
    return until


def _failures(db: Session, where: ColumnElement[bool], since: datetime) -> list[datetime]:
    rows = db.scalars(
        select(LoginAttempt.at)
        .where(where, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())
        .limit(MAX_ROWS)
    ).all()
    return [as_utc(at) for at in reversed(rows)]


def wait_needed(
    db: Session, key: str, address: str | None, limits: Limits, now: datetime
) -> timedelta:
    """How long this account and address must wait before a password is checked (0: none)."""
    since = now - KEEP
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.account_key == key, LoginAttempt.succeeded.is_(True)
        )
    )
    if last_success is not None:
        since = max(since, as_utc(last_success))
    by_account = _failures(db, LoginAttempt.account_key == key, since)
    ends = [locked_until(by_account, limits.account_failures, limits)]
    if address:
        by_address = _failures(db, LoginAttempt.address == address, now - KEEP)
        ends.append(locked_until(by_address, limits.address_failures, limits))
    latest = max((end for end in ends if end is not None), default=now)
    return max(latest - now, timedelta(0))


def record_attempt(
    db: Session, key: str, address: str | None, succeeded: bool, now: datetime
) -> None:
    """Count a checked password, and forget attempts older than a day."""
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
    db.add(LoginAttempt(at=now, account_key=key, address=address, succeeded=succeeded))
