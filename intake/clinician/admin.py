"""Administrators' pages under /clinic/admin: the audit log on screen and as CSV.

Reading the log is itself audited (``audit.view``, ``audit.export``), as every other staff view is.

A blueprint nested in the clinician one: the clinic's guard (intake.clinician.access.guard)
requires a live session, two-factor sign-in where REQUIRE_TOTP asks for it, and, for every page
of this blueprint, the admin role. A page added here is admin-only without anyone remembering to
say so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from intake import db
from intake.audit import browse as audit_browse
from intake.audit import log as audit
from intake.clinician import bp
from intake.clinician.access import signed_in
from intake.clock import utcnow

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _filters() -> tuple[audit_browse.Filters | None, str, str]:
    """The filters asked for in the query string, with the text typed (to show it again);
    None when the intake id cannot be one."""
    user = request.args.get("user", "")[:254]
    intake_id = request.args.get("intake", "")[:40]
    try:
        return audit_browse.parse_filters(db.session(), user, intake_id), user, intake_id
    except audit_browse.FilterError:
        return None, user, intake_id


@admin_bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    """The audit log, newest first, with the state of its hash chain at the top."""
    filters, user, intake_id = _filters()
    page = request.args.get("page", 1, type=int) or 1
    db.session().commit()  # end the sign-in check's transaction: on SQLite it holds the lock
    with db.read_snapshot() as snapshot:  # seconds on a large log: no write lock meanwhile
        chain = audit.verify_chain(snapshot)
    with db.transaction() as tx:
        events = audit_browse.page_of_events(tx, filters, page) if filters else None
        # Recorded after the reading, so the page shows the log as it stood when asked for.
        audit.record(
            tx,
            signed_in().actor,
            "audit.view",
            intake_public_id=filters.intake_public_id if filters else None,
            address=request.remote_addr,
            outcome="ok" if filters else "bad_filter",
        )
    args: dict[str, Any] = {k: v for k, v in (("user", user), ("intake", intake_id)) if v}
    return render_template(
        "clinician/admin_audit.html",
        chain=chain,
        events=events,
        user=user,
        intake_id=intake_id,
        error=None if filters else _("An intake id has letters, digits and dashes only."),
        csv_url=url_for("clinician.admin.audit_csv", **args),
        page_url=lambda n: url_for("clinician.admin.audit_log", page=n, **args),
    ), (200 if filters else 422)


@admin_bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    """The filtered events as a CSV download. The export is itself audited, before it starts."""
    filters, _user, _intake = _filters()
    if filters is None:
        return Response(_("An intake id has letters, digits and dashes only."), 422)
    with db.transaction() as tx:
        audit.record(
            tx,
            signed_in().actor,
            "audit.export",
            intake_public_id=filters.intake_public_id,
            address=request.remote_addr,
        )
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    body = stream_with_context(audit_browse.export_csv(db.session(), filters))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


bp.register_blueprint(admin_bp)
