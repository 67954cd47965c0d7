"""Why a posted step page cannot be saved, in words that say what is kept and what to do.

Each reason has its own notice (``templates/patient/_refusal.html``). Where the date of birth
can still sign in (``RESUMABLE``), the page is shown again as typed, with the date box. Where
nothing can store it (the link was revoked, replaced or locked, or the answers were sent
meanwhile), the page shows back what was typed, as text to copy: never an empty form.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import current_app
from flask_babel import gettext

from forms.logic import value_state
from intake.clock import utcnow
from intake.intakes.invitations import link_fingerprint, link_status
from intake.intakes.patient_sessions import session_state
from intake.patient.access import SignedIn, clock
from intake.patient.saving import posted_answers
from intake.patient.steps import StepPage
from intake.patient.tickets import Ticket
from intake.pdf.summary import AnswerRow

Reason = Literal[
    "idle",  # the session's clock ran out
    "ended",  # signed out in this browser ("Sign out", "Save and finish later", another tab)
    "session",  # this browser is not signed in to the page's session (cookie gone, or another)
    "resume_limit",  # the page's own date-of-birth tries are used up
    "reissued",  # the clinic issued a new link
    "revoked",
    "expired",
    "locked",
    "submitted",  # the answers were sent meanwhile
    "unknown",  # no ticket, or a forged one: nothing says whose page this is
]
#: The date of birth typed into the page signs in again, and the page is then saved.
RESUMABLE = frozenset({"idle", "ended", "session"})
STATUS = {
    "idle": 401,
    "ended": 401,
    "session": 401,
    "unknown": 401,
    "resume_limit": 403,
    "submitted": 409,
    "reissued": 410,
    "revoked": 410,
    "expired": 410,
    "locked": 423,
}
#: Tries at the date of birth from the pages of one session, once it has ended: fewer than the
#: link's, and apart from them (``patient_sessions.check_resume_date``).
RESUME_ATTEMPTS = 3


def resume_attempts() -> int:
    return min(RESUME_ATTEMPTS, int(current_app.config["DOB_ATTEMPTS"]))


def why_refused(ticket: Ticket | None, signed: SignedIn | None) -> Reason | None:
    """Why this page cannot be saved now, or None when this browser's session may save it.

    A live session saves a page of its own intake (a ticket from an older session of the same
    intake too: the patient signed in again in another tab). A page of another intake is never
    saved into this one: the browser has been signed in to someone else's form since.
    """
    if signed is not None and (ticket is None or ticket.intake.id == signed.intake.id):
        return "submitted" if signed.intake.submission is not None else None
    if ticket is None:
        return "unknown"
    intake = ticket.intake
    if intake.submission is not None:
        return "submitted"
    status = link_status(intake)
    if status in ("revoked", "locked"):
        return status
    if ticket.link != link_fingerprint(intake):
        return "reissued"
    if status == "expired":
        return "expired"
    row = ticket.session
    if row is None:
        return "session"
    if row.resume_failures >= resume_attempts():
        return "resume_limit"
    state = session_state(row, clock(), utcnow())
    if state == "ended":
        return "ended"
    return "idle" if state in ("idle", "expired") else "session"


def typed_rows(page: StepPage) -> list[AnswerRow]:
    """What was typed on a page that cannot be saved, as the review page shows answers: each
    question on the page with its posted answer (only what was posted: nothing stored is shown
    to a browser that is not signed in). Free text with a mistake in it is shown as typed."""
    values, _unsaved = posted_answers(page, {})
    rows = []
    for item in page.items:
        value: Any = values.get(item.id)
        if value_state(value) == "answered":
            shown = item.kind.display(item, value)
            rows.append(
                AnswerRow(
                    item.id,
                    gettext(item.text),
                    "answered",
                    lines=shown.lines,
                    patient_text=shown.patient_text,
                    table=shown.table,
                )
            )
            continue
        raw = page.form[item.id].data
        if item.kind.free_text and isinstance(raw, str) and raw.strip():
            rows.append(AnswerRow(item.id, gettext(item.text), "answered", patient_text=raw))
    return rows
