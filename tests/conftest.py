"""Fixtures: an app on a fresh database per test (SQLite file, or PostgreSQL via TEST_DATABASE_URL).

Every test that uses the ``app`` fixture (directly or through another fixture) is marked ``db``;
``scripts/test`` runs only those again on PostgreSQL. A test without the marker that opens a
database connection fails, so none can escape that second run unnoticed.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, update
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from intake import create_app, db
from intake.clock import utcnow
from intake.db import Base
from intake.intakes import submissions
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.intakes.invitations import create_invitation, find_by_public_id
from intake.intakes.submissions import submit_intake
from intake.models import Intake, PatientSession, Submission
from intake.pdf.job import RenderJob
from intake.pdf.renderer import RENDERER
from intake.worker import run as run_worker
from intake.worker import run_until_idle
from tests.accessibility import CheckedBrowser, Findings, init_script
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, unavailable
from tests.loopback_fhir import fhir, fhir_server  # noqa: F401  (fixtures: the loopback FHIR server)

# --- the db marker, and the guard that keeps it honest -------------------------------------------


def _uses_the_test_database(item: pytest.Item) -> bool:
    """True when the test's fixture closure holds this file's ``app`` (the one on the database
    TEST_DATABASE_URL names); a module's own ``app`` that overrides it does not count."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None or "app" not in info.names_closure:
        return False
    for fixture in reversed(info.name2fixturedefs.get("app", ())):  # the one used comes last
        if fixture.func.__module__ == __name__:
            return True
        if "app" not in fixture.argnames:  # an override that does not build on this one
            return False
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_the_test_database(item):
            item.add_marker(pytest.mark.db)
        elif "live_app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.own_database)  # the browser tests' server, on SQLite


#: Tests running now without a database marker (``db`` or ``own_database``), and what they opened.
_UNMARKED: dict[str, list[str]] = {}
_CURRENT: list[pytest.Item] = []


