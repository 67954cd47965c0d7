"""Who may reach what, for every route the app registers: anonymous, a signed-in patient, a
clinician and an administrator, against an explicit table. A route missing from the table fails
the test, so a new page cannot go live without someone deciding who may open it. Then a patient
tries other intakes' ids everywhere an id can be given, and gets nothing of them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from tests.clinic_accounts import assert_to_login, login, make_user
from tests.conftest import Invited, load_intake, post_step, run_jobs, sign_in

ADMIN = "admin@example.org"
ROLES = ("anonymous", "patient", "clinician", "admin")

# What each role gets. A status code is exact; the names below are classes of answer.
OK = "ok"  # served by the view itself: below 500, not 401/403, not a redirect to sign in
LOGIN = "login"  # a redirect to the clinic's sign-in page
OUT = "signed out"  # 401 with the patient's "open your link again" page
DENIED = "denied"  # 403 with the clinic's forbidden page
BYE = "signed off"  # signing out worked: to the sign-in page, saying so

#: (endpoint, method) -> outcome for (anonymous, patient, clinician, admin).
EXPECTED: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {
    # Public: anyone.
    ("health.healthz", "GET"): (200, 200, 200, 200),
    ("static", "GET"): (200, 200, 200, 200),
    # The patient flow's entry: the link (no token here: the "link not found" page), then the date
    # of birth, which needs a link opened in this browser first (a signed-in patient has none).
    ("patient.start", "GET"): (404, 404, 404, 404),
    ("patient.verify", "GET"): (OUT, OUT, OUT, OUT),
    ("patient.verify", "POST"): (OUT, OUT, OUT, OUT),
    # Patient pages: the patient's session only (the clinic cookie is not sent here).
    ("patient.welcome", "GET"): (OUT, 200, OUT, OUT),
    ("patient.welcome", "POST"): (OUT, OK, OUT, OUT),
    ("patient.step", "GET"): (OUT, 200, OUT, OUT),
    # Posted without a session: 401 with the same step back, asking for the date of birth again.
    ("patient.step", "POST"): (401, OK, 401, 401),
    # After signing out: the page it leads to says so (its note is in its address); without
    # one, nobody signed out here. A signed-in patient goes back to where they were.
    ("patient.saved", "GET"): (OUT, OK, OUT, OUT),
    ("patient.sign_out", "POST"): (303, 303, 303, 303),
    ("patient.keepalive", "POST"): (401, 200, 401, 401),
    ("patient.review", "GET"): (OUT, 200, OUT, OUT),
    ("patient.submit", "POST"): (OUT, OK, OUT, OUT),
    ("patient.done", "GET"): (OUT, OK, OUT, OUT),
    # The patient's own copy, of this session's intake only (no id in the URL to try others'),
    # and the done page's poll of it (a JSON 401).
    ("patient.copy_pdf", "GET"): (OUT, OK, OUT, OUT),
    ("patient.copy_status", "GET"): (401, OK, 401, 401),
    # Clinic sign-in pages: open to all (the code step and the password link need their own
    # state, so they send back to sign in / say the link is gone).
    ("clinician.login", "GET"): (200, 200, OK, OK),
    ("clinician.login", "POST"): (422, 422, 422, 422),
    ("clinician.login_code", "GET"): (LOGIN, LOGIN, LOGIN, LOGIN),
    ("clinician.login_code", "POST"): (LOGIN, LOGIN, LOGIN, LOGIN),
    ("clinician.set_password", "GET"): (410, 410, 410, 410),
    ("clinician.set_password", "POST"): (410, 410, 410, 410),
    # Clinic pages: a clinician's session (any role).
    ("clinician.home", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.home", "POST"): (LOGIN, LOGIN, 200, 200),  # the search: its text never in a URL
    ("clinician.logout", "POST"): (LOGIN, LOGIN, BYE, BYE),
    ("clinician.keepalive", "POST"): (LOGIN, LOGIN, 200, 200),
    ("clinician.two_factor", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.two_factor", "POST"): (LOGIN, LOGIN, 422, 422),
    ("clinician.two_factor_off", "POST"): (LOGIN, LOGIN, OK, OK),
    ("clinician.new_invitation", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.new_invitation", "POST"): (LOGIN, LOGIN, 422, 422),
    ("clinician.intake", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.summary_pdf", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.intake_progress", "GET"): (LOGIN, LOGIN, 200, 200),
    ("clinician.reviewed", "POST"): (LOGIN, LOGIN, OK, OK),
    ("clinician.revoke", "POST"): (LOGIN, LOGIN, OK, OK),
    ("clinician.send_to_ehr", "POST"): (LOGIN, LOGIN, OK, OK),
    ("clinician.reissue", "POST"): (LOGIN, LOGIN, OK, OK),
    # Admin pages: the admin role only; clinicians get 403.
    ("clinician.admin.audit_log", "GET"): (LOGIN, LOGIN, DENIED, 200),
    ("clinician.admin.audit_csv", "GET"): (LOGIN, LOGIN, DENIED, 200),
    ("clinician.admin.users", "GET"): (LOGIN, LOGIN, DENIED, 200),
    # Posted empty, at account 1 (the clinician): the admin's form answers, whatever it says.
    ("clinician.admin.create_account", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.disable_account", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.enable_account", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.password_link", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.reset_two_factor", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.change_role", "POST"): (LOGIN, LOGIN, DENIED, OK),
    ("clinician.admin.api_tokens_page", "GET"): (LOGIN, LOGIN, DENIED, 200),
    ("clinician.admin.create_api_token", "POST"): (LOGIN, LOGIN, DENIED, 422),
    ("clinician.admin.revoke_api_token", "POST"): (LOGIN, LOGIN, DENIED, OK),
    # The FHIR Questionnaire is public (no patient data; receivers resolve its canonical URL).
    ("fhir.questionnaire", "GET"): (200, 200, 200, 200),
    ("fhir.code_system", "GET"): (200, 200, 200, 200),
    # Exports: a clinician's session or an API token; a JSON 401 for everyone else.
    ("api.summary_pdf", "GET"): (401, 401, 200, 200),
    ("api.questionnaire_response", "GET"): (401, 401, 200, 200),
    ("api.document_reference", "GET"): (401, 401, 200, 200),
    ("api.bundle", "GET"): (401, 401, 200, 200),
}


def registered(app: Flask) -> Iterator[tuple[str, str, Any]]:
    """Every (endpoint, method, rule) the app answers, but HEAD and OPTIONS."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule


