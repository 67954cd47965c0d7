"""The step pages: one section each, and every button saves what is on the page first.

A post this browser's session cannot save gets the page of its own reason (``refusals``):
shown again as typed with a date-of-birth box where signing in again can still save it, or
with what was typed shown back to copy where nothing can.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from forms.schema import Catalog, Section
from intake import db
from intake.clock import as_utc, utcnow
from intake.intakes.drafts import place_after
from intake.intakes.patient_sessions import check_resume_date, resume_tries_left
from intake.models import Intake
from intake.patient import bp
from intake.patient.access import SignedIn, parse_date, sign_in, sign_out, signed_in
from intake.patient.refusals import (
    RESUMABLE,
    STATUS,
    Reason,
    resume_attempts,
    typed_rows,
    why_refused,
)
from intake.patient.saving import SaveOutcome, posts_what_is_stored, save_page
from intake.patient.session_views import saved_url, signed_out_url
from intake.patient.steps import StepPage, parse_action, step_page
from intake.patient.tickets import Ticket, read_ticket
from intake.patient.views import (
    DATE_PROBLEMS,
    DOB_FIELDS,
    _signed_out,
    catalog_for,
    check_posted_date_of_birth,
    link_until,
    place_url,
    tries_left_message,
)


def _section(catalog: Catalog, section_id: str) -> Section:
    if section_id not in {s.id for s in catalog.sections}:
        abort(404)
    return catalog.section(section_id)


def _render_step(
    page: StepPage, status: int = 200, dob_error: str | None = None, **extra: Any
) -> ResponseReturnValue:
    page_html = render_template("patient/step.html", page=page, dob_error=dob_error, **extra)
    return page_html, status


@bp.route("/step/<section_id>", methods=["GET", "POST"])
def step(section_id: str) -> ResponseReturnValue:
    """One section of the form. Every button saves what is on the page first."""
    if request.method == "POST":
        return _post_step(section_id)
    intake = signed.intake if (signed := signed_in()) is not None else None
    section = _section(catalog_for(intake), section_id)
    if intake is None:
        return _signed_out()
    if intake.submission is not None:
        return redirect(url_for("patient.done"))
    notice = request.args.get("notice")
    notice = notice if notice in ("more", "same", "same_changed") else None  # the rest: posts'
    copied = request.args.get("copied") if notice in ("same", "same_changed") else None
    page = step_page(catalog_for(intake), section, intake, notice=notice, copied_from=copied)
    return _render_step(page)


def _post_step(section_id: str) -> ResponseReturnValue:
    signed = signed_in()
    ticket = read_ticket(request.form.get("_resume", ""))
    reason = why_refused(ticket, signed)
    dob_error = None
    if reason in RESUMABLE and ticket is not None and DOB_FIELDS[0] in request.form:
        dob_error = _sign_in_from_page(ticket)
        signed = signed_in()
        reason = why_refused(ticket, signed)
    if reason is None and signed is not None:
        catalog = catalog_for(signed.intake)
        return _save(catalog, _section(catalog, section_id), signed.intake)
    owner = _owner(ticket, signed)
    catalog = catalog_for(owner)
    section = _section(catalog, section_id)
    second_press = reason == "ended" and _just_signed_out(ticket)
    if owner is not None and second_press and _same_page_again(section, owner):
        return redirect(saved_url(owner), 303)
    return refused(catalog, section, reason or "unknown", owner, dob_error)


#: A second press of "Save and finish later" (a double click) arrives this soon after the first
#: ended the session. Only then does the same page sent again count as that second press: later,
#: whether a post matches what is stored would tell whoever holds the page what is stored.
SECOND_PRESS = timedelta(seconds=30)


def _just_signed_out(ticket: Ticket | None) -> bool:
    ended = ticket.session.ended_at if ticket is not None and ticket.session else None
    return ended is not None and utcnow() - as_utc(ended) < SECOND_PRESS


def _same_page_again(section: Section, owner: Intake) -> bool:
    """The post is "Save and finish later" (or a step's "Sign out") of a page that posts just
    what is stored: the page its first press saved."""
    action = parse_action(request.form.get("action", "")).kind
    if action not in ("save", "signout"):
        return False
    page = step_page(catalog_for(owner), section, None, posted=True)
    return posts_what_is_stored(page, owner.answers or {})


def _owner(ticket: Ticket | None, signed: SignedIn | None) -> Intake | None:
    """Whose page was posted: its ticket's intake, else this browser's (a page without one)."""
    if ticket is not None:
        return ticket.intake
    return signed.intake if signed is not None else None


def _sign_in_from_page(ticket: Ticket) -> str | None:
    """The date of birth typed into a page whose session ended: None once signed in again,
    else the message for the box. A miss counts against the page's session, not the link."""
    latest = (utcnow() + timedelta(days=1)).date()  # as the link's own check (views)
    day, month, year = (request.form.get(k, "") for k in DOB_FIELDS)
    given = parse_date(day, month, year, latest)
    if isinstance(given, str):
        return str(DATE_PROBLEMS[given])
    intake, row = ticket.intake, ticket.session
    if row is None:  # a page drawn before sessions were kept: the link's tries, as then
        outcome = check_posted_date_of_birth(intake)
        return None if isinstance(outcome, Intake) else outcome
    with db.transaction() as tx:
        tx.refresh(row, with_for_update=True)  # tries in parallel must each count
        ok = check_resume_date(row, given == intake.date_of_birth, resume_attempts())
    if not ok:
        return tries_left_message(resume_tries_left(row, resume_attempts()))
    sign_in(intake)
    return None


def refused(
    catalog: Catalog,
    section: Section,
    reason: Reason,
    owner: Intake | None,
    dob_error: str | None = None,
) -> ResponseReturnValue:
    """The page of a post that was not saved, for ``reason``; ``owner``: the page's intake."""
    page = step_page(catalog, section, None, posted=True, notice=reason)
    if reason == "submitted" and _sent_as_posted(page, owner):
        return redirect(url_for("patient.done"), 303)  # nothing typed that was not sent
    copy_only = reason not in RESUMABLE
    return _render_step(
        page,
        STATUS[reason],
        dob_error,
        refusal=reason,
        copy_only=copy_only,
        typed=typed_rows(page) if copy_only else [],
        idle=int(current_app.config["PATIENT_IDLE_MINUTES"]),
        until=link_until(owner),
    )


def _sent_as_posted(page: StepPage, owner: Intake | None) -> bool:
    """This browser's own sent answers, posted again as they are (a tab left open)."""
    signed = signed_in()
    if signed is None or owner is None or signed.intake.id != owner.id:
        return False
    return posts_what_is_stored(page, owner.answers or {})


def _save(catalog: Catalog, section: Section, intake: Intake) -> ResponseReturnValue:
    result = save_page(catalog, section, intake)
    page, action = result.page, result.action.kind
    if result.status == "frozen":
        return refused(catalog, section, "submitted", intake)
    if result.status == "conflict":
        return _render_step(page, 409)
    if action == "signout":  # what could be saved was: signing out must not wait on a mistake
        unsaved = list(dict.fromkeys(e.question for e in page.errors))
        url = saved_url(intake, unsaved)
        sign_out()
        return redirect(url, 303)
    if result.status == "invalid":
        if action == "save":
            page.leave = ("save", url_for("patient.sign_out"))
        elif action == "back":
            back = place_after(catalog, section, "back", to_review=page.to_review)
            page.leave = ("back", place_url(back))
        return _render_step(page, 422)
    return redirect(_after_save(page, result, intake), 303)


def _after_save(page: StepPage, outcome: SaveOutcome, intake: Intake) -> str:
    """The page after a save: where the save put the patient, scrolled to what changed.
    "Save and finish later" signs out: the next person at this screen needs the link and the
    date of birth."""
    section, action = page.section, outcome.action
    back: dict[str, Any] = {"from": "review"} if page.to_review else {}
    if action.kind == "save":
        url = saved_url(intake)
        sign_out()
        return url
    if outcome.new_items:
        new = ",".join(item.id for item in outcome.new_items)
        return url_for("patient.step", section_id=section.id, notice="more", new=new, **back)
    if action.kind == "same" and outcome.copy is not None:
        notice = "same" if outcome.copy == "copied" else "same_changed"
        where = url_for(
            "patient.step", section_id=section.id, notice=notice, copied=action.item_id, **back
        )
        return f"{where}#{outcome.anchor}"
    if outcome.anchor is not None:
        return url_for("patient.step", section_id=section.id, **back) + f"#{outcome.anchor}"
    return place_url(outcome.place)


@bp.errorhandler(CSRFError)
def csrf_failed(_error: CSRFError) -> ResponseReturnValue:
    """A stale page or an ended session: show the same step with everything typed kept."""
    if request.endpoint == "patient.keepalive":
        return {"signed_in": False}, 400
    if request.endpoint == "patient.sign_out" and signed_in() is None:
        return redirect(signed_out_url(), 303)  # signed out already (in another tab)
    section_id = (request.view_args or {}).get("section_id", "")
    signed = signed_in()
    if request.endpoint != "patient.step":
        return render_template("patient/signed_out.html", reason="csrf"), 400
    ticket = read_ticket(request.form.get("_resume", ""))
    reason = why_refused(ticket, signed)
    if reason is None and signed is not None:
        catalog = catalog_for(signed.intake)
        section = _section(catalog, section_id)
        return _render_step(
            step_page(catalog, section, signed.intake, posted=True, notice="csrf"), 400
        )
    owner = _owner(ticket, signed)
    catalog = catalog_for(owner)
    return refused(catalog, _section(catalog, section_id), reason or "unknown", owner)
