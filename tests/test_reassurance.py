"""Reassurance (issue 15, item 6) and the urgent-help notice: the locked, expired and saved
pages say that saved answers are kept and until when the link works, in calm words; the notice
that the form is not watched is on the welcome page, the trauma step and the done page, in the
clinic's own words when it has them, and never in the PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from intake import db
from intake.intakes.invitations import find_by_public_id
from tests.conftest import Invited, load_intake, post_step, run_jobs
from tests.extracted_text import pdf_text, squash, visible_text

NOTICE = (
    "This form is not watched. If you need urgent help, call your local emergency number or "
    "your clinic."
)
WRONG = {"dob-day": 1, "dob-month": 1, "dob-year": 1990}


def test_the_locked_page_is_calm_and_says_the_answers_are_kept(client: FlaskClient, invite) -> None:  # type: ignore[no-untyped-def]
    invited = invite()
    client.get(f"/start?t={invited.token}")
    for _ in range(5):
        response = client.post("/verify", data=WRONG)
    assert response.status_code == 423
    page = response.get_data(as_text=True)
    assert "For your safety" not in page
    assert "This link is locked for now" in page
    assert "The answers you saved are kept" in page and "continue where you stopped" in page


def test_the_expired_page_says_until_when_the_link_worked(
    app: Flask, client: FlaskClient, invite
) -> None:  # type: ignore[no-untyped-def]
    invited = invite()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, invited.public_id)
        assert intake is not None
        intake.token_expires_at = datetime(2026, 5, 12, 14, 3, tzinfo=UTC)
    page = client.get(f"/start?t={invited.token}").get_data(as_text=True)
    assert "This link has expired" in page
    assert "It worked until May 12, 2026 at 2:03" in page
    assert "The answers you saved are kept" in page


def test_the_saved_page_says_until_when_the_link_works(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    until = load_intake(app, patient.public_id).token_expires_at
    saved = post_step(client, "general", {"general.course": "worse"}, action="save")
    page = client.get(saved.location).get_data(as_text=True)
    day = f"{until:%B} {until.day}, {until.year}"
    assert f"Your link works until {day} at" in page
    assert "Everything you saved is kept until then" in page
    # The note in its address is signed: an edited one says nothing about any link.
    forged = saved.location[:-3] + "abc"
    assert "Your link works until" not in client.get(forged).get_data(as_text=True)


def test_the_urgent_help_notice_is_on_welcome_trauma_and_done(
    app: Flask, client: FlaskClient, patient: Invited, shared_pdf: None
) -> None:
    assert NOTICE in client.get("/welcome").get_data(as_text=True)
    assert NOTICE in client.get("/step/trauma").get_data(as_text=True)
    for section in ("general", "sleep", "closing"):
        assert NOTICE not in client.get(f"/step/{section}").get_data(as_text=True), section
    assert NOTICE not in client.get("/review").get_data(as_text=True)
    client.post("/submit")
    assert NOTICE in client.get("/done").get_data(as_text=True)


def test_the_clinic_words_its_own_notice_escaped(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    app.config["URGENT_HELP_NOTICE"] = (
        "Out of hours: call 0123 <b>456</b> & ask for the on-call team."
    )
    page = client.get("/welcome").get_data(as_text=True)
    assert "Out of hours: call 0123 &lt;b&gt;456&lt;/b&gt; &amp; ask for the on-call team." in page
    assert NOTICE not in page and "<b>456</b>" not in page


@pytest.mark.parametrize("variable", ["URGENT_HELP_NOTICE", "PATIENT_IDLE_MINUTES"])
def test_the_settings_are_in_the_readme(variable: str) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`{variable}`" in readme


def test_the_notice_is_never_in_the_pdf(
    app: Flask, client: FlaskClient, patient: Invited, tmp_path: Path
) -> None:
    app.config["URGENT_HELP_NOTICE"] = "Clinic notice 4711: this form is not read at once."
    client.get("/welcome")
    post_step(client, "trauma", {"trauma.consent": "yes"})
    assert client.post("/submit").status_code == 303
    assert run_jobs(app) >= 1  # the worker's render
    submission = load_intake(app, patient.public_id).submission
    assert submission is not None and submission.pdf is not None
    text = squash(pdf_text(submission.pdf, tmp_path))
    assert "not watched" not in text and "4711" not in text and "urgent help" not in text
    assert "Trauma" in text  # the section the notice is shown on is in the PDF, the notice not


def test_the_welcome_page_counts_the_parts_from_the_catalog_and_promises_no_time(
    client: FlaskClient, patient: Invited
) -> None:
    """It promised "16 short parts" and "10 to 25 minutes": neither held (issue 15, item 3's
    figures). The number of parts is the catalog's, as the steps count them; no clock is set."""
    parts = len(get_catalog().sections)
    text = squash(visible_text(client.get("/welcome").get_data(as_text=True)))
    assert f"There are {parts} parts, and then a page where you can check your answers" in text
    assert f"Step 1 of {parts}" in client.get("/step/general").get_data(as_text=True)
    assert "short parts" not in text and "It takes about" not in text
    assert "Take your time." in text
