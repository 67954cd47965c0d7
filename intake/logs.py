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


#: One instance for every app: ``addFilter`` skips a filter already there, a new one it would not.
_DROP_QUERY_STRINGS = DropQueryStrings()


def init_app(app: Flask) -> None:
    logging.getLogger("werkzeug").addFilter(_DROP_QUERY_STRINGS)
    app.logger.setLevel(logging.INFO)
