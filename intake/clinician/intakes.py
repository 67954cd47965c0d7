"""One intake in the clinic pages: its page, its PDF, and marking it reviewed. Every page view
and download is in the audit log, with who and from where (never what was on the page)."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
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
    stored_pdf,
    summary_filename,
)
from intake.reads.details import intake_details, submitted_summary
from intake.reads.history import intake_history

#: Notices the intake page may show after an action; only these names are shown.
NOTICES = frozenset(
    {
        "revoked",
        "reviewed",
        "already_submitted",
        "not_submitted",
        "bad_days",
        "ehr_sent",
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
    )


@bp.get("/intakes/<public_id>/summary.pdf")
def summary_pdf(public_id: str) -> ResponseReturnValue:
    """The stored PDF as a download (rendered now if the first attempt failed)."""
    clinician = signed_in()
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
        submission = found.submission
        if submission is None:
            abort(404)
        data = stored_pdf(submission)
        outcome = "ok" if data else "render_failed"
        audit.record(
            tx, clinician.actor, "pdf.download", found.public_id, request.remote_addr, outcome
        )
    if data is None:
        return render_template("clinician/pdf_failed.html", public_id=found.public_id), 503
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
    """Send the document to the EHR now; the intake page then shows what the EHR answered.

    Synchronous: with retries this can take a while (gunicorn's timeout allows for it), and the
    clinician sees the real outcome rather than "queued".
    """
    clinician = signed_in()
    with db.transaction() as tx:
        found = intake_or_404(tx, public_id)
    try:
        push.send(found.public_id, clinician.actor, request.remote_addr)
        done = "ehr_sent"
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
