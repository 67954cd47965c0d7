"""The clinic's side: accounts sign in here. Every page needs a live session, unless allow-listed."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clinician", __name__, url_prefix="/clinic")

from intake.clinician import (  # noqa: E402,F401  (routes)
    access,
    admin,
    admin_tokens,
    admin_users,
    intakes,
    invitation_views,
    security_views,
    views,
    worklist_views,
)

# The clinic's one guard (session, then two-factor, then the admin role), registered here and
# nowhere else: which module above is imported first cannot change what runs, or in what order.
bp.before_request(access.guard)
