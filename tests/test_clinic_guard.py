"""The clinic's one guard: registered once, explicitly, and its checks in a fixed order.

Session, two-factor enrolment and the admin role used to be three ``before_request`` hooks in
three modules, whose order followed the order of imports; these tests pin the order itself.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.clinician import access
from tests.clinic_accounts import assert_to_login, login, make_user

ADMIN = "admin@example.org"


def test_the_clinic_has_one_guard_and_no_other_hook(app: Flask) -> None:
    assert app.before_request_funcs["clinician"] == [access.guard]
    assert "clinician.admin" not in app.before_request_funcs


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_enrolment_comes_before_the_admin_role(app: Flask, client: FlaskClient, role: str) -> None:
    app.config["REQUIRE_TOTP"] = True
    make_user(app, ADMIN, role=role)
    assert login(client, ADMIN).status_code == 303
    response = client.get("/clinic/admin/users")
    assert response.status_code == 303 and response.location == "/clinic/account/two-factor"
    assert client.get("/clinic/account/two-factor").status_code == 200


def test_the_session_comes_first_and_then_the_role(app: Flask, client: FlaskClient) -> None:
    assert_to_login(client.get("/clinic/admin/users"))
    make_user(app, "doc@example.org")
    assert login(client, "doc@example.org").status_code == 303
    denied = client.get("/clinic/admin/users")
    assert denied.status_code == 403
    assert client.get("/clinic/").status_code == 200
