"""Invite a patient from the clinic pages; revoke a link; issue a new one.

A new link is shown once, in the response to the POST that made it, and never again: only its
hash is stored. That is why these two POSTs render a page instead of redirecting (a reload asks
the browser to post again, which it warns about), and the page is marked no-store.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from intake import db
from intake.audit import log as audit
from intake.clinician import bp
from intake.clinician.access import signed_in
from intake.clinician.forms import InvitationForm, NewLinkForm
from intake.clinician.workspace import clinic_time, clinic_today, intake_or_404
from intake.clock import utcnow
from intake.intakes.drafts import lock_for_update
from intake.intakes.invitations import (
    InvitationClosedError,
    Patient,
    invite_patient,
    patient_link,
    reissue_invitation,
    revoke_invitation,
)
from intake.models import Intake
from intake.qr import qr_svg
from intake.reads.details import intake_details


def _link_page(intake: Intake, token: str, *, reissued: bool) -> ResponseReturnValue:
    link = patient_link(current_app.config["PUBLIC_BASE_URL"], token)
    page = render_template(
        "clinician/link.html",
        details=intake_details(intake, utcnow()),
        link=link,
        qr=qr_svg(link, scale=5),
        reissued=reissued,
    )
    return page, 201, {"Cache-Control": "no-store"}


@bp.route("/invitations/new", methods=["GET", "POST"])
def new_invitation() -> ResponseReturnValue:
    """The invitation form; a valid one creates the intake and shows its link once."""
    form = InvitationForm(today=clinic_today())
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("clinician/invite.html", form=form), status
    assert form.date_of_birth.data and form.appointment_date.data and form.appointment_time.data
    clinician = signed_in()
    patient = Patient(
        given_name=form.given_name.data or "",
        family_name=form.family_name.data or "",
        date_of_birth=form.date_of_birth.data,
        mrn=form.mrn.data,
    )
    with db.transaction() as tx:
        new = invite_patient(
            tx,
            patient,
            form.valid_days.data or 1,
            appointment_at=clinic_time(form.appointment_date.data, form.appointment_time.data),
            created_by_id=clinician.user_id,
        )
        audit.record(
            tx, clinician.actor, "invitation.create", new.intake.public_id, request.remote_addr
        )
    return _link_page(new.intake, new.token, reissued=False)


@bp.post("/intakes/<public_id>/revoke")
def revoke(public_id: str) -> ResponseReturnValue:
    """Stop the patient's link now; a new link can be issued later from the same page."""
    clinician = signed_in()
    done = "revoked"
    with db.transaction() as tx:
        intake = intake_or_404(tx, public_id)
        lock_for_update(tx, intake)  # against a patient submitting at this very moment
        try:
            revoke_invitation(intake)
        except InvitationClosedError:
            done = "already_submitted"
        else:
            audit.record(
                tx, clinician.actor, "invitation.revoke", intake.public_id, request.remote_addr
            )
    return redirect(url_for("clinician.intake", public_id=intake.public_id, done=done), 303)


@bp.post("/intakes/<public_id>/reissue")
def reissue(public_id: str) -> ResponseReturnValue:
    """A new link for the same intake; the old one stops working, the draft answers stay."""
    clinician = signed_in()
    form = NewLinkForm()
    with db.transaction() as tx:
        intake = intake_or_404(tx, public_id)
        if not form.validate_on_submit():
            target = url_for("clinician.intake", public_id=intake.public_id, done="bad_days")
            return redirect(target + "#new-link", 303)
        lock_for_update(tx, intake)
        try:
            token = reissue_invitation(intake, form.valid_days.data or 1)
        except InvitationClosedError:
            token = None
        else:
            audit.record(
                tx, clinician.actor, "invitation.reissue", intake.public_id, request.remote_addr
            )
    if token is None:
        done = "already_submitted"
        return redirect(url_for("clinician.intake", public_id=intake.public_id, done=done), 303)
    return _link_page(intake, token, reissued=True)
