"""Who the patient is in this browser: the session holds only the intake's public id, and which
of its links was opened (so issuing a new link, or revoking it, ends the sessions of the old one)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import current_app, session
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake import db
from intake.intakes.invitations import find_by_public_id, link_fingerprint, link_status
from intake.models import Intake

INTAKE_KEY = "intake"
PENDING_KEY = "pending"
LINK_KEY = "link"
#: A link in one of these states ends every session opened with it.
CLOSED = ("locked", "revoked")


def current_intake() -> Intake | None:
    """The intake this browser has unlocked with the date of birth, if any."""
    return _session_intake(INTAKE_KEY)


def pending_intake() -> Intake | None:
    """The intake whose link this browser opened, before the date of birth is confirmed."""
    return _session_intake(PENDING_KEY)


def _session_intake(key: str) -> Intake | None:
    public_id = session.get(key)
    if not public_id:
        return None
    intake = find_by_public_id(db.session(), public_id)
    if intake is None or link_status(intake) in CLOSED:
        return None
    if session.get(LINK_KEY) != link_fingerprint(intake):
        return None  # a new link was issued since: this browser opened the old one
    return intake


def open_link(intake: Intake) -> None:
    """Remember which intake (and which of its links) this browser opened."""
    session.clear()
    session[PENDING_KEY] = intake.public_id
    session[LINK_KEY] = link_fingerprint(intake)


def sign_in(intake: Intake) -> None:
    """Start a fresh session for the patient (a new cookie, nothing carried over)."""
    session.clear()
    session[INTAKE_KEY] = intake.public_id
    session[LINK_KEY] = link_fingerprint(intake)
    session.permanent = True


#: A resume ticket outlives any session but not the link: its fingerprint must still match.
RESUME_MAX_AGE = 90 * 24 * 3600


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="patient-resume")


def resume_ticket(intake: Intake) -> str:
    """A signed note in the step page saying which intake and which of its links it belongs to.

    After the session expires, the page's own ticket plus the date of birth signs back in. The
    public id alone must not: it is not secret (clinic URLs, the audit log), and a reissued or
    revoked link must end what the old one opened.
    """
    return _tickets().dumps({"i": intake.public_id, "l": link_fingerprint(intake)})


def intake_from_ticket(ticket: str) -> Intake | None:
    """The intake a resume ticket names, if the ticket came with its current link (the caller
    checks that link is still open, to say plainly when it is not)."""
    try:
        data = _tickets().loads(ticket, max_age=RESUME_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    intake = find_by_public_id(db.session(), str(data.get("i", "")))
    if intake is None or data.get("l") != link_fingerprint(intake):
        return None
    return intake


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
