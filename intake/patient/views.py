"""Patient routes. Thin: each view reads the request, calls a service, and redirects or renders."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.schema import Catalog
from intake import db
from intake.clock import utcnow
from intake.intakes.drafts import (
    REVIEW,
    WELCOME,
    lock_for_update,
    place_after,
    resume_step,
    visibility_for,
)
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
    current_intake,
    intake_from_ticket,
    open_link,
    parse_date,
    pending_intake,
    sign_in,
)
from intake.patient.steps import (
    SaveOutcome,
    StepPage,
    save_page,
    step_page,
)
from intake.pdf.summary import build_summary

STATUS_CODES = {"unknown": 404, "expired": 410, "locked": 423, "revoked": 410, "unavailable": 503}
log = logging.getLogger(__name__)


def catalog_for(intake: Intake | None) -> Catalog:
    """The catalog version the intake was invited under: a form half filled in never changes
    under its patient when a new version is released. Without an intake, the current one."""
    return get_catalog(intake.catalog_version if intake is not None else None)


def _link_problem(status: str) -> ResponseReturnValue:
    return render_template("patient/link_problem.html", status=status), STATUS_CODES[status]


def _signed_out() -> ResponseReturnValue:
    return render_template("patient/signed_out.html"), 401


def _next_url(intake: Intake) -> str:
    if intake.submission is not None:
        return url_for("patient.done")
    return _place_url(resume_step(catalog_for(intake), intake))


@bp.get("/start")
def start() -> ResponseReturnValue:
    """Open a private link: remember which intake it was for and move to a token-free URL."""
    token = request.args.get("t", "")
    intake = find_by_token(db.session(), token) if token else None
    status = link_status(intake)
    if intake is None or status != "ok":
        return _link_problem(status)
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
        return _link_problem(link_status(intake))
    if pending_intake() is None:  # a newer link replaced the one this browser opened
        return _link_problem("unknown")
    error = None
    if request.method == "POST":
        outcome = _check_posted_date_of_birth(intake)
        if isinstance(outcome, Intake):
            return redirect(_next_url(outcome), 303)
        if link_status(intake) == "locked":
            return _link_problem("locked")
        error = outcome
    status = 422 if error else 200
    return render_template("patient/verify.html", error=error, form=request.form), status


DOB_FIELDS = ("dob-day", "dob-month", "dob-year")
DATE_PROBLEMS = {
    "format": _l("Enter your date of birth as numbers, for example 27 3 1980."),
    "year": _l("Enter the year with all 4 digits, for example 1980."),
    "future": _l("That date is in the future. Please check the year."),
}


def _check_posted_date_of_birth(intake: Intake) -> Intake | str:
    """Check the posted date of birth against ``intake``: signed in on a match, else the message
    to show. A date that cannot be anyone's (see ``parse_date``) is not counted as a try."""
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
        left = attempts_left(intake)
        return str(
            ngettext(
                "That date of birth does not match our records. You have %(num)s try left.",
                "That date of birth does not match our records. You have %(num)s tries left.",
                left,
            )
        )
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
        return redirect(_place_url(place), 303)
    return render_template("patient/welcome.html", intake=intake, steps=len(catalog.sections))


def _render_step(
    page: StepPage, status: int = 200, dob_error: str | None = None
) -> ResponseReturnValue:
    return render_template("patient/step.html", page=page, dob_error=dob_error), status


