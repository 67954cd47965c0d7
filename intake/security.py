"""Baseline protection: CSRF on every form, strict headers and CSP, bounded request bodies, i18n."""

from __future__ import annotations

from flask import Flask, Request, abort, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

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
CONTENT_SECURITY_POLICY = "; ".join(f"{directive} {value}" for directive, value in CSP.items())
#: One year (365.2422 days, the value the service has always sent) and every subdomain.
STRICT_TRANSPORT_SECURITY = "max-age=31556926; includeSubDomains"
#: same-origin, not no-referrer: Flask-WTF checks the Referer on HTTPS POSTs (PITFALLS).
REFERRER_POLICY = "same-origin"


def reached_over_https(req: Request) -> bool:
    """Whether the browser used HTTPS: directly, or through a proxy that says so.

    The proxy's X-Forwarded-Proto counts even without PROXY_HOPS: HSTS that reaches a browser
    over plain HTTP is ignored (RFC 6797), so trusting the header can only ever add protection.
    """
    return req.is_secure or req.headers.get("X-Forwarded-Proto", "http") == "https"


def security_headers(*, hsts: bool) -> list[tuple[str, str]]:
    """The headers every response carries, in the order they are sent."""
    headers = [
        # Opts out of the browser's interest-based advertising topics.
        ("Permissions-Policy", "browsing-topics=()"),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    headers.append(("Referrer-Policy", REFERRER_POLICY))
    return headers


def init_app(app: Flask) -> None:
    # The session cookie's flags (Secure in production, HttpOnly, SameSite=Lax) are set once, in
    # intake.config; HTTPS itself is the reverse proxy's job (README), never a redirect here.
    production = app.config["INTAKE_ENV"] == "production"
    csrf.init_app(app)
    babel.init_app(app)

    @app.before_request
    def _require_length() -> None:
        # Werkzeug silently truncates a chunked body at MAX_CONTENT_LENGTH: refuse it outright.
        if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
            abort(411)

    # Flask runs after_request functions last-registered first: Cache-Control is set, then these.
    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in security_headers(hsts=production and reached_over_https(request)):
            response.headers[name] = value
        return response

    @app.after_request
    def _no_store(response: Response) -> Response:
        # Patient pages hold health information: keep them out of shared caches and history.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
