"""Nothing typed is lost when a clinician's session ends: sign in again, then send it on.

A form posted after the session ended (idle timeout, signed out in another tab) is not thrown
away: the sign-in page comes back with every posted field in hidden inputs named ``carry.<name>``,
they ride along through the code step when the account has two-factor sign-in, and once signed
in a page offers to send them where they were going, with a fresh CSRF token. The person presses
the button: nothing is re-sent behind their back.

Nothing is kept on the server or in a cookie: the fields only travel between this browser and the
service, in pages marked no-store. Passwords are never carried (they would be written into a page).
"""

from __future__ import annotations

import re
from typing import Any, TypedDict
from urllib.parse import urlsplit

from flask import (
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from intake.clinician.forms import LoginForm

CARRY_PREFIX = "carry."
#: Far more fields than any clinic form has; MAX_CONTENT_LENGTH bounds their size.
MAX_CARRIED = 1000
#: Sign-in pages themselves: returning to them after signing in would go round in circles.
_NOT_TARGETS = ("/clinic/login", "/clinic/logout")


class Resume(TypedDict):
    carry: list[tuple[str, str]]
    next_path: str | None


def carried_fields(form: MultiDict[str, str], prefix: str = "") -> list[tuple[str, str]]:
    """The posted fields worth keeping, in order, without CSRF tokens and passwords."""
    kept: list[tuple[str, str]] = []
    for name, values in form.lists():
        if not name.startswith(prefix):
            continue
        original = name.removeprefix(prefix)
        if not original or original == "csrf_token" or "password" in original.lower():
            continue
        kept.extend((original, value) for value in values)
    return kept[:MAX_CARRIED]


_ESCAPED_PATH_CHARS = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def safe_next(target: str | None) -> str | None:
    """A clinic page of this service to go back to, or None: never another site."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/clinic/"):
        return None
    # A browser resolves "%2e%2e" as ".." too, and an escaped slash or backslash hides where a
    # segment ends: no clinic page spells any of them escaped.
    if _ESCAPED_PATH_CHARS.search(parts.path):
        return None
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        return None  # "/clinic/../welcome" is not a clinic page once the browser resolves it
    if parts.path.startswith(_NOT_TARGETS):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login_context() -> Resume:
    """What the sign-in and code pages carry along, read from their own request."""
    return Resume(
        carry=carried_fields(request.form, CARRY_PREFIX),
        next_path=safe_next(request.values.get("next")),
    )


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def session_ended(had_cookie: bool) -> Response:
    """The answer to a clinic request without a live session.

    Scripts (app.js) get 401 JSON; a form with fields gets the sign-in page carrying them; any
    other request is sent to the sign-in page, which returns to the page asked for afterwards.
    """
    if wants_json():
        return make_response({"signed_in": False}, 401)
    carry = carried_fields(request.form) if request.method == "POST" else []
    if carry:
        page = render_template(
            "clinician/login.html",
            form=LoginForm(formdata=None),
            error=None,
            notice="kept",
            carry=carry,
            next_path=safe_next(request.path),
        )
        return make_response(page, 401)
    target = None
    if request.method == "GET" and request.path != url_for("clinician.home"):
        query = request.query_string.decode("utf-8", "replace")
        target = safe_next(request.path + (f"?{query}" if query else ""))
    args: dict[str, Any] = {"ended": 1} if had_cookie else {}
    if target:
        args["next"] = target
    return redirect(url_for("clinician.login", **args), 303)


def new_csrf_token() -> None:
    """Start the signed-in pages with a new CSRF token. Flask-WTF also caches the token of the
    request in ``g``: drop that too, or a page rendered now (the resume page) gets the old one."""
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)


#: What a form posted to each clinic page does, in the words of its button: the resume page says
#: which action "Send what I typed" will send.
ACTIONS = {
    "clinician.new_invitation": _l("Invite the patient"),
    "clinician.reissue": _l("Issue a new link"),
    "clinician.revoke": _l("Revoke the link"),
    "clinician.reviewed": _l("Mark reviewed"),
    "clinician.send_to_ehr": _l("Send to EHR"),
    "clinician.home": _l("Search the worklist"),
    "clinician.two_factor": _l("Turn on two-factor sign-in"),
    "clinician.two_factor_off": _l("Turn off two-factor sign-in"),
    "clinician.admin.create_account": _l("Create the account"),
    "clinician.admin.change_role": _l("Change the account's role"),
    "clinician.admin.disable_account": _l("Disable the account"),
    "clinician.admin.enable_account": _l("Enable the account"),
    "clinician.admin.password_link": _l("Make a new set-password link"),
    "clinician.admin.reset_two_factor": _l("Reset two-factor sign-in"),
    "clinician.admin.create_api_token": _l("Create the API token"),
    "clinician.admin.revoke_api_token": _l("Revoke the API token"),
}


def action_of(path: str) -> str | None:
    """What posting to ``path`` does, in its button's words, or None for a page not listed."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(path, method="POST")
    except HTTPException:
        return None
    action = ACTIONS.get(endpoint)
    return str(action) if action is not None else None


def after_sign_in(carry: list[tuple[str, str]], next_path: str | None) -> Response:
    """Where a new session goes first: the page offering to send what was typed, the page the
    person was on, or the clinic's home page."""
    if carry and next_path:
        page = render_template(
            "clinician/resume.html",
            carry=carry,
            next_path=next_path,
            action=action_of(urlsplit(next_path).path),
        )
        return make_response(page, 200)
    return redirect(next_path or url_for("clinician.home"), 303)
