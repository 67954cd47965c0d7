"""The clinic's side: accounts sign in here. Every page needs a live session, unless allow-listed."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clinician", __name__, url_prefix="/clinic")

from intake.clinician import (  # noqa: E402,F401  (guard, routes)
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
