"""The service's own pages for requests refused before any view ran (a body over the limit).

Werkzeug's bare page had no way back and no word on what happened to the answers; this one has
both, and goes out with the service's security headers like every other response.
"""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge


def too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A post over MAX_CONTENT_LENGTH: nothing of it was read, so nothing of it was saved."""
    # A step page can be opened again; most clinic posts have no page of their own to return to.
    back = request.path if request.path.startswith("/step/") else None
    if request.path.startswith("/clinic/"):
        back = "/clinic/"
    return render_template("too_large.html", back=back), 413


def init_app(app: Flask) -> None:
    app.register_error_handler(RequestEntityTooLarge, too_large)
