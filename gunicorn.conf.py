"""gunicorn settings used by scripts/serve: loopback only, and logs that never hold a link token.

The patient link carries its token in the query string (``/start?t=...``). gunicorn's default
access log writes the whole request line (``%(r)s``), so the format here names the path only
(``%(U)s``) and leaves out the query string (``%(q)s``), the request line, the Referer (``%(f)s``,
which can hold another page's query string) and request headers. tests/test_logs.py checks this.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

wsgi_app = "wsgi:app"
bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
#: Web worker processes (sync: one request at a time each). Two suit a 2-core machine with the
#: background worker beside them; see the README's "Sizing" for what more cores carry.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# "Send to EHR" waits for the EHR's answer, retries included (EHR_TIMEOUT_SECONDS, EHR_RETRIES):
# the default 30 s would kill the worker mid-upload.
timeout = 120
accesslog = "-"
errorlog = "-"
# gunicorn 27 opens a control socket in ~/.gunicorn by default: one per user, shared by every
# instance. scripts/serve needs none.
control_socket_disable = True
access_log_format = '%(t)s %(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

_QUERY = re.compile(r"\?[^\s\"']+")
#: What gunicorn quotes of a request it could not parse (``'TOKEN HTTP/1.1'`` after a raw space
#: in ``/start?t= TOKEN``): the client's bytes, any of which may be a link token.
_QUOTED = re.compile(r"(['\"]).*?\1")
_UNPARSED = "Invalid request from"


class _DropQueryStrings(logging.Filter):
    """gunicorn's error log names ``req.uri`` (query string included) when a request fails, and
    quotes the bad request line, method, version or header when one cannot be parsed: the query
    strings go, and so does everything quoted of a request that could not be parsed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _QUERY.sub("?[redacted]", str(record.msg))
        if record.msg.startswith(_UNPARSED):
            record.msg = _QUOTED.sub("'[redacted]'", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("?[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def on_starting(server: Any) -> None:
    # Added in the master before workers fork, so every worker's error logger has it too.
    logging.getLogger("gunicorn.error").addFilter(_DropQueryStrings())


#: What gunicorn answers itself to a request it cannot parse (400) or whose line is too long (414),
#: before the app sees it: the service's words and headers, not a bare page quoting the request.
_REFUSED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>This request could not be read</title></head>
<body><h1>This request could not be read</h1>
<p>Nothing was saved from it. Please go back and try again, or open the service's address anew.</p>
<p><a href="/">Open the start page</a></p></body></html>
"""


def _write_error(sock: Any, status_int: int, reason: str, _mesg: str) -> None:
    """gunicorn's ``util.write_error``, with the security headers every response of the service
    carries and without echoing the request (it may hold a link token)."""
    from gunicorn.util import write_nonblock

    from intake.security import security_headers

    body = _REFUSED_PAGE.encode("utf-8")
    headers = [
        ("Connection", "close"),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *security_headers(hsts=False),
    ]
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    write_nonblock(sock, head.encode("latin-1") + b"\r\n" + body)


def post_worker_init(worker: Any) -> None:
    # gunicorn looks util.write_error up at each call: each worker answers with the page above.
    from gunicorn import util

    util.write_error = _write_error
