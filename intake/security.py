"""Baseline protection: CSRF on every form, strict headers and CSP, bounded request bodies, i18n."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import Babel
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()

#: Nothing from another site, no inline script or style, no framing, no plugins.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def init_app(app: Flask) -> None:
    production = app.config["INTAKE_ENV"] == "production"
    csrf.init_app(app)
    babel.init_app(app)
    Talisman(
        app,
        content_security_policy=CSP,
        force_https=production and app.config.get("FORCE_HTTPS", False),
        strict_transport_security=production,
        frame_options="DENY",
        # same-origin, not no-referrer: Flask-WTF checks the Referer on HTTPS POSTs.
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
    )

    @app.before_request
    def _require_length() -> None:
        # Werkzeug silently truncates a chunked body at MAX_CONTENT_LENGTH: refuse it outright.
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            abort(411)

    @app.after_request
    def _no_store(response):  # type: ignore[no-untyped-def]
        # Patient pages hold health information: keep them out of shared caches and history.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
