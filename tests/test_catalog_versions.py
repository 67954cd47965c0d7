"""A new catalog version is released while answers from the old one are stored and half written:
each intake is read, shown, printed and exported with the questions its patient saw."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import forms.loader
from forms.loader import CATALOG_PATH, get_catalog
from intake import db
from intake.intakes.demo import demo_answers
from intake.intakes.submissions import submit_intake
from intake.models import Intake
from tests.clinic_accounts import login, make_user
from tests.conftest import Invited, load_intake, run_jobs, sign_in
from tests.extracted_text import pdf_text, squash

OLD_TEXT = "In the last month, how often have you felt stressed or under pressure?"
NEW_TEXT = "Over the past month, how often did you feel under pressure?"
#: The version in force, and the one these tests release after it.
CURRENT = get_catalog().version
NEXT = f"{CURRENT.rsplit('.', 1)[0]}.{int(CURRENT.rsplit('.', 1)[1]) + 1}"


def _clear_caches() -> None:
    forms.loader.get_catalog.cache_clear()
    forms.loader._current.cache_clear()


def _reword(data: dict[str, Any]) -> None:
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == "stress.level_month":
                assert item["text"] == OLD_TEXT
                item["text"] = NEW_TEXT


def _drop_last_section(data: dict[str, Any]) -> None:
    data["sections"].pop()


@pytest.fixture
def release_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Call it to release the next version (by default one question reworded), the way
    forms/archive/README.md says: the current one kept unchanged in the archive beside the
    versions released before it, the new catalog current."""

    def release(change: Callable[[dict[str, Any]], None] = _reword) -> None:
        archive = tmp_path / "archive"
        shutil.copytree(forms.loader.ARCHIVE_DIR, archive)
        shutil.copy(CATALOG_PATH, archive / f"catalog-{CURRENT}.yaml")
        data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
        data["catalog_version"] = NEXT
        change(data)
        current = tmp_path / "catalog.yaml"
        current.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(forms.loader, "CATALOG_PATH", current)
        monkeypatch.setattr(forms.loader, "ARCHIVE_DIR", archive)
        _clear_caches()

    yield release
    monkeypatch.undo()
    _clear_caches()


def _fill_in(app: Flask, public_id: str, version: str) -> None:
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == public_id)).one()
        intake.answers = demo_answers(get_catalog(version))


def test_a_form_half_filled_in_keeps_its_version_through_to_the_pdf_and_exports(
    app: Flask,
    client: FlaskClient,
    invite: Callable[..., Invited],
    release_next: Callable[..., None],
    tmp_path: Path,
) -> None:
    before = invite()
    sign_in(client, before)
    assert OLD_TEXT in client.get("/step/stress").get_data(as_text=True)
    release_next()

    # The patient comes back after the release: same questions as before.
    step = client.get("/step/stress").get_data(as_text=True)
    assert OLD_TEXT in step and NEW_TEXT not in step
    _fill_in(app, before.public_id, CURRENT)
    assert OLD_TEXT in client.get("/review").get_data(as_text=True)
    assert client.post("/submit").status_code == 303
    assert run_jobs(app) == 1
    submission = load_intake(app, before.public_id).submission
    assert submission is not None and submission.catalog_version == CURRENT
    assert submission.pdf is not None
    text = squash(pdf_text(submission.pdf, tmp_path))
    assert squash(OLD_TEXT) in text and squash(NEW_TEXT) not in text
    assert f"catalog version {CURRENT}" in text

    # The clinician reads it with the same questions; the exports point at its version.
    make_user(app)
    staff = app.test_client()
    assert login(staff).status_code == 303
    page = staff.get(f"/clinic/intakes/{before.public_id}").get_data(as_text=True)
    assert OLD_TEXT in page and NEW_TEXT not in page
    api = f"/clinic/api/v1/intakes/{before.public_id}/questionnaire-response"
    response = staff.get(api)
    assert response.status_code == 200
    assert response.get_json()["questionnaire"].endswith(f"|{CURRENT}")
    old = staff.get(f"/fhir/Questionnaire/intake-history-{CURRENT}").get_json()
    assert old["version"] == CURRENT and OLD_TEXT in str(old)
    latest = staff.get("/fhir/Questionnaire/intake-history").get_json()
    assert latest["version"] == NEXT and NEW_TEXT in str(latest)
    assert staff.get("/fhir/Questionnaire/intake-history-0.9").status_code == 404

    # A patient invited after the release gets the new version.
    after = invite(name="John Roe")
    assert load_intake(app, after.public_id).catalog_version == NEXT
    other = app.test_client()
    sign_in(other, after)
    step = other.get("/step/stress").get_data(as_text=True)
    assert NEW_TEXT in step and OLD_TEXT not in step


def test_a_patient_whose_version_the_service_lacks_is_told_plainly(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == patient.public_id)).one()
        intake.catalog_version = "0.9"  # as after rolling the service back
    for path in ("/welcome", "/step/stress", "/review"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert "cannot be opened right now" in response.get_data(as_text=True)


def test_the_worklist_counts_each_intake_s_sections_in_its_own_version(
    app: Flask, client: FlaskClient, patient: Invited, release_next: Callable[..., None]
) -> None:
    sections_before = len(get_catalog().sections)
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == patient.public_id)).one()
        intake.sections_saved = ["general"]
    release_next(_drop_last_section)
    assert len(get_catalog().sections) == sections_before - 1

    make_user(app)
    assert login(client).status_code == 303
    worklist = squash(client.get("/clinic/?from=").get_data(as_text=True))
    assert f"1 of {sections_before} sections" in worklist
    page = squash(client.get(f"/clinic/intakes/{patient.public_id}").get_data(as_text=True))
    assert f"1 of {sections_before} sections" in page


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_answers_stored_under_an_earlier_version_still_show_print_and_export(
    app: Flask, invite: Callable[..., Invited], tmp_path: Path, version: str
) -> None:
    """Intakes sent before 1.2 keep their questions everywhere, and get "Before the visit" from
    the reading keys their archived files gained: their own free-text concerns and goals."""
    catalog = get_catalog(version)
    answers = demo_answers(catalog)
    invited = invite()
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == invited.public_id)).one()
        intake.catalog_version = version
        intake.answers = answers
        intake.detail_sections = [s.id for s in catalog.sections]
        submit_intake(tx, intake)
    assert run_jobs(app) == 1
    stored = load_intake(app, invited.public_id).submission
    assert stored is not None and stored.pdf is not None
    text = squash(pdf_text(stored.pdf, tmp_path))
    first = text[: text.index("At a glance")]
    assert f"catalog version {version}" in first and "Before the visit" in first
    for item_id in ("general.main_concerns", "closing.visit_goals"):
        assert f"“{squash(answers[item_id])}”" in first, item_id

    make_user(app)
    staff = app.test_client()
    assert login(staff).status_code == 303
    page = staff.get(f"/clinic/intakes/{invited.public_id}").get_data(as_text=True)
    assert 'id="before-visit"' in page and catalog.item("closing.visit_goals").text in page
    api = f"/clinic/api/v1/intakes/{invited.public_id}/questionnaire-response"
    response = staff.get(api)
    assert response.status_code == 200
    assert response.get_json()["questionnaire"].endswith(f"|{version}")
    assert staff.get(f"/fhir/Questionnaire/intake-history-{version}").status_code == 200
