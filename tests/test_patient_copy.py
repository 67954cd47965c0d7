"""The patient's own copy of their sent answers (issue 15, item 7): the clinician's PDF itself,
from the done page, in the signed-in session only, while the link works, audited, never e-mailed.

These download and compare real PDFs, so they render them (no ``shared_pdf``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from intake import db
from intake.clock import utcnow
from intake.models import AuditEvent, Intake, Job
from intake.reads.history import intake_history
from tests.conftest import Invited, load_intake, post_step, run_jobs, sign_in
from tests.extracted_text import pdf_text, squash, visible_text

COPY = "/done/copy.pdf"
STATUS = "/done/copy/status"
HASH = re.compile(r'<code class="hash">([0-9a-f]{64})</code>')


def mine(app: Flask, public_id: str, path: str = COPY) -> str:
    """``path`` as the intake's own done page links it (marked with the intake it was drawn for)."""
    from intake.intakes.patient_copy import copy_mark

    return f"{path}?of={copy_mark(load_intake(app, public_id))}"


def send(client: FlaskClient) -> None:
    post_step(client, "general", {"general.completed_by": "self", "general.course": "worse"})
    assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")


def copy_events(app: Flask, public_id: str) -> list[tuple[str, str, str | None, str]]:
    with app.app_context():
        rows = db.session().scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "patient.pdf_download")
            .order_by(AuditEvent.id)
        )
        return [(e.actor, e.intake_public_id or "", e.address, e.outcome) for e in rows]


def test_the_done_page_offers_the_stored_pdf_and_prints_its_sha256(
    app: Flask, client: FlaskClient, patient: Invited, tmp_path: Path
) -> None:
    send(client)
    # Before the worker has stored the PDF: the page says so, and its link works without scripts.
    page = client.get("/done").get_data(as_text=True)
    assert "Your answers have been sent" in page
    copy, status_url = mine(app, patient.public_id), mine(app, patient.public_id, STATUS)
    assert "is being made" in page and f'href="{copy}"' in page
    assert f'data-copy-status="{status_url}"' in page
    assert not HASH.search(page)
    assert client.get(status_url).get_json() == {"state": "making"}
    pending = client.get(copy)
    assert pending.status_code == 503 and pending.headers["Retry-After"] == "5"
    assert pending.mimetype == "text/html"
    assert "Please try again in a few seconds" in pending.get_data(as_text=True)

    assert run_jobs(app) == 1  # the background worker's render
    stored = load_intake(app, patient.public_id).submission
    assert stored is not None and stored.pdf is not None and stored.pdf_sha256 is not None
    status = client.get(status_url)
    assert status.get_json() == {"state": "ready"}
    assert status.headers["Cache-Control"] == "no-store"
    page = client.get("/done").get_data(as_text=True)
    printed = HASH.search(page)
    assert printed is not None and printed.group(1) == stored.pdf_sha256
    assert f'href="{copy}"' in page and "Download my copy (PDF," in page
    assert "saved on this phone or computer" in page
    assert "data-copy-status" not in page  # nothing left to wait for

    head = client.head(copy)  # no download: neither audited nor queued
    assert head.status_code == 200 and not head.get_data()

    response = client.get(copy)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    day = stored.submitted_at.date().isoformat()  # the clinic's zone is UTC here
    disposition = response.headers["Content-Disposition"]
    assert disposition == f"attachment; filename=pre-visit-answers_{day}.pdf"
    data = response.get_data()
    assert data == stored.pdf  # the very bytes the clinician downloads
    assert hashlib.sha256(data).hexdigest() == stored.pdf_sha256 == printed.group(1)
    assert "Doe" in squash(pdf_text(data, tmp_path))  # the clinician's document, name and all

    # Audited as the patient's events, with nothing of the patient in them.
    assert copy_events(app, patient.public_id) == [
        ("patient", patient.public_id, "127.0.0.1", "pending"),
        ("patient", patient.public_id, "127.0.0.1", "ok"),
    ]
    with app.app_context():
        intake = db.session().scalars(select(Intake)).one()
        lines = [(e.kind, e.by, e.outcome, e.count) for e in intake_history(db.session(), intake)]
    assert ("copy_downloaded", "patient", "ok", 1) in lines