def fill(rule: Any, public_id: str) -> str:
    """The rule's path with real values: an existing intake, the first step, a real file."""
    values = {
        "public_id": public_id,
        "section_id": get_catalog().sections[0].id,
        "filename": "app.css",
        "questionnaire": "intake-history",
        "system_id": "ynu",
    }
    path = str(rule.rule)
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[^:>]+:)?{argument}>", values.get(argument, "1"), path)
    return path


def check(outcome: Any, response: TestResponse, where: str) -> None:
    status, location = response.status_code, response.location or ""
    if outcome == LOGIN:
        assert_to_login(response)
    elif outcome == OUT:
        assert status == 401, where
        assert "Please open your link again" in response.get_data(as_text=True), where
    elif outcome == BYE:
        assert status == 303 and location == "/clinic/login?done=signed_out", where
    elif outcome == DENIED:
        assert status == 403, where
    elif outcome == OK:
        assert status < 500 and status not in (401, 403), where
        assert not location.startswith("/clinic/login"), where
    else:
        assert status == outcome, where


def test_every_route_is_in_the_table(app: Flask) -> None:
    found = {(endpoint, method) for endpoint, method, _rule in registered(app)}
    unknown = sorted(found - set(EXPECTED))
    assert not unknown, f"routes nobody decided about: add them to EXPECTED: {unknown}"
    stale = sorted(set(EXPECTED) - found)
    assert not stale, f"EXPECTED lists routes that no longer exist: {stale}"


