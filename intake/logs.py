"""Logging that never records a link token or patient data.

The patient link carries its token in the query string (``/start?t=...``); access logs here and in
the shipped gunicorn config record the path only.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

_QUERY = re.compile(r"\?[^\s\"]*")


class DropQueryStrings(logging.Filter):
    """Strip query strings from request lines (the development server logs them whole)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _QUERY.sub("?[redacted]", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = _QUERY.sub("?[redacted]", str(record.msg))
        return True


#: One filter for the process: the werkzeug logger is global, and adding the same object again is a
#: no-op, where a new one per ``create_app`` (each test makes an app) stacked up for ever.
DROP_QUERY_STRINGS = DropQueryStrings()


def init_app(app: Flask) -> None:
    logging.getLogger("werkzeug").addFilter(DROP_QUERY_STRINGS)
    app.logger.setLevel(logging.INFO)
