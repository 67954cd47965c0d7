"""Patient routes around the steps: the link, the date of birth, welcome, review, send.

Thin: each view reads the request, calls a service, and redirects or renders. The steps are in
``step_views``, signing out and the session clock in ``session_views``, the page after sending
and the patient's copy in ``copy_views``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_time, gettext, ngettext
from flask_babel import lazy_gettext as _l

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.schema import Catalog
from intake import db
from intake.clock import as_utc, utcnow
from intake.intakes.drafts import REVIEW, WELCOME, lock_for_update, resume_step, visibility_for
from intake.intakes.invitations import (
    check_date_of_birth,
    find_by_public_id,
    find_by_token,
    link_status,
)
from intake.intakes.submissions import submit_intake
from intake.models import Intake
from intake.patient import bp
from intake.patient.access import (
    CLOSED,
    PENDING_KEY,
    attempts_left,
    cookie_state,
    current_intake,
    open_link,
    parse_date,
    pending_intake,
    sign_in,
)
from intake.pdf.summary import build_summary

STATUS_CODES = {"unknown": 404, "expired": 410, "locked": 423, "revoked": 410, "unavailable": 503}
log = logging.getLogger(__name__)


def catalog_for(intake: Intake | None) -> Catalog:
    """The catalog version the intake was invited under: a form half filled in never changes
    under its patient when a new version is released. Without an intake, the current one."""
    return get_catalog(intake.catalog_version if intake is not None else None)


def format_until(moment: datetime) -> str:
    """A link's end, in the clinic's time zone, as the pages say it: "May 12, 2026 at 2:03 PM"."""
    moment = as_utc(moment)
    day, time = format_date(moment, "long"), format_time(moment, "short")
    return str(gettext("%(date)s at %(time)s", date=day, time=time))


def link_until(intake: Intake | None) -> str | None:
    """Until when the intake's link works, for the pages that say so (saved, expired)."""
    return format_until(intake.token_expires_at) if intake is not None else None


def link_problem(status: str, intake: Intake | None = None) -> ResponseReturnValue:
    page = render_template("patient/link_problem.html", status=status, until=link_until(intake))
    return page, STATUS_CODES[status]


def _signed_out() -> ResponseReturnValue:
    """A patient page asked for without a live session: the page says why, when the cookie
    named a session that ended (signed out, timed out, a new link)."""
    idle = int(current_app.config["PATIENT_IDLE_MINUTES"])
    return render_template("patient/signed_out.html", reason=cookie_state(), idle=idle), 401


def next_url(intake: Intake) -> str:
    if intake.submission is not None:
        return url_for("patient.done")
    return place_url(resume_step(catalog_for(intake), intake))


def place_url(place: str | None) -> str:
    if place is None or place == WELCOME:
        return url_for("patient.welcome")
    if place == REVIEW:
        return url_for("patient.review")
    return url_for("patient.step", section_id=place)


@bp.get("/start")
def start() -> ResponseReturnValue:
    """Open a private link: remember which intake it was for and move to a token-free URL."""
    token = request.args.get("t", "")
    intake = find_by_token(db.session(), token) if token else None
    status = link_status(intake)
    if intake is None or status != "ok":
        return link_problem(status, intake)
    open_link(intake)
    return redirect(url_for("patient.verify"), 303)


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """Ask for the date of birth before any answer is shown."""
    public_id = session.get(PENDING_KEY)
    intake = find_by_public_id(db.session(), public_id) if public_id else None
    if intake is None:
        return _signed_out()
    if link_status(intake) in CLOSED:
        return link_problem(link_status(intake), intake)
    if pending_intake() is None:  # a newer link replaced the one this browser opened
        return link_problem("unknown")
    error = None
    if request.method == "POST":
        outcome = check_posted_date_of_birth(intake)
        if isinstance(outcome, Intake):
            return redirect(next_url(outcome), 303)
        if link_status(intake) == "locked":
            return link_problem("locked", intake)
        error = outcome
    status = 422 if error else 200
    return render_template("patient/verify.html", error=error, form=request.form), status


DOB_FIELDS = ("dob-day", "dob-month", "dob-year")
DATE_PROBLEMS = {
    "format": _l("Enter your date of birth as numbers, for example 27 3 1980."),
    "year": _l("Enter the year with all 4 digits, for example 1980."),
    "future": _l("That date is in the future. Please check the year."),
}


def tries_left_message(left: int) -> str:
    return str(
        ngettext(
            "That date of birth does not match our records. You have %(num)s try left.",
            "That date of birth does not match our records. You have %(num)s tries left.",
            left,
        )
    )


def check_posted_date_of_birth(intake: Intake) -> Intake | str:
    """Check the posted date of birth against ``intake``'s link: signed in on a match, else the
    message to show. A date that cannot be anyone's (see ``parse_date``) is not counted."""
    latest = (utcnow() + timedelta(days=1)).date()
    day, month, year = (request.form.get(k, "") for k in DOB_FIELDS)
    given = parse_date(day, month, year, latest)
    if isinstance(given, str):
        return str(DATE_PROBLEMS[given])
    with db.transaction() as tx:
        # Re-read under a row lock: tries sent in parallel must each count, or a script could
        # guess past the lock (measured on PostgreSQL: 40 parallel misses left the count at 3).
        lock_for_update(tx, intake)
        ok = check_date_of_birth(intake, given, current_app.config["DOB_ATTEMPTS"])
    if not ok:
        return tries_left_message(attempts_left(intake))
    sign_in(intake)
    return intake


@bp.route("/welcome", methods=["GET", "POST"])
def welcome() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    catalog = catalog_for(intake)
    if request.method == "POST":  # "Start": where they left off, else the first step
        place = resume_step(catalog, intake) or catalog.sections[0].id
        return redirect(place_url(place), 303)
    return render_template("patient/welcome.html", intake=intake, steps=len(catalog.sections))


@bp.errorhandler(UnknownCatalogVersion)
def catalog_missing(error: UnknownCatalogVersion) -> ResponseReturnValue:
    """The intake's catalog version is not in this release (the service was rolled back): say so
    plainly rather than show the form with other questions. The saved answers stay stored."""
    log.error("intake form unavailable: catalog version %s is not in forms/archive", error)
    return link_problem("unavailable")


@bp.get("/review")
def review() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    if intake.submission is not None:
        return redirect(url_for("patient.done"))
    summary = build_summary(catalog_for(intake), intake.answers or {}, visibility_for(intake))
    return render_template("patient/review.html", summary=summary, intake=intake)


@bp.post("/submit")
def submit() -> ResponseReturnValue:
    """Freeze the answers (once) and queue their PDF: the background worker renders it, so the
    patient's "Send" answers at once, whatever the answers cost to print. Sending again after a
    render failed for good queues it again."""
    intake = current_intake()
    if intake is None:
        return _signed_out()
    with db.transaction() as tx:
        lock_for_update(tx, intake)
        submit_intake(tx, intake)
    return redirect(url_for("patient.done"), 303)
