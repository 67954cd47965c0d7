"""The patient's copy in a real browser (issue 15, item 7): send, wait on the done page while the
background worker makes the PDF, see it offered without a reload, download it, and find the very
bytes the clinician gets, with the SHA-256 the page prints.

Runs the real app (CSRF on, real CSP) and its worker on a loopback port in Debian's Chromium. The
worker's render is held back until the test has seen the page wait, then let go.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest

from intake import db
from intake.intakes import submissions
from intake.intakes.invitations import create_invitation
from tests.accessibility import check_now
from tests.chromium import DOB, TIMEOUT_MS, fill_with_demo_answers, open_link, shot, watch
from tests.conftest import stored_submission

pytestmark = pytest.mark.browser


@pytest.fixture
def held_render(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The worker's renders wait until the test sets the event (at most a minute)."""
    let_go = threading.Event()
    render = submissions.render_pdf_bytes

    def held(work: submissions.PdfWork) -> bytes:
        let_go.wait(60)
        return render(work)

    monkeypatch.setattr(submissions, "render_pdf_bytes", held)
    return let_go


def test_the_patient_sends_waits_and_downloads_their_copy(
    live_app: tuple[Any, str], browser: Any, held_render: threading.Event
) -> None:
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        new = create_invitation(tx, "Ada Example", DOB)
        token, public_id = new.token, new.intake.public_id
    fill_with_demo_answers(app, public_id)
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    try:
        page = context.new_page()
        watch(page, "patient", problems)
        open_link(page, base, token)
        page.goto(f"{base}/review")
        with page.expect_navigation():
            page.click("form[action='/submit'] button[type=submit]")
        assert page.url == f"{base}/done"

        # The worker has not stored the PDF: the page says so and keeps the link for no scripts.
        copy = page.locator("#copy-now")
        assert "is being made" in copy.inner_text()
        assert page.locator("code.hash").count() == 0
        check_now(page, browser.findings)
        shot(page, "done-making", (390, 1280))
        page.evaluate("window.__sameDocument = true")

        # Let the render go: the page offers the copy in place, without a reload.
        held_render.set()
        download_link = page.locator("#copy-now a.button")
        download_link.wait_for(state="visible", timeout=180_000)  # a busy machine's render
        assert page.evaluate("window.__sameDocument") is True
        assert "saved on this phone or computer" in copy.inner_text()
        assert "Your answers have been sent" in page.inner_text("main")
        printed = page.locator("code.hash").inner_text()
        check_now(page, browser.findings)
        shot(page, "done-ready", (390, 1280))

        with page.expect_download() as started:
            download_link.click()
        download = started.value
        data = Path(download.path()).read_bytes()
        stored = stored_submission(app, public_id)
        assert stored.pdf is not None
        assert data == stored.pdf
        assert hashlib.sha256(data).hexdigest() == stored.pdf_sha256 == printed
        day = stored.submitted_at.date().isoformat()
        assert download.suggested_filename == f"pre-visit-answers_{day}.pdf"
        assert page.url == f"{base}/done"  # a download: the page stays
    finally:
        context.close()
    assert problems == []
