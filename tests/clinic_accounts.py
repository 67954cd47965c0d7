"""Clinician accounts for tests: create one, sign it in, read its sessions and the audit trail."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake import db
from intake.auth import accounts
from intake.models import AuditEvent, UserSession

GOOD = "plum tractor violin 42"
EMAIL = "dr.ada@example.org"
COOKIE = "intake_clinic"


def make_user(
    app: Flask, email: str = EMAIL, password: str | None = GOOD, role: str = "clinician"
) -> int:
    with app.app_context(), db.transaction() as tx:
        settings = accounts.Settings.from_config(app.config)
        return accounts.create_user(tx, email, role, password, settings).id


def login(
    client: FlaskClient, email: str = EMAIL, password: str = GOOD, address: str = "192.0.2.1"
) -> TestResponse:
    return client.post(
        "/clinic/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def token_of(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE, path="/clinic")
    return cookie.value if cookie else None


def sessions(app: Flask) -> list[UserSession]:
    with app.app_context():
        return list(db.session().scalars(select(UserSession).order_by(UserSession.created_at)))


def shift_sessions(app: Flask, **times: timedelta) -> None:
    """Move every session's clock fields back in time, as if that much time had passed."""
    with app.app_context(), db.transaction() as tx:
        for row in tx.scalars(select(UserSession)):
            for name, delta in times.items():
                setattr(row, name, getattr(row, name) - delta)


def audit_rows(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session().execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def assert_to_login(response: TestResponse) -> None:
    assert response.status_code in (302, 303), response.status_code
    assert response.location.startswith("/clinic/login"), response.location
