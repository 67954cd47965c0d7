"""Signing out, the session clock every patient page shows, and the page after signing out.

"Sign out" and "Save and finish later" end the session on the server and empty the cookie: on
a shared phone or computer, the next person needs the link and the date of birth. The page
after says what was saved and until when the link works; it is told so in a signed note in its
address, because the cookie that could have carried it is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from intake import db
from intake.clock import as_utc, utcnow
from intake.intakes.patient_sessions import touch
from intake.models import Intake
from intake.patient import bp
from intake.patient.access import clock, sign_out, signed_in
from intake.patient.views import format_until, next_url

#: The page warns this long before the session ends (app.js), with "Stay signed in".
WARN_SECONDS = 300
#: How long the note of a sign-out is read: the page after it, and a reload soon after.
LEFT_MAX_AGE = 24 * 3600


def _notes() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="patient-left")


def saved_url(intake: Intake, unsaved: Sequence[str] = ()) -> str:
    """The page after signing out of ``intake``: what it says, signed into its address.

    ``unsaved``: the questions (in words) whose answers on the last page had a mistake, and
    so were left as they were before.
    """
    note = {
        "until": as_utc(intake.token_expires_at).isoformat(),
        "sent": intake.submission is not None,
        "unsaved": list(unsaved),
    }
    return url_for("patient.saved", s=_notes().dumps(note))


def _read_note(value: str) -> dict[str, Any] | None:
    try:
        note = _notes().loads(value, max_age=LEFT_MAX_AGE)
    except BadSignature:
        return None
    return note if isinstance(note, dict) else None


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_view() -> ResponseReturnValue:
    """The "Sign out" of every patient page but the steps (theirs saves the page first)."""
    found = signed_in()
    url = saved_url(found.intake) if found is not None else signed_out_url()
    sign_out()
    return redirect(url, 303)


def signed_out_url() -> str:
    """The page after a sign-out where nothing more is known (signed out in another tab)."""
    return url_for("patient.saved", s=_notes().dumps({"out": True}))


@bp.get("/saved")
def saved() -> ResponseReturnValue:
    """After "Save and finish later" or "Sign out"."""
    found = signed_in()
    if found is not None:  # signed in again since: the note no longer holds
        return redirect(next_url(found.intake))
    note = _read_note(request.args.get("s", ""))
    if note is None:
        return render_template("patient/signed_out.html"), 401
    if "until" not in note:
        return render_template("patient/signed_out.html", reason="ended"), 200
    until = format_until(datetime.fromisoformat(str(note.get("until"))))
    unsaved = [str(q) for q in note.get("unsaved") or []]
    return render_template(
        "patient/saved.html", until=until, sent=bool(note.get("sent")), unsaved=unsaved
    )


@bp.post("/session/keepalive")
def keepalive() -> ResponseReturnValue:
    """The notice's "Stay signed in": restart the idle clock and say how long it has now."""
    found = signed_in()
    if found is None:
        return {"signed_in": False}, 401
    now = utcnow()
    with db.transaction():
        touch(found.row, now, always=True)
    return {"signed_in": True, "idle_seconds": clock().seconds_left(found.row.created_at, now, now)}


def urgent_help() -> str:
    """The notice that the form is not watched: the clinic's own words, or the service's."""
    configured = current_app.config.get("URGENT_HELP_NOTICE")
    if configured:
        return str(configured)
    return str(
        gettext(
            "This form is not watched. If you need urgent help, call your local emergency number"
            " or your clinic."
        )
    )


@bp.context_processor
def _layout() -> dict[str, Any]:
    """What every patient page's layout needs: whether to offer "Sign out", and how long until
    the idle timeout (app.js warns before it and offers to stay signed in)."""
    found = signed_in()
    return {
        "patient_signed_in": found is not None,
        "idle_seconds": found.seconds_left if found is not None else None,
        "idle_warn_seconds": WARN_SECONDS,
        "urgent_help": urgent_help,
    }
