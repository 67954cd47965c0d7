"""Who the patient is in this browser: the session holds only the intake's public id."""

from __future__ import annotations

from datetime import date

from flask import current_app, session

from intake import db
from intake.invitations import find_by_public_id, link_status
from intake.models import Intake

INTAKE_KEY = "intake"
PENDING_KEY = "pending"


def current_intake() -> Intake | None:
    """The intake this browser has unlocked with the date of birth, if any."""
    public_id = session.get(INTAKE_KEY)
    if not public_id:
        return None
    intake = find_by_public_id(db.session(), public_id)
    if intake is None or link_status(intake) == "locked":
        return None
    return intake


def sign_in(intake: Intake) -> None:
    """Start a fresh session for the patient (a new cookie, nothing carried over)."""
    session.clear()
    session[INTAKE_KEY] = intake.public_id
    session.permanent = True


def parse_date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except (TypeError, ValueError):
        return None


def attempts_left(intake: Intake) -> int:
    return max(0, int(current_app.config["DOB_ATTEMPTS"]) - intake.dob_failures)
