"""What the workspace pages share: the clinic's clock, finding an intake by id, and the QR code."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import abort, current_app
from sqlalchemy.orm import Session

from intake.clock import utcnow
from intake.intakes.invitations import find_by_public_id
from intake.models import Intake

#: The shape of ``intake.intakes.invitations.new_public_id``: anything else is not looked up at all.
PUBLIC_ID = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["INTAKE_TIMEZONE"])


def clinic_today() -> date:
    """Today where the clinic is, which need not be where the server is."""
    return utcnow().astimezone(clinic_zone()).date()


def clinic_time(day: date, at: time) -> datetime:
    """A day and time typed in the clinic's zone, as the aware UTC time to store."""
    return datetime.combine(day, at, tzinfo=clinic_zone()).astimezone(ZoneInfo("UTC"))


def intake_or_404(db: Session, public_id: str) -> Intake:
    """The intake with this public id, or a 404 page (the same for a malformed id)."""
    intake = find_by_public_id(db, public_id) if PUBLIC_ID.fullmatch(public_id) else None
    if intake is None:
        abort(404)
    return intake
