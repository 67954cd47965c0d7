"""Patient routes. Thin: each view reads the request, calls a service, and redirects or renders."""

from __future__ import annotations

import logging

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from forms.loader import UnknownCatalogVersion, get_catalog
from forms.logic import newly_enabled
from forms.schema import Catalog
from intake import db
from intake.drafts import (
    FrozenError,
    lock_for_update,
    resume_step,
    save_step,
    set_detail,
    visibility_for,
)
from intake.invitations import check_date_of_birth, find_by_public_id, find_by_token, link_status
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
from intake.patient.steps import StepPage, posted_answers, posted_shown, step_page
from intake.review import build_summary
from intake.submissions import store_pdf, submit_intake

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
    step = resume_step(catalog_for(intake), intake)
    if step is None:
        return url_for("patient.welcome")
    if step == "review":
        return url_for("patient.review")
    return url_for("patient.step", section_id=step)


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
        given = parse_date(*(request.form.get(k, "") for k in ("dob-day", "dob-month", "dob-year")))
        if given is None:
            error = _("Enter your date of birth as numbers, for example 27 3 1980.")
        else:
            with db.transaction():
                ok = check_date_of_birth(intake, given, current_app.config["DOB_ATTEMPTS"])
            if ok:
                sign_in(intake)
                return redirect(_next_url(intake), 303)
            if link_status(intake) == "locked":
                return _link_problem("locked")
            error = _(
                "That date of birth does not match our records. You have %(n)s tries left.",
                n=attempts_left(intake),
            )
    status = 422 if error else 200
    return render_template("patient/verify.html", error=error, form=request.form), status


@bp.route("/welcome", methods=["GET", "POST"])
def welcome() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    catalog = catalog_for(intake)
    if request.method == "POST":
        return redirect(url_for("patient.step", section_id=catalog.sections[0].id), 303)
    return render_template("patient/welcome.html", intake=intake, steps=len(catalog.sections))


def _render_step(page: StepPage, status: int = 200) -> ResponseReturnValue:
    return render_template("patient/step.html", page=page), status


@bp.route("/step/<section_id>", methods=["GET", "POST"])
def step(section_id: str) -> ResponseReturnValue:
    """One section of the form. Every button saves what is on the page first."""
    intake = current_intake()
    if intake is None and request.method == "POST":
        intake = _reconfirm_from_step()  # None: shown again below, with everything typed kept
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
        return _render_step(step_page(catalog, section, None, posted=True, notice="session"), 401)
    if intake.submission is not None:
        return redirect(url_for("patient.done"), 303)

    page = step_page(catalog, section, intake, posted=True)
    values, problems = posted_answers(page)
    action = request.form.get("action", "next")
    seen = request.form.get("_version", type=int)
    try:
        with db.transaction() as tx:
            lock_for_update(tx, intake)
            shown = [i for i in posted_shown(section) if i not in problems]
            result = save_step(intake, section, values, shown, seen)
            if result.saved and action in ("more", "less"):
                set_detail(intake, section.id, action == "more")
    except FrozenError:
        return redirect(url_for("patient.done"), 303)
    if result.conflict:
        page = step_page(catalog, section, intake, posted=True, notice="conflict")
        return _render_step(page, 409)
    if problems:
        page = step_page(catalog, section, intake, posted=True)
        return _render_step(page, 422)
    return redirect(_after_save(section_id, action, intake), 303)


def _after_save(section_id: str, action: str, intake: Intake) -> str:
    catalog = catalog_for(intake)
    index = catalog.section_index(section_id)
    here = url_for("patient.step", section_id=section_id)
    if action == "save":
        return url_for("patient.saved")
    if action in ("more", "less", "add"):
        return here + f"#{action}"
    if action == "back":
        if index == 0:
            return url_for("patient.welcome")
        return url_for("patient.step", section_id=catalog.sections[index - 1].id)
    section = catalog.section(section_id)
    shown = request.form.getlist("_shown")
    if newly_enabled(catalog, section, intake.answers, visibility_for(intake), shown):
        return url_for("patient.step", section_id=section_id, notice="more")
    if index + 1 < len(catalog.sections):
        return url_for("patient.step", section_id=catalog.sections[index + 1].id)
    return url_for("patient.review")


def _reconfirm_from_step() -> Intake | None:
    """After an expired session, the page's resume ticket and the date of birth sign back in."""
    intake = intake_from_ticket(request.form.get("_resume", ""))
    given = parse_date(*(request.form.get(k, "") for k in ("dob-day", "dob-month", "dob-year")))
    if intake is None or given is None:
        return None
    with db.transaction():
        ok = check_date_of_birth(intake, given, current_app.config["DOB_ATTEMPTS"])
    if not ok:
        return None
    sign_in(intake)
    return intake


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
    return render_template("patient/saved.html", intake=intake)


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
    """Freeze the answers (once), then render and store the PDF."""
    intake = current_intake()
    if intake is None:
        return _signed_out()
    if intake.submission is None:
        with db.transaction() as tx:
            lock_for_update(tx, intake)
            submission = submit_intake(tx, intake)
        with db.transaction():
            store_pdf(submission)
    return redirect(url_for("patient.done"), 303)


@bp.get("/done")
def done() -> ResponseReturnValue:
    intake = current_intake()
    if intake is None:
        return _signed_out()
    if intake.submission is None:
        return redirect(url_for("patient.review"))
    return render_template("patient/done.html", intake=intake)