@event.listens_for(Engine, "engine_connect")
def _refuse_unmarked(connection: Any) -> None:
    """Any connection, on any engine, opened by a test that claims to need no database."""
    if not _CURRENT:
        return
    item = _CURRENT[0]
    if item.get_closest_marker("db") or item.get_closest_marker("own_database"):
        return
    url = connection.engine.url.render_as_string(hide_password=True)
    _UNMARKED.setdefault(item.nodeid, []).append(url)
    raise AssertionError(
        f"{item.nodeid} opened a database connection ({url}) without the db marker: use the app "
        "fixture, or mark it db (or own_database for a SQLite file of its own)"
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    _CURRENT[:] = [item]
    yield
    _CURRENT.clear()


@pytest.fixture(autouse=True)
def _database_marker_holds(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test even when the code under test caught the guard's error (``/healthz`` does)."""
    yield
    if opened := _UNMARKED.pop(request.node.nodeid, None):
        pytest.fail(f"opened {opened[0]} without the db marker", pytrace=False)


# --- the app ----------------------------------------------------------------------------------


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


#: The audit key every test's environment has, as scripts/serve gives one to every run of the
#: service (production refuses to start without it).
AUDIT_KEY = "test-audit-key-0123456789abcdef-0123456789"


@pytest.fixture(autouse=True)
def _audit_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_KEY", AUDIT_KEY)


def app_config(database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INTAKE_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "AUDIT_KEY": AUDIT_KEY,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        "ARGON2_PROFILE": "CHEAPEST",  # real parameters take 0.1 s a hash
    }


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates shared by every test's app: each new app otherwise compiles every
    template it renders again (a third of a page's time). Jinja checks each template's source
    checksum, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _MemoryBytecodeCache()


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with the schema, made once: each test starts on a copy of it."""
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    url = _database_url(tmp_path)
    if url.startswith("sqlite"):
        shutil.copyfile(request.getfixturevalue("_sqlite_schema"), tmp_path / "test.sqlite3")
    app = create_app(app_config(url))
    app.jinja_env.bytecode_cache = _BYTECODE
    if not url.startswith("sqlite"):
        with app.app_context():
            engine = db.engine()
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
    yield app
    with app.app_context():
        db.session().close()
        db.engine().dispose()


@pytest.fixture
def app_without_database(tmp_path: Path) -> Flask:
    """An app for templates, configuration and PDFs, on a database it never opens: a test on
    it is not marked db (so it runs once, on SQLite's pass), and fails if it connects."""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"))
    app.jinja_env.bytecode_cache = _BYTECODE
    return app


@dataclass
class Invited:
    public_id: str
    token: str
    dob: date


@pytest.fixture
def invite(app: Flask) -> Callable[..., Invited]:
    """Factory: create an invitation and return its public id and link token."""

    def make(
        name: str = "Jane Doe",
        dob: date = date(1980, 3, 27),
        mrn: str | None = "MRN-1",
        expires_days: int = 14,
    ) -> Invited:
        with app.app_context(), db.transaction() as tx:
            new = create_invitation(tx, name, dob, mrn, expires_days)
            return Invited(new.intake.public_id, new.token, dob)

    return make


def sign_in(client: FlaskClient, invited: Invited) -> None:
    """Open the link and confirm the date of birth, as a patient would."""
    assert client.get(f"/start?t={invited.token}").status_code == 303
    dob = invited.dob
    response = client.post(
        "/verify", data={"dob-day": dob.day, "dob-month": dob.month, "dob-year": dob.year}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def patient(client: FlaskClient, invite: Callable[..., Invited]) -> Invited:
    """A patient signed in on ``client``."""
    invited = invite()
    sign_in(client, invited)
    return invited


#: All the shared stand-in PDF says: no intake's name, answers or questions, so that a test that
#: reads it, rather than only passing it along, fails.
STAND_IN_TEXT = "A stand-in for an intake's summary, for a test that does not look at the PDF."


@pytest.fixture(scope="session")
def _stand_in() -> bytes:
    """One real PDF per run, made by the service's renderer process, holding no intake's
    summary and no attachment."""
    html = f'<html lang="en"><head><title>Stand-in</title></head><p>{STAND_IN_TEXT}</p></html>'
    return RENDERER.render(RenderJob(html))


def _stand_in_pdf(stand_in: bytes) -> Callable[[submissions.PdfWork], bytes]:
    """``render_pdf_bytes`` for tests that never look at the PDF: the stand-in, with a comment
    after its end naming the intake, so that no two intakes' stored bytes are ever equal (a
    download of another intake's PDF still differs from this intake's own)."""

    def render(work: submissions.PdfWork) -> bytes:
        return stand_in + f"%stand-in PDF of intake {work.public_id}\n".encode()

    return render


@pytest.fixture
def shared_pdf(_stand_in: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test that submits but never reads, compares or downloads a PDF: every summary it
    would render (0.6 s each) is the shared stand-in instead (``_stand_in_pdf``). Use it with
    ``@pytest.mark.usefixtures("shared_pdf")``; a test that looks at a PDF must not."""
    monkeypatch.setattr(submissions, "render_pdf_bytes", _stand_in_pdf(_stand_in))


@pytest.fixture
def submitted(app: Flask, invite: Callable[..., Invited]) -> Callable[..., str]:
    """Factory: an intake with the demo answers (all optional detail opened), submitted, with its
    PDF stored, as the patient's "Send" would leave it. Returns the public id. The PDF is this
    intake's own, unless the test uses ``shared_pdf``."""

    def make(answers: dict[str, Any] | None = None, **invite_args: Any) -> str:
        invited = invite(**invite_args)
        with app.app_context():
            catalog = get_catalog()
            with db.transaction() as tx:
                intake = find_by_public_id(tx, invited.public_id)
                assert intake is not None
                intake.answers = answers if answers is not None else demo_answers(catalog)
                intake.detail_sections = demo_detail_sections(catalog)
                submit_intake(tx, intake)
        run_jobs(app)  # what the background worker does next: render and store the PDF
        return invited.public_id

    return make


def run_jobs(app: Flask) -> int:
    """Do what the background worker would do now (render PDFs, send to the EHR), here, in the
    test's process; how many jobs were done. A test that submits and then reads the PDF calls it
    between the two, as a clinician's download comes after the worker's render."""
    return run_until_idle(app)


def stored_submission(app: Flask, public_id: str, within: float = 180) -> Submission:
    """The intake's submission once the live app's background worker has stored its PDF
    (usually within a second or two; ``within`` only bounds a broken worker's test)."""
    deadline = time.monotonic() + within
    while True:
        submission = load_intake(app, public_id).submission
        assert submission is not None, "not submitted"
        if submission.pdf is not None or time.monotonic() > deadline:
            return submission
        time.sleep(0.1)


def load_intake(app: Flask, public_id: str) -> Intake:
    with app.app_context():
        intake = find_by_public_id(db.session(), public_id)
        assert intake is not None
        _ = intake.submission  # load while the session is open
        return intake


def idle_for(app: Flask, invited: Invited, minutes: float) -> None:
    """As if the patient's browser had sent nothing for ``minutes``."""
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, invited.public_id)
        assert intake is not None
        before = utcnow() - timedelta(minutes=minutes)
        tx.execute(
            update(PatientSession)
            .where(PatientSession.intake_id == intake.id)
            .values(last_seen_at=before)
        )


def page_version(html: str) -> str:
    match = re.search(r'name="_version" value="(\d*)"', html)
    assert match
    return match.group(1)


def post_step(
    client: FlaskClient,
    section_id: str,
    answers: dict[str, Any],
    action: str = "next",
    version: str | None = None,
) -> TestResponse:
    """Post a step the way its page would: with the version and the ids it showed."""
    page = client.get(f"/step/{section_id}").get_data(as_text=True)
    shown = re.findall(r'name="_shown" value="([^"]+)"', page)
    data: dict[str, Any] = {
        "_version": version or page_version(page),
        "_shown": shown,
        "action": action,
    }
    data.update(answers)
    return client.post(f"/step/{section_id}", data=data)


# --- the browser tests: the real app on a loopback port, and Chromium ---------------------------


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """The real app served by werkzeug in a thread, and its background worker in another (as
    scripts/serve runs gunicorn and ``intake worker``); yields (app, base URL)."""
    holder: dict[str, Any] = {}

    def wsgi(environ: Any, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "browser-test-secret",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
            "PUBLIC_BASE_URL": base,
            # CSRF stays enabled: the browser must carry the real tokens.
        }
    )
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    with app.app_context():
        Base.metadata.create_all(db.engine())
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop_worker = threading.Event()
    worker = threading.Thread(target=run_worker, args=(app, 0.1, stop_worker), daemon=True)
    worker.start()
    try:
        yield app, base
    finally:
        stop_worker.set()
        worker.join(90)
        server.shutdown()
        thread.join(5)
        server.server_close()
        with app.app_context():
            db.session().close()
            db.engine().dispose()


@pytest.fixture
def browser(_chromium: Any) -> Iterator[CheckedBrowser]:
    """The run's Chromium, for one test: every page its contexts load is checked by axe-core
    (``tests/accessibility.py``), and the test fails on any WCAG 2.2 A or AA violation."""
    checked = CheckedBrowser(_chromium, Findings(), init_script())
    yield checked
    found = checked.findings
    assert not found.violations, "accessibility violations:\n" + "\n".join(found.violations)
    assert found.checked or not found.loads, "pages were loaded, but axe-core checked none"


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Any]:
    """Headless Chromium (skipped where it is missing, a failure in CI), started once per run
    (about a second each time): every test opens a context of its own in it, with its own empty
    cookies, storage and cache, and closes it."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed: {exc}")
    manager = sync_playwright().start()
    try:
        try:
            # A launched (not persistent) browser gets a fresh, empty profile directory.
            chromium = manager.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
            )
        except Exception as exc:
            unavailable(f"launch failed: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()
    finally:
        manager.stop()
