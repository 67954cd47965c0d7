"""Fixtures: an app on a fresh database per test (SQLite file, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from intake import create_app, db
from intake.db import Base
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.intakes.invitations import create_invitation, find_by_public_id
from intake.intakes.submissions import store_pdf, submit_intake
from intake.models import Intake
from tests.loopback_fhir import fhir, fhir_server  # noqa: F401  (fixtures: the loopback FHIR server)


def _database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": _database_url(tmp_path),
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "ARGON2_PROFILE": "CHEAPEST",  # real parameters take 0.1 s a hash
        }
    )
    with app.app_context():
        engine = db.engine()
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
    yield app
    with app.app_context():
        db.session().close()
        Base.metadata.drop_all(db.engine())
        db.engine().dispose()


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


@pytest.fixture
def submitted(app: Flask, invite: Callable[..., Invited]) -> Callable[..., str]:
    """Factory: an intake with the demo answers (all optional detail opened), submitted, with its
    PDF stored, as the patient's "Send" would leave it. Returns the public id."""

    def make(answers: dict[str, Any] | None = None, **invite_args: Any) -> str:
        invited = invite(**invite_args)
        with app.app_context():
            catalog = get_catalog()
            with db.transaction() as tx:
                intake = find_by_public_id(tx, invited.public_id)
                assert intake is not None
                intake.answers = answers if answers is not None else demo_answers(catalog)
                intake.detail_sections = demo_detail_sections(catalog)
                submission = submit_intake(tx, intake)
            with db.transaction():
                assert store_pdf(submission)
        return invited.public_id

    return make


def load_intake(app: Flask, public_id: str) -> Intake:
    with app.app_context():
        intake = find_by_public_id(db.session(), public_id)
        assert intake is not None
        _ = intake.submission  # load while the session is open
        return intake


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