@pytest.fixture
def target(app: Flask, invite: Callable[..., Invited]) -> Invited:
    """A submitted intake, the one the clinic URLs name."""
    invited = invite(name="Olga Target", dob=date(1961, 1, 2), mrn="MRN-T")
    client = app.test_client()
    sign_in(client, invited)
    assert client.post("/submit").status_code == 303
    run_jobs(app)
    return invited


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.usefixtures("shared_pdf")
def test_who_reaches_every_route(
    app: Flask, invite: Callable[..., Invited], target: Invited, role: str
) -> None:
    make_user(app)
    make_user(app, ADMIN, role="admin")
    column = ROLES.index(role)
    for endpoint, method, rule in registered(app):
        assert (endpoint, method) in EXPECTED, f"{method} {rule.rule} is not in EXPECTED"
        # A fresh browser each time: signing out, revoking or sending must not leak into the next.
        client = app.test_client()
        if role == "patient":
            sign_in(client, invite(name="Pat Own", mrn=None))
        elif role in ("clinician", "admin"):
            assert (
                login(client, ADMIN if role == "admin" else "dr.ada@example.org").status_code == 303
            )
        path = fill(rule, target.public_id)
        with client.open(path, method=method) as response:
            check(EXPECTED[endpoint, method][column], response, f"{role}: {method} {path}")


# --- a patient and other intakes' ids ---------------------------------------------------------

SECRET = "Olga's secret concern 4711"
OTHER_DOB = date(1961, 1, 2)


def _no_trace(response: TestResponse, *others: Invited) -> None:
    body = response.get_data(as_text=True)
    assert SECRET not in body
    assert "Olga" not in body and "Target" not in body
    for other in others:
        assert other.public_id not in body


@pytest.mark.usefixtures("shared_pdf")
def test_a_patient_gets_nothing_of_other_intakes(
    app: Flask, client: FlaskClient, invite: Callable[..., Invited]
) -> None:
    make_user(app)
    section = get_catalog().sections[0].id
    concerns = f"{section}.main_concerns"
    # Two other intakes with answers: one sent, one still a draft.
    sent = invite(name="Olga Target", dob=OTHER_DOB, mrn="MRN-S")
    draft = invite(name="Olga Target", dob=OTHER_DOB, mrn="MRN-D")
    for other in (sent, draft):
        other_client = app.test_client()
        sign_in(other_client, other)
        assert post_step(other_client, section, {concerns: SECRET}).status_code == 303
    sent_client = app.test_client()
    sign_in(sent_client, sent)
    assert sent_client.post("/submit").status_code == 303
    draft_before = load_intake(app, draft.public_id)

    own = invite(name="Pat Own", mrn=None)
    sign_in(client, own)
    others = (sent, draft)

    # Every clinic URL that takes an intake id, every method: back to sign in (the export API:
    # a JSON 401), nothing shown.
    for endpoint, method, rule in registered(app):
        if "public_id" not in rule.arguments:
            continue
        for other in others:
            path = fill(rule, other.public_id)
            with client.open(path, method=method) as response:
                if endpoint.startswith("api."):
                    assert response.status_code == 401
                    assert response.get_json()["resourceType"] == "OperationOutcome"
                else:
                    assert_to_login(response)  # the URL asked for comes back in ?next=, no more
                _no_trace(response)
    for query in (f"?intake={sent.public_id}", f"?intake={draft.public_id}"):
        for path in ("/clinic/admin/audit", "/clinic/admin/audit.csv", "/clinic/"):
            with client.get(path + query) as response:
                assert_to_login(response)

    # The step form's hidden ``_resume``, pointed at another intake: the answers go to the
    # patient's own intake, whatever the field says.
    mine = "My own concern"
    for other in others:
        response = post_step(client, section, {concerns: mine, "_resume": other.public_id})
        assert response.status_code == 303
        _no_trace(client.get(response.location))
    assert load_intake(app, own.public_id).answers[concerns] == mine
    for path in ("/welcome", f"/step/{section}", "/review", "/saved"):
        _no_trace(client.get(path), *others)

    # Signed out (a stale page), the hidden field and the patient's own date of birth do not
    # open another intake either.
    stranger = app.test_client()
    for other in others:
        response = stranger.post(
            f"/step/{section}",
            data={
                "_resume": other.public_id,
                "dob-day": own.dob.day,
                "dob-month": own.dob.month,
                "dob-year": own.dob.year,
                concerns: "overwritten",
                "action": "next",
            },
        )
        # No ticket names an intake: not saved, and no date-of-birth box to try it with.
        assert response.status_code == 401
        assert 'name="dob-day"' not in response.get_data(as_text=True)
        _no_trace(response)
        assert stranger.get("/review").status_code == 401
    draft_after = load_intake(app, draft.public_id)
    assert draft_after.answers == draft_before.answers
    assert draft_after.answers[concerns] == SECRET
    assert load_intake(app, sent.public_id).submission.answers[concerns] == SECRET
