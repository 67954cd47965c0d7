"""The link token travels in the query string: no log the service writes may hold one."""

from __future__ import annotations

import logging
import os
import re
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from intake import create_app
from intake.logs import DROP_QUERY_STRINGS, DropQueryStrings
from tests.conftest import app_config

ROOT = Path(__file__).resolve().parent.parent

#: gunicorn atoms that can carry a query string: the request line, the query string itself, the
#: Referer (another page's URL), the remote user, and any request or response header.
FORBIDDEN_ATOMS = ("%(r)s", "%(q)s", "%(f)s", "%(u)s")


@pytest.fixture(scope="module")
def gunicorn_conf() -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_access_log_records_the_path_only(gunicorn_conf: dict[str, Any]) -> None:
    fmt = gunicorn_conf["access_log_format"]
    assert "%(U)s" in fmt
    for atom in FORBIDDEN_ATOMS:
        assert atom not in fmt, f"{atom} could put a link token in the access log"
    assert not re.search(r"%\(\{[^}]*\}[ioe]\)s", fmt), "no header atoms (Referer holds URLs)"


def test_gunicorn_logs_to_stdout_and_binds_loopback(gunicorn_conf: dict[str, Any]) -> None:
    assert gunicorn_conf["accesslog"] == "-"
    assert gunicorn_conf["bind"].startswith("127.0.0.1:")
    assert gunicorn_conf["workers"] == 2


def test_gunicorn_error_log_drops_query_strings(gunicorn_conf: dict[str, Any]) -> None:
    logger = logging.getLogger("test_logs.gunicorn.error")
    gunicorn_conf["on_starting"](None)  # what gunicorn calls in the master at start
    try:
        filters = logging.getLogger("gunicorn.error").filters
        assert filters
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "Error handling request %s %s",
            ("GET", "/start?t=SECRET"), None,
        )  # fmt: skip
        for f in filters:
            assert f.filter(record)  # type: ignore[union-attr]
        assert "SECRET" not in record.getMessage()
        assert "/start" in record.getMessage()
    finally:
        for f in list(logging.getLogger("gunicorn.error").filters):
            logging.getLogger("gunicorn.error").removeFilter(f)


def test_development_server_log_drops_query_strings() -> None:
    # How werkzeug's request log calls the logger: '"%s" %s %s' % (request line, status, size).
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /start?t=SECRET HTTP/1.1", "303", "-"), None,
    )  # fmt: skip
    assert DropQueryStrings().filter(record)
    message = record.getMessage()
    assert "SECRET" not in message
    assert "GET /start" in message
    assert "HTTP/1.1" in message


def test_werkzeug_logger_has_the_filter_once_however_many_apps(app: Any) -> None:
    create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "DATABASE_URL": "sqlite://",
        }
    )
    filters = logging.getLogger("werkzeug").filters
    assert [f for f in filters if isinstance(f, DropQueryStrings)] == [DROP_QUERY_STRINGS]


def test_a_database_error_does_not_quote_patient_data(app: Flask) -> None:
    """An error's text is what a traceback logs: it names the statement, never its values."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from intake import db

    insert = text("INSERT INTO no_such_table (name) VALUES (:name)")
    with (
        app.app_context(),
        db.engine().connect() as connection,
        pytest.raises(DBAPIError) as caught,
    ):
        connection.execute(insert, {"name": "Zoë Private"})
    assert "Zoë Private" not in str(caught.value)
    assert "no_such_table" in str(caught.value)


def test_creating_the_app_again_adds_no_second_filter_or_handler(
    app_without_database: Flask,
) -> None:
    """Every test (and every CLI command) makes an app: each must leave the process's loggers as
    the first one did, or every request line would run through one more filter each time."""
    names = (None, "werkzeug", app_without_database.logger.name, "intake")

    def wiring() -> list[tuple[int, int]]:
        loggers = [logging.getLogger(name) for name in names]
        return [(len(lg.filters), len(lg.handlers)) for lg in loggers]

    once = wiring()
    assert once[1][0] >= 1  # the werkzeug logger has its filter
    for _ in range(3):
        create_app(app_config("sqlite:///unused-never-opened.sqlite3"))
    assert wiring() == once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"GET /start?t= TOKENTOKENTOKEN HTTP/1.1", b"400"),  # a raw space: the rest is quoted
        (b"GET /start?t=TOKENTOKENTOKEN HTTP/9.9", b"400"),
        (b"G\x01T /start?t=TOKENTOKENTOKEN HTTP/1.1", b"400"),
        (b"GET /start?t=TOKENTOKENTOKEN", b"400"),
        (b"GET /start?t=TOKENTOKENTOKEN&x=" + b"a" * 5000 + b" HTTP/1.1", b"414"),
    ],
)
def test_a_request_gunicorn_cannot_parse_leaves_no_token_in_its_log(
    tmp_path: Path, request_line: bytes, status: bytes
) -> None:
    """A real gunicorn with the shipped settings, sent a malformed request line holding a token:
    neither of its logs may hold the token afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "INTAKE_ENV": "development",
        "SECRET_KEY": "0123456789abcdef" * 4,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite3'}",
    }
    env.pop("TEST_DATABASE_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py",
             "--workers", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while b"Booting worker" not in log.read_bytes():
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(request_line + b"\r\nHost: localhost\r\n\r\n")
                answer = conn.recv(4096)
            assert answer.startswith(b"HTTP/1.1 " + status), answer
            # gunicorn's own answer carries the service's headers and does not echo the request.
            head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            assert "X-Frame-Options: DENY" in head and "Content-Security-Policy: " in head
            assert "X-Content-Type-Options: nosniff" in head
            assert b"TOKENTOKENTOKEN" not in answer
            time.sleep(0.5)  # the worker logs the error after answering
        finally:
            server.terminate()
            server.wait(timeout=30)
    written = log.read_bytes()
    assert b"Invalid" in written or b"400" in written  # the failure itself is logged
    assert b"TOKENTOKENTOKEN" not in written, written.decode(errors="replace")
