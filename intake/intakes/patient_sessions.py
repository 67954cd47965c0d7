"""Patient sessions on the server: started by the date of birth, ended by signing out, by a
new link, or by their clock (``SessionClock``: idle and absolute limits, as the clinic's).

Plain functions over a database session; ``intake.patient.access`` keeps the cookie. The cookie
holds only a random 256-bit token, this table its SHA-256.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from intake.clock import SessionClock, as_utc, utcnow
from intake.intakes.invitations import link_fingerprint, link_status
from intake.models import Intake, PatientSession
from intake.tokens import hash_token

TOKEN_BYTES = 32
#: A page load writes the session's clock at most this often: every step's GET would otherwise
#: take SQLite's write lock. The page is told the time left from the clock as stored.
TOUCH_EVERY = timedelta(seconds=60)

#: Why a session is not live. ``ended``: signed out ("Sign out", "Save and finish later", or a
#: new sign-in in the same browser); ``idle`` and ``expired``: its clock ran out; ``reissued``:
#: the clinic issued a new link; ``closed``: the link was revoked or locked (the link says which).
SessionState = Literal["live", "ended", "idle", "expired", "reissued", "closed"]


def clock_from_config(config: Mapping[str, Any]) -> SessionClock:
    return SessionClock(
        idle=timedelta(minutes=int(config["PATIENT_IDLE_MINUTES"])),
        absolute=timedelta(hours=int(config["PATIENT_SESSION_HOURS"])),
    )


def start_session(db: Session, intake: Intake) -> tuple[str, PatientSession]:
    """A new session for ``intake`` on its current link; returns the only copy of its token."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    row = PatientSession(
        id=hash_token(token),
        intake=intake,
        link=link_fingerprint(intake),
        created_at=now,
        last_seen_at=now,
        resume_failures=0,
    )
    db.add(row)
    db.flush()
    return token, row


def find_session(db: Session, token: str | None) -> PatientSession | None:
    return db.get(PatientSession, hash_token(token)) if token else None


def session_state(row: PatientSession, clock: SessionClock, now: datetime) -> SessionState:
    """Whether the session may be used now, and if not, why (the page says so in its words)."""
    if row.ended_at is not None:
        return "ended"
    intake = row.intake
    if row.link != link_fingerprint(intake):
        return "reissued"
    if link_status(intake) in ("revoked", "locked"):
        return "closed"
    return clock.ran_out(row.created_at, row.last_seen_at, now) or "live"


def touch(row: PatientSession, now: datetime, *, always: bool = False) -> bool:
    """Restart the idle clock (a request is activity); True when the row was changed."""
    if always or now - as_utc(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
        return True
    return False


def end_session(row: PatientSession) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()


def check_resume_date(row: PatientSession, matches: bool, max_attempts: int) -> bool:
    """A date of birth typed into a page of this session after it ended: True when it matches.

    A miss counts against this session, not the link: the page's holder may be a stranger at a
    shared computer, and must not be able to lock the patient out. The session's own tries are
    as few as the link's, and once they are used up its pages sign in no more.
    """
    if row.resume_failures >= max_attempts:
        return False
    if matches:
        return True
    row.resume_failures += 1
    return False


def resume_tries_left(row: PatientSession, max_attempts: int) -> int:
    return max(0, max_attempts - row.resume_failures)
