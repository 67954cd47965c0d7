"""One intake in the clinic pages: its page, its PDF, and marking it reviewed. Every page view
and download is in the audit log, with who and from where (never what was on the page)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from forms.loader import UnknownCatalogVersion
from intake import db
from intake.audit import log as audit
from intake.clinician import bp
from intake.clinician.access import signed_in
from intake.clinician.forms import NewLinkForm
from intake.clinician.workspace import intake_or_404
from intake.clock import utcnow
from intake.ehr import push
from intake.intakes.drafts import lock_for_update
from intake.intakes.submissions import (
    NotSubmittedError,
    mark_reviewed,
    pdf_job,
    queue_pdf,
    summary_filename,
)
from intake.models import Intake
from intake.reads.details import intake_details, submitted_summary
from intake.reads.history import intake_history

#: What the "PDF is being made" page asks the browser to wait before trying again: a render
#: takes about a second once the worker has it.
PDF_RETRY_SECONDS = 5
#: Notices the intake page may show after an action; only these names are shown.
NOTICES = frozenset(
    {
        "revoked",
        "reviewed",
        "already_submitted",
        "not_submitted",
        "bad_days",
        "ehr_queued",
        "ehr_off",
        "ehr_busy",
    }
)


@bp.get("/intakes/<public_id>", endpoint="intake")
def intake_page(public_id: str) -> ResponseReturnValue:
    """Who, when, where it stands, what happened, and the same summary as the PDF."""
    clinician = signed_in()
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
        audit.record(tx, clinician.actor, "intake.view", found.public_id, request.remote_addr)
        details = intake_details(found, utcnow())
        try:
            summary, unreadable_version = submitted_summary(found), None
        except UnknownCatalogVersion:  # the stored PDF is still the record
            summary = None
            unreadable_version = found.submission.catalog_version if found.submission else None
        history = intake_history(tx, found)
        ehr_enabled = current_app.config["EHR_FHIR_BASE_URL"] is not None
        last_upload = push.latest_upload(tx, found) if ehr_enabled else None
        render = pdf_job(tx, found.submission) if found.submission is not None else None
        under_way = progress(tx, found)
    notice = request.args.get("done")
    return render_template(
        "clinician/intake.html",
        details=details,
        summary=summary,
        unreadable_version=unreadable_version,
        history=history,
        clinician=clinician,
        new_link_form=NewLinkForm(),
        notice=notice if notice in NOTICES else None,
        ehr_enabled=ehr_enabled,
        last_upload=last_upload,
        pdf_render=render,
        pdf_ready=found.submission is not None and found.submission.pdf is not None,
        progress=under_way,
    )


def progress(tx: Session, intake: Intake) -> str:
    """What the background worker is doing for this intake, as one word pair ("pdf:ehr"), or ""
    when nothing is under way. The intake page embeds it; clinic.js asks again every few seconds
    and reloads the page once it changes, so the clinician sees the PDF ready and the EHR's
    answer without reloading by hand."""
    submission = intake.submission
    if submission is None:
        return ""
    pdf = "ready" if submission.pdf is not None else "making"
    upload = push.latest_upload(tx, intake)
    ehr = upload.outcome if upload is not None else "none"
    return "" if pdf == "ready" and ehr not in ("queued", "sending") else f"{pdf}:{ehr}"


@bp.get("/intakes/<public_id>/progress", endpoint="intake_progress")
def intake_progress(public_id: str) -> ResponseReturnValue:
    """The worker's progress for this intake (``progress``): state words only, no patient data,
    so the page's polling is not an audited view; reloading the page is."""
    signed_in()
    with db.transaction() as tx:
        state = progress(tx, intake_or_404(tx, public_id))
    return {"progress": state}, 200, {"Cache-Control": "no-store"}


@bp.get("/intakes/<public_id>/summary.pdf")
def summary_pdf(public_id: str) -> ResponseReturnValue:
    """The stored PDF as a download; while the worker is still making it, a page that says so
    (and queues it again if every render so far failed)."""
    clinician = signed_in()
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
        submission = found.submission
        if submission is None:
            abort(404)
        data = submission.pdf
        if data is None:
            lock_for_update(tx, found)
            queue_pdf(tx, submission)
        outcome = "ok" if data else "pending"
        audit.record(
            tx, clinician.actor, "pdf.download", found.public_id, request.remote_addr, outcome
        )
    if data is None:
        page = render_template("clinician/pdf_pending.html", public_id=found.public_id)
        return page, 503, {"Retry-After": str(PDF_RETRY_SECONDS)}
    response = Response(data, mimetype="application/pdf")
    response.headers.set(
        "Content-Disposition", "attachment", **summary_filename(found, submission).header_options()
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/intakes/<public_id>/reviewed")
def reviewed(public_id: str) -> ResponseReturnValue:
    """Record that this clinician has read the submitted answers (the first reviewer is kept)."""
    clinician = signed_in()
    done = "reviewed"
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
        lock_for_update(tx, found)
        try:
            if mark_reviewed(found, clinician.user_id):
                audit.record(
                    tx, clinician.actor, "intake.review", found.public_id, request.remote_addr
                )
        except NotSubmittedError:
            done = "not_submitted"
    return redirect(url_for("clinician.intake", public_id=found.public_id, done=done), 303)


@bp.post("/intakes/<public_id>/send-to-ehr")
def send_to_ehr(public_id: str) -> ResponseReturnValue:
    """Queue the document for the EHR; the intake page shows it queued, sending, then what the
    EHR answered. The background worker sends it: with retries a send can take a minute and
    more, which must never hold a web worker."""
    clinician = signed_in()
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
    try:
        push.queue_send(found.public_id, clinician.actor, request.remote_addr)
        done = "ehr_queued"
    except push.NotConfiguredError:
        done = "ehr_off"
        with db.transaction() as tx:  # refused, and recorded as every send is
            audit.record(
                tx, clinician.actor, "ehr.send", found.public_id, request.remote_addr,
                "not_configured",
            )  # fmt: skip
    except push.AlreadySendingError:
        done = "ehr_busy"
    except NotSubmittedError:
        done = "not_submitted"
    return redirect(url_for("clinician.intake", public_id=found.public_id, done=done), 303)