@bp.route("/step/<section_id>", methods=["GET", "POST"])
def step(section_id: str) -> ResponseReturnValue:
    """One section of the form. Every button saves what is on the page first."""
    intake = current_intake()
    dob_error = None
    if intake is None and request.method == "POST":
        outcome = _reconfirm_from_step()  # else shown again below, with everything typed kept
        if isinstance(outcome, Intake):
            intake = outcome
        else:
            dob_error = outcome
    catalog = catalog_for(intake)
    if section_id not in {s.id for s in catalog.sections}:
        abort(404)
    section = catalog.section(section_id)
    if request.method == "GET":
        if intake is None:
            return _signed_out()
        if intake.submission is not None:
            return redirect(url_for("patient.done"))
        page = step_page(catalog, section, intake, notice=request.args.get("notice"))
        return _render_step(page)

    if intake is None:
        page = step_page(catalog, section, None, posted=True, notice="session")
        return _render_step(page, 401, dob_error=dob_error)
    if intake.submission is not None:
        return redirect(url_for("patient.done"), 303)

    result = save_page(catalog, section, intake)
    page = result.page
    if result.status == "frozen":
        return redirect(url_for("patient.done"), 303)
    if result.status == "conflict":
        return _render_step(page, 409)
    if result.status == "invalid":
        if result.action.kind == "save":
            page.leave = ("save", url_for("patient.saved"))
        elif result.action.kind == "back":
            back = place_after(catalog, section, "back", to_review=page.to_review)
            page.leave = ("back", _place_url(back))
        return _render_step(page, 422)
    return redirect(_after_save(page, result), 303)


def _after_save(page: StepPage, outcome: SaveOutcome) -> str:
    """The page after a save: where the save put the patient, scrolled to what changed."""
    section, action = page.section, outcome.action
    back: dict[str, Any] = {"from": "review"} if page.to_review else {}
    if action.kind == "save":
        return url_for("patient.saved")
    if outcome.new_items:
        new = ",".join(item.id for item in outcome.new_items)
        return url_for("patient.step", section_id=section.id, notice="more", new=new, **back)
    if outcome.anchor is not None:
        return url_for("patient.step", section_id=section.id, **back) + f"#{outcome.anchor}"
    return _place_url(outcome.place)


def _place_url(place: str | None) -> str:
    if place is None or place == WELCOME:
        return url_for("patient.welcome")
    if place == REVIEW:
        return url_for("patient.review")
    return url_for("patient.step", section_id=place)


def _reconfirm_from_step() -> Intake | str | None:
    """After an expired session, the page's resume ticket and the date of birth sign back in.

    Returns the intake once signed in, else the message for the date-of-birth box, or None on
    the page's first showing (no box yet). A link that was closed meanwhile, or that this try
    locks, ends here with the page that says so and whom to contact.
    """
    if not any(request.form.get(k) for k in DOB_FIELDS):
        return None if DOB_FIELDS[0] not in request.form else str(DATE_PROBLEMS["format"])
    intake = intake_from_ticket(request.form.get("_resume", ""))
    if intake is None or link_status(intake) != "ok":
        abort(make_response(_link_problem(link_status(intake))))
    outcome = _check_posted_date_of_birth(intake)
    if link_status(intake) == "locked":
        abort(make_response(_link_problem("locked")))
    return outcome


@bp.errorhandler(UnknownCatalogVersion)
def catalog_missing(error: UnknownCatalogVersion) -> ResponseReturnValue:
    """The intake's catalog version is not in this release (the service was rolled back): say so
    plainly rather than show the form with other questions. The saved answers stay stored."""
    log.error("intake form unavailable: catalog version %s is not in forms/archive", error)
    return _link_problem("unavailable")


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    """A stale page or an expired session: show the same step with everything typed kept."""
    section_id = (request.view_args or {}).get("section_id")
    intake = current_intake()
    catalog = catalog_for(intake)
    if request.endpoint != "patient.step" or section_id not in {s.id for s in catalog.sections}:
        return render_template("patient/signed_out.html", reason="csrf"), 400
    notice = "csrf" if intake is not None else "session"
    page = step_page(catalog, catalog.section(section_id), intake, posted=True, notice=notice)
    return _render_step(page, 400)


@bp.get("/saved")
def saved() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    return render_template("patient/saved.html", intake=intake, carry_on=_next_url(intake))


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


@bp.get("/done")
def done() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    if intake.submission is None:
        return redirect(url_for("patient.review"))
    return render_template("patient/done.html", intake=intake)
