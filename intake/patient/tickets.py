"""The resume ticket in every step page: a signed note of the session the page was drawn in.

After that session ends (the idle clock, "Sign out" in another tab), the page's own ticket plus
the date of birth signs back in, and the page is saved with nothing typed lost. The public id
alone must not do that: it is not secret (clinic URLs, the audit log). And the ticket names a
session, not only an intake, so that wrong dates typed into the page count against that
session's few tries (``patient_sessions.check_resume_date``), never against the link: whoever
holds only the link cannot get a ticket (a page needs the date of birth first), and whoever
holds only a page cannot lock the patient out.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake import db
from intake.intakes.invitations import find_by_public_id
from intake.models import Intake, PatientSession
from intake.patient.access import SignedIn

#: A ticket outlives any session but not the link: its session's link must still be current.
RESUME_MAX_AGE = 90 * 24 * 3600


@dataclass(frozen=True)
class Ticket:
    """What a posted page's ticket names: its intake, the link it was opened with, and its
    session (None for a page drawn before sessions were kept on the server)."""

    intake: Intake
    link: str
    session: PatientSession | None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="patient-resume")


def resume_ticket(signed: SignedIn) -> str:
    return _serializer().dumps({"s": signed.row.id})


def read_ticket(ticket: str) -> Ticket | None:
    """The ticket's intake and session, or None for no ticket or a forged one."""
    try:
        data = _serializer().loads(ticket, max_age=RESUME_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    if "s" in data:
        row = db.session().get(PatientSession, str(data["s"]))
        return Ticket(row.intake, row.link, row) if row is not None else None
    # A page drawn before this release: its intake and link, its tries counted as before.
    intake = find_by_public_id(db.session(), str(data.get("i", "")))
    return Ticket(intake, str(data.get("l", "")), None) if intake is not None else None
