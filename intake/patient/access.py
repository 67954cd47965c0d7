"""Who the patient is in this browser: the signed cookie holds only a session token (its row,
in ``intake.intakes.patient_sessions``, says which intake and which of its links), or, before
the date of birth, which intake's link was opened.

The cookie is a browser-session cookie (no expiry): it ends when the browser closes, and the
server ends the session sooner (signing out, a new link, the idle clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from flask import current_app, g, request, session

from intake import db
from intake.clock import SessionClock, utcnow
from intake.intakes.invitations import find_by_public_id, link_fingerprint, link_status
from intake.intakes.patient_sessions import (
    SessionState,
    clock_from_config,
    end_session,
    find_session,
    session_state,
    start_session,
    touch,
)
from intake.models import Intake, PatientSession

SESSION_KEY = "patient"
PENDING_KEY = "pending"
LINK_KEY = "link"
#: A link in one of these states ends every session opened with it.
CLOSED = ("locked", "revoked")


@dataclass(frozen=True)
class SignedIn:
    """The live session of this browser, and how long it lasts without another request."""

    intake: Intake
    row: PatientSession
    seconds_left: int


def clock() -> SessionClock:
    return clock_from_config(current_app.config)


@dataclass
class _Resolved:
    """``signed_in``'s answer for one request (``g`` can outlive a request: test clients)."""

    request: object
    found: SignedIn | None
    state: SessionState | None


def _resolved() -> _Resolved:
    current = request._get_current_object()  # type: ignore[attr-defined]
    cached: _Resolved | None = g.get("patient_session")
    if cached is None or cached.request is not current:
        cached = _Resolved(current, *_resolve())
        g.patient_session = cached
    return cached


def _remember(found: SignedIn | None, state: SessionState | None) -> None:
    g.patient_session = _Resolved(request._get_current_object(), found, state)  # type: ignore[attr-defined]


def signed_in() -> SignedIn | None:
    """This browser's live session, if any (worked out once a request; a request restarts the
    session's idle clock)."""
    return _resolved().found


def cookie_state() -> SessionState | None:
    """Why this browser is not signed in: the state of the session its cookie named, or None
    when it named none."""
    return _resolved().state


def _resolve() -> tuple[SignedIn | None, SessionState | None]:
    row = find_session(db.session(), session.get(SESSION_KEY))
    if row is None:
        return None, None
    now = utcnow()
    state = session_state(row, clock(), now)
    if state != "live":
        return None, state
    if touch(row, now):
        db.session().commit()
    return SignedIn(
        row.intake, row, clock().seconds_left(row.created_at, row.last_seen_at, now)
    ), state


def current_intake() -> Intake | None:
    """The intake this browser has unlocked with the date of birth, if any."""
    found = signed_in()
    return found.intake if found is not None else None


def pending_intake() -> Intake | None:
    """The intake whose link this browser opened, before the date of birth is confirmed."""
    public_id = session.get(PENDING_KEY)
    intake = find_by_public_id(db.session(), public_id) if public_id else None
    if intake is None or link_status(intake) in CLOSED:
        return None
    if session.get(LINK_KEY) != link_fingerprint(intake):
        return None  # a new link was issued since: this browser opened the old one
    return intake


def open_link(intake: Intake) -> None:
    """Remember which intake (and which of its links) this browser opened; whoever was signed
    in here is signed out."""
    sign_out()
    session[PENDING_KEY] = intake.public_id
    session[LINK_KEY] = link_fingerprint(intake)


def sign_in(intake: Intake) -> None:
    """Start a fresh session for the patient (a new token and cookie, nothing carried over)."""
    with db.transaction() as tx:
        old = find_session(tx, session.get(SESSION_KEY))
        if old is not None:
            end_session(old)
        token, row = start_session(tx, intake)
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = False
    left = clock().seconds_left(row.created_at, row.last_seen_at, utcnow())
    _remember(SignedIn(intake, row, left), "live")


def sign_out() -> None:
    """End this browser's session on the server and empty its cookie (Flask then deletes it)."""
    row = find_session(db.session(), session.get(SESSION_KEY))
    if row is not None:
        with db.transaction():
            end_session(row)
    session.clear()
    _remember(None, "ended" if row is not None else None)


#: Why an entry cannot be anyone's date of birth. Such an entry is a slip, not a guess: it is
#: answered with a message and never counted towards locking the link.
EntryProblem = Literal["format", "year", "future"]


def parse_date(day: str, month: str, year: str, latest: date) -> date | EntryProblem:
    """The date typed into the three boxes, or what is wrong with it.

    A tired patient types "80" for 1980; taken as the year 80 it would use up one of the few
    tries, and a few of those lock the link. So the year must have four digits, from 1900 on,
    and the date must not be after ``latest`` (tomorrow in UTC: today somewhere in the world).
    """
    day, month, year = day.strip(), month.strip(), year.strip()
    if not (day.isdecimal() and month.isdecimal() and year.isdecimal()):
        return "format"
    if len(year) != 4 or int(year) < 1900:
        return "year"
    try:
        given = date(int(year), int(month), int(day))
    except ValueError:
        return "format"
    return "future" if given > latest else given


def attempts_left(intake: Intake) -> int:
    return max(0, int(current_app.config["DOB_ATTEMPTS"]) - intake.dob_failures)