def test_a_download_before_the_pdf_is_stored_queues_its_render_again(
    app: Flask, client: FlaskClient, patient: Invited, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every render so far failed for good (no job waits): the patient's download queues one."""
    send(client)
    with app.app_context(), db.transaction() as tx:
        tx.execute(update(Job).values(state="failed"))
    copy = mine(app, patient.public_id)
    assert client.get(copy).status_code == 503
    with app.app_context():
        states = [job.state for job in db.session().scalars(select(Job).order_by(Job.id))]
    assert states == ["failed", "queued"]
    assert client.get(copy).status_code == 503  # asked again: still one render on its way
    with app.app_context():
        assert len(db.session().scalars(select(Job)).all()) == 2


def test_the_copy_needs_the_signed_in_session(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    send(client)
    run_jobs(app)
    stranger = app.test_client()  # the link opened, but no date of birth
    assert stranger.get(f"/start?t={patient.token}").status_code == 303
    copy = mine(app, patient.public_id)
    for path in (copy, mine(app, patient.public_id, STATUS)):
        refused = stranger.get(path)
        assert refused.status_code == 401 and b"%PDF" not in refused.get_data()
    # After "Sign out" on a shared device, the next person gets nothing either.
    client.post("/sign-out")
    assert client.get(copy).status_code == 401
    assert client.get(mine(app, patient.public_id, STATUS)).get_json() == {"state": "signed_out"}
    # Back with the link and the date of birth: the done page, with the copy.
    sign_in(client, patient)
    assert HASH.search(client.get("/done").get_data(as_text=True))
    assert client.get(copy).get_data().startswith(b"%PDF")
    assert [e[3] for e in copy_events(app, patient.public_id)] == ["ok"]


def test_after_the_link_ends_the_copy_is_gone(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    send(client)
    run_jobs(app)
    with app.app_context(), db.transaction() as tx:
        tx.execute(update(Intake).values(token_expires_at=utcnow() - timedelta(minutes=1)))
    page = client.get("/done").get_data(as_text=True)
    assert "Your answers have been sent" in page  # still true, and still said
    assert "can no longer be downloaded here" in page
    assert COPY not in page and not HASH.search(page)
    assert client.get(mine(app, patient.public_id, STATUS)).get_json() == {"state": "gone"}
    refused = client.get(mine(app, patient.public_id))
    assert refused.status_code == 303 and refused.location.endswith("/done")
    # Coming back with the link after its end: the done page says the same.
    sign_in(client, patient)
    assert "can no longer be downloaded here" in client.get("/done").get_data(as_text=True)
    assert [e[3] for e in copy_events(app, patient.public_id)] == ["gone"]


def test_the_done_page_keeps_saying_what_happens_next(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    send(client)
    run_jobs(app)
    text = squash(visible_text(client.get("/done").get_data(as_text=True)))
    for words in (
        "Thank you. Your answers have been sent",
        "Your clinician will read them before your visit.",
        "This form is not watched. If you need urgent help",
        "It is the same document your clinician gets.",
        "You can download it here until",
        "sign out first",
    ):
        assert words in text, words
    assert "e-mail" not in text and "email" not in text


def test_downloading_the_copy_logs_nothing_of_the_patient(
    app: Flask, client: FlaskClient, patient: Invited, caplog: pytest.LogCaptureFixture
) -> None:
    send(client)
    copy = mine(app, patient.public_id)
    with caplog.at_level(logging.DEBUG):
        assert client.get(copy).status_code == 503
        run_jobs(app)
        assert HASH.search(client.get("/done").get_data(as_text=True))
        assert client.get(copy).get_data().startswith(b"%PDF")
    for secret in ("Jane", "Doe", "1980", patient.token):
        assert secret not in caplog.text


@pytest.mark.usefixtures("shared_pdf")
def test_each_patient_gets_only_their_own_copy(app: Flask, invite: Callable[..., Invited]) -> None:
    """No id in the address: the copy is always the signed-in session's own intake's."""
    copies = {}
    for name in ("Jane Doe", "Olga Other"):
        invited = invite(name=name)
        browser = app.test_client()
        sign_in(browser, invited)
        send(browser)
        run_jobs(app)
        copies[invited.public_id] = browser.get(mine(app, invited.public_id)).get_data()
    for public_id, data in copies.items():
        stored = load_intake(app, public_id).submission
        assert stored is not None and data == stored.pdf
        assert data.endswith(f"%stand-in PDF of intake {public_id}\n".encode())
    assert len(set(copies.values())) == 2


@pytest.mark.usefixtures("shared_pdf")
def test_a_done_page_left_open_for_an_earlier_patient_gets_nothing_of_the_next(
    app: Flask, client: FlaskClient, invite: Callable[..., Invited]
) -> None:
    """Jane sends and leaves her done page open; Olga signs in on the same browser and sends.
    The link and the poll in Jane's page must not hand over Olga's PDF."""
    jane, olga = invite(name="Jane Doe"), invite(name="Olga Other")
    sign_in(client, jane)
    send(client)
    janes_copy, janes_status = mine(app, jane.public_id), mine(app, jane.public_id, STATUS)
    sign_in(client, olga)
    send(client)
    run_jobs(app)
    stale = client.get(janes_copy)
    assert stale.status_code == 303 and stale.location.endswith("/done")
    assert b"%PDF" not in stale.get_data()
    assert client.get(janes_status).status_code == 409
    assert copy_events(app, olga.public_id) == []  # nothing was downloaded
    assert client.get(mine(app, olga.public_id)).get_data().startswith(b"%PDF")
