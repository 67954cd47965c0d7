"""The page after sending, and the patient's own copy of what was sent (issue 15, item 7).

The copy is the clinician's PDF itself (the stored bytes, with their SHA-256 printed at the foot
of the done page, so a clinic can check a copy), downloaded only in the signed-in session (after
the date of birth), only while the link works, and never sent anywhere. The background worker
stores it a second or two after "Send": until then the done page says it is being made and asks
``copy_status`` every few seconds (app.js); with scripts off its link answers "being made, try
again" with a ``Retry-After``, as the clinician's download does. Each download is a patient
event in the audit log (its outcome, never what the file holds).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from intake import db
from intake.audit import log as audit
from intake.clock import utcnow
from intake.intakes.drafts import lock_for_update
from intake.intakes.patient_copy import copy_filename, copy_mark, link_works, patient_copy
from intake.intakes.submissions import queue_pdf
from intake.patient import bp
from intake.patient.access import current_intake
from intake.patient.views import _signed_out, format_until

#: How long the "being made" page asks the browser to wait: a render takes about a second once
#: the worker has it (the clinician's download asks the same).
RETRY_SECONDS = 5
NO_STORE = {"Cache-Control": "no-store"}
#: Who a patient's event is by, in the audit log (clinic accounts are ``user:N``).
PATIENT_ACTOR = "patient"


@bp.get("/done")
def done() -> ResponseReturnValue:
    """The answers were sent: what happens next, and the patient's copy."""
    intake = current_intake()
    if intake is None:
        return _signed_out()
    copy = patient_copy(db.session(), intake, utcnow())
    if copy is None:
        return redirect(url_for("patient.review"))
    until = format_until(copy.until)
    return render_template("patient/done.html", copy=copy, until=until, mark=copy_mark(intake))


@bp.get("/done/copy/status")
def copy_status() -> ResponseReturnValue:
    """Whether the copy is ready (state words only, so the done page's poll is no download and
    is not audited); 401 once signed out."""
    intake = current_intake()
    if intake is None:
        return {"state": "signed_out"}, 401, NO_STORE
    if request.args.get("of") != copy_mark(intake):  # a page drawn for someone else's intake
        return {"state": "other"}, 409, NO_STORE
    copy = patient_copy(db.session(), intake, utcnow())
    if copy is None:
        return {"state": "not_sent"}, 404, NO_STORE
    return {"state": copy.state}, 200, NO_STORE


@bp.get("/done/copy.pdf")
def copy_pdf() -> ResponseReturnValue:
    """The stored PDF as a download; while the worker is still making it, a page that says so
    (and queues it again if every render so far failed)."""
    intake = current_intake()
    if intake is None:
        return _signed_out()
    if intake.submission is None:
        return redirect(url_for("patient.review"))
    if request.args.get("of") != copy_mark(intake):
        # A done page left open for an earlier patient on this browser (or a bare URL): the
        # session's own done page, with its own link, instead of a PDF nobody asked for.
        return redirect(url_for("patient.done"), 303)
    if request.method == "HEAD":  # no download: nothing to audit, nothing to queue
        return "", 200 if intake.submission.pdf_sha256 else 503, NO_STORE
    gone = not link_works(intake, utcnow())
    with db.transaction() as tx:
        submission = intake.submission
        data = None if gone else submission.pdf
        if data is None and not gone:
            lock_for_update(tx, intake)
            queue_pdf(tx, submission)
        outcome = "gone" if gone else "ok" if data else "pending"
        audit.record(
            tx, PATIENT_ACTOR, "patient.pdf_download", intake.public_id, request.remote_addr,
            outcome,
        )  # fmt: skip
    if gone:  # the done page says the copy went with the link
        return redirect(url_for("patient.done"), 303)
    if data is None:
        until = format_until(intake.token_expires_at)
        page = render_template("patient/copy_pending.html", until=until)
        return page, 503, {"Retry-After": str(RETRY_SECONDS)}
    response = Response(data, mimetype="application/pdf")
    name = copy_filename(intake, submission)
    response.headers.set("Content-Disposition", "attachment", **name.header_options())
    response.headers["Cache-Control"] = "no-store"
    return response
