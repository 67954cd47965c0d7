"""The edge: text no database column can hold is refused before any view sees it.

PostgreSQL's text types cannot store NUL (psycopg raises ``DataError``: a 500), and a lone
surrogate cannot even be encoded as UTF-8; SQLite stores both silently, which is how a NUL in a
sign-in e-mail, a worklist search or an audit filter reached production as a 500 (PITFALLS). One
check here covers every query string, path, form value and read header, so a new route or field
is covered without anyone remembering to.

Bytes that are no UTF-8 are never saved as replacement characters or as junk: a posted form is
decoded with ``surrogateescape`` (``StrictFormParser``), so each such byte arrives as a lone
surrogate, which the same check refuses (a multipart body, which no page of the service sends,
is refused whole).

Two forms are the exception, ``FIELDS_CHECK_NUL``: their own validators refuse a NUL field by
field (the patient's step, ``forms.types.base.reject_unstorable``; the clinic's invitation, its
``_printable``), so the person keeps everything else on the page with the message by the field.
The edge leaves NUL in those bodies to them, and lone surrogates to those of
``FIELDS_CHECK_UNREADABLE`` (the patient's step: a damaged answer is that answer's message, the
rest of the page saved); it still checks their path, query string and headers.

The client's address is made safe here too: with PROXY_HOPS it comes from ``X-Forwarded-For``,
which could hold anything, and it is stored in ``address`` columns of ``ADDRESS_LENGTH``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from flask import Flask, Request, render_template, request
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

#: NUL (PostgreSQL text cannot hold it) and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
SURROGATES = re.compile("[\ud800-\udfff]")
#: The request headers the service reads itself (the client address is checked apart, below).
#: Cookies are not: the service only hashes or verifies their values, never stores them, and a
#: refused cookie would shut a browser out until the person found how to clear it.
HEADERS_READ = ("Authorization", "Host", "Origin", "Referer", "X-Forwarded-Proto")
#: Endpoints whose posted form checks NUL itself, per field, in every field it reads (see the
#: module docstring); a new one belongs here only with a test that shows it does.
FIELDS_CHECK_NUL = frozenset({"patient.step", "clinician.new_invitation"})
#: Of those, the ones whose validators refuse lone surrogates too, in every answer: a field
#: named by a catalog id (``section.item``, always with a dot). Their other fields (the resume
#: ticket, the version, the button, the date of birth) are read by code that expects text, so
#: the edge checks those as everywhere else.
FIELDS_CHECK_UNREADABLE = frozenset({"patient.step"})
#: The length of every ``address`` column (intake.models).
ADDRESS_LENGTH = 64


#: Why a request was refused, each with its own message on the page: ``nul``, a NUL character
#: (pasted from another program); ``damaged``, bytes that are no UTF-8 (the request was damaged
#: on its way: the person typed nothing wrong, and retyping is not the remedy).
Cause = Literal["nul", "damaged"]


class UnstorableInput(BadRequest):
    """A request carrying text that cannot be stored; each blueprint shows it in its own style,
    with the message of each of its ``causes``."""

    description = (
        "The request contains a character that cannot be stored (NUL), or bytes that are no UTF-8."
    )

    def __init__(self, causes: frozenset[Cause] = frozenset({"damaged"})) -> None:
        super().__init__()
        self.causes = causes


class StrictFormParser(FormDataParser):
    """Form bodies decoded so that bytes which are no UTF-8 can be told from text.

    Werkzeug keeps such a byte of an urlencoded body as the literal text ``%FF`` (a raw one
    empties the whole form) and makes it U+FFFD in a multipart one: either way saved as if the
    patient had typed it. Here each becomes a lone surrogate (``surrogateescape``), which the
    edge or the field's validator refuses with a message. A multipart body that is no UTF-8 is
    refused whole: the service's pages never send one, and it takes no uploads.
    """

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        body = stream.read().decode("utf-8", "surrogateescape")
        items = parse_qsl(body, keep_blank_values=True, errors="surrogateescape")
        return stream, self.cls(items), self.cls()

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        body = stream.read()
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise UnstorableInput() from None
        return super()._parse_multipart(BytesIO(body), mimetype, content_length, options)


class StrictRequest(Request):
    form_data_parser_class = StrictFormParser


def _causes(pattern: re.Pattern[str], values: Iterable[str]) -> frozenset[Cause]:
    """What is wrong with the values ``pattern`` finds in: a NUL, damaged bytes, or both."""
    found = {c for value in values for c in pattern.findall(value)}
    causes: set[Cause] = {"damaged"} if any(c != "\x00" for c in found) else set()
    return frozenset(causes | ({"nul"} if "\x00" in found else set()))


def unstorable_part() -> tuple[str, frozenset[Cause]] | None:
    """Which part of the current request holds unstorable text (for the log), and why; or None."""
    if causes := _causes(UNSTORABLE, [request.path]):
        return "path", causes
    if causes := _causes(UNSTORABLE, (t for kv in request.args.items(multi=True) for t in kv)):
        return "query string", causes
    form_pattern = SURROGATES if request.endpoint in FIELDS_CHECK_NUL else UNSTORABLE
    fields = request.form.items(multi=True)
    if request.endpoint in FIELDS_CHECK_UNREADABLE:
        fields = (kv for kv in fields if "." not in kv[0])  # the answers check their own
    if causes := _causes(form_pattern, (t for kv in fields for t in kv)):
        return "form", causes
    for name in HEADERS_READ:
        if causes := _causes(UNSTORABLE, [request.headers.get(name, "")]):
            return f"header {name}", causes
    return None


def refuse_unstorable() -> None:
    """before_request: a 400 for unstorable text, before any view or guard reads it."""
    found = unstorable_part()
    if found is not None:
        part, causes = found
        log.info(
            "refused a request with unstorable text (%s) in its %s", "+".join(sorted(causes)), part
        )
        raise UnstorableInput(causes)


def client_address(value: str | None) -> str | None:
    """``value`` if it is an IP address that fits the ``address`` columns, else None. Kept as
    written (the proxy writes each address one way), so stored rows and limits stay comparable."""
    address = (value or "").strip()
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address if len(address) <= ADDRESS_LENGTH else None


class ClientAddress:
    """WSGI middleware (inside ProxyFix): REMOTE_ADDR always a valid, bounded IP address or absent.

    An ``X-Forwarded-For`` entry that is no IP address, or is too long (an IPv6 zone can be any
    length), falls back to the peer that connected, the proxy: the sign-in limits per address
    still count it (with no address they would not apply at all), and the audit stays true.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        given = environ.get("REMOTE_ADDR")
        address = client_address(given)
        if address is None:
            peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")
            address = client_address(peer)
            if given != peer:
                log.warning("X-Forwarded-For held no valid client address: the proxy's is used")
        if address is None:
            environ.pop("REMOTE_ADDR", None)
        else:
            environ["REMOTE_ADDR"] = address
        return self.app(environ, start_response)


def without_unstorable(value: Any) -> Any:
    """Jinja's finalize: no page shows a refused character back (a step page shown again keeps
    what was typed, minus the NUL its validator refused; the browser would post it again)."""
    if isinstance(value, str):
        for character in set(UNSTORABLE.findall(value)):
            value = value.replace(character, "")  # Markup's replace keeps it Markup
    return value


def isolated(value: Any) -> str:
    """A name or other typed text set apart from the words around it (Unicode's first-strong
    isolate): a right-to-left name, or an unclosed U+202E in one, cannot reorder the sentence,
    title or table cell it sits in. Plain text, so it works inside translated sentences and the
    page title, where a ``<bdi>`` cannot go."""
    return f"\u2068{value}\u2069"


def init_app(app: Flask) -> None:
    """Register the check first (before CSRF's), and the page for views outside any blueprint."""
    app.request_class = StrictRequest
    app.before_request(refuse_unstorable)
    app.jinja_env.finalize = without_unstorable
    app.add_template_filter(isolated, "isolated")

    @app.errorhandler(UnstorableInput)
    def _unstorable(error: UnstorableInput) -> Any:
        return render_template("patient/bad_input.html", causes=error.causes), 400
