""" "Send to EHR" in a real browser (CSRF and CSP on), against the real loopback FHIR server.

A clinician signs in, opens a submitted intake, finds the three downloads, and sends the document
to the EHR while the EHR is down: the page says it did not work and offers "Send to EHR again";
the second try creates the document, exactly one, and the button goes away. Screenshots of the
page after each send (1280 and 390 px wide) go to tmp_path for a person to look at.
Skipped where Chromium or the FHIR harness is missing, a failure in CI (see tests/test_browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from intake import db
from intake.auth import accounts
from tests.chromium import EMAIL, PASSWORD, TIMEOUT_MS, sign_in_clinician, watch
from tests.loopback_fhir import LoopbackFhirServer

#: The most a test waits for the background worker to send (it usually takes a second).
WORKER_MS = 120_000

pytestmark = pytest.mark.browser
BEARER = "static-browser-token-0123456789"
RETRIES = 2
DOWNLOADS = {
    "PDF summary": "application/pdf",
    "FHIR answers (QuestionnaireResponse, JSON)": "application/fhir+json",
    "FHIR Bundle with the PDF (JSON)": "application/fhir+json",
}


@pytest.fixture
def app(live_app: tuple[Any, str]) -> Flask:
    """The live server's own app object, so conftest's ``submitted`` and every
    ``app.config.update`` here reach the app the browser talks to."""
    return live_app[0]


def shoot(page: Any, record: Any, tmp_path: Path, label: str) -> None:
    """Screenshots for a person to look at later (no assertion on pixels), 1280 and 390 px wide,
    from the top of the page down to the end of "For the patient's record" (the whole page, with
    the demo answers, is some 35,000 px tall on a phone). Prints the paths (run with -s)."""
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        box = record.bounding_box()
        assert box is not None
        bottom = box["y"] + box["height"] + 24 + page.evaluate("window.scrollY")
        path = tmp_path / f"intake-ehr-{label}-{width}px.png"
        clip = {"x": 0, "y": 0, "width": width, "height": max(height, bottom)}
        page.screenshot(path=str(path), full_page=True, clip=clip)
        assert path.stat().st_size > 0
        print(f"screenshot: {path}")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_send_to_ehr_fails_then_works_from_the_intake_page(
    live_app: tuple[Any, str],
    browser: Any,
    app: Flask,
    submitted: Callable[..., str],
    fhir: LoopbackFhirServer,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    _, base = live_app
    fhir.add_bearer(BEARER)
    app.config.update(
        FHIR_CANONICAL_BASE="https://intake.example.org/fhir",
        FHIR_MRN_SYSTEM="urn:oid:1.2.36.146.595.217.0.1",
        EHR_FHIR_BASE_URL=fhir.base_url,
        EHR_AUTH="bearer",
        EHR_BEARER_TOKEN=BEARER,
        EHR_RETRIES=RETRIES,
        EHR_BACKOFF_SECONDS=0.01,
        EHR_TIMEOUT_SECONDS=5,
    )
    fhir.create_patient(app.config["FHIR_MRN_SYSTEM"], "MRN-1", "Doe", "Jane", "1980-03-27")
    public_id = submitted()
    with app.app_context(), db.transaction() as tx:
        settings = accounts.Settings.from_config(app.config)
        accounts.create_user(tx, EMAIL, "clinician", PASSWORD, settings)

    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page, "clinic", problems)
        intake_url = f"{base}/clinic/intakes/{public_id}"

        # Sign in on the way to the intake page, and land on it.
        page.goto(intake_url)
        sign_in_clinician(page, base)
        assert page.url == intake_url, page.url
        expect(page.get_by_role("heading", level=1)).to_contain_text("Doe")
        record = page.get_by_role("region", name="For the patient's record")
        expect(record).to_be_visible()

        # The three downloads are there, and each one answers with its file.
        for name, content_type in DOWNLOADS.items():
            link = record.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
            expect(link).to_have_attribute("download", "")
            answer = context.request.get(base + str(link.get_attribute("href")))
            assert answer.status == 200, (name, answer.status)
            assert answer.headers["content-type"].startswith(content_type), name
            assert len(answer.body()) > 100, name
        assert fhir.stored("DocumentReference") == []
        expect(record.locator("#ehr-status")).to_have_count(0)  # never sent yet

        # The EHR is down for the whole first send: every try of its first request fails.
        fhir.fail_next(503, count=1 + RETRIES)
        with page.expect_navigation():
            record.get_by_role("button", name="Send to EHR", exact=True).click()
        assert page.url == f"{intake_url}?done=ehr_queued", page.url
        status = page.get_by_role("status").filter(has_text="EHR")
        # The worker sends it; the page reloads itself once it has (clinic.js). The wait only bounds
        # a broken worker: at a low CPU priority on a busy machine it can take a while.
        expect(status).to_contain_text("Sending to the EHR did not work", timeout=WORKER_MS)
        expect(status).to_contain_text("Sending again is safe")
        assert fhir.stored("DocumentReference") == []
        again = record.get_by_role("button", name="Send to EHR again", exact=True)
        expect(again).to_be_visible()
        expect(record.get_by_role("button", name="Send to EHR", exact=True)).to_have_count(0)
        shoot(page, record, tmp_path, "failed")

        # The EHR is back: the keyboard sends again, and the document is created, once.
        again.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        status = page.get_by_role("status").filter(has_text="EHR")
        expect(status).to_contain_text("the EHR created the document", timeout=WORKER_MS)
        (document,) = fhir.stored("DocumentReference")
        expect(status).to_contain_text(f"The EHR's id for it: {document['id']}")
        expect(status).not_to_contain_text("did not work")
        expect(record.get_by_role("button", name=re.compile("Send to EHR"))).to_have_count(0)
        history = page.get_by_role("region", name="History", exact=True)
        expect(history).to_contain_text("Sending to the EHR did not work")
        expect(history).to_contain_text("Sent to the EHR: document created")

        shoot(page, record, tmp_path, "created")
    finally:
        context.close()
    assert not problems, problems
    assert len(fhir.stored("DocumentReference")) == 1
