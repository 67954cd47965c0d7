"""A shared phone or computer gives nothing away (issue 15, item 1): "Save and finish later" and
"Sign out" end the patient's session on the server, the cookie ends with the browser, and an
idle session ends after PATIENT_IDLE_MINUTES, with a warning and "Stay signed in" before."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from intake import db
from intake.clock import as_utc, utcnow
from intake.config import ConfigError, load_config
from intake.intakes.invitations import find_by_public_id
from intake.models import PatientSession
from tests.conftest import Invited, idle_for, load_intake, post_step, sign_in


def sessions(app: Flask, invited: Invited) -> list[PatientSession]:
    with app.app_context():
        intake = find_by_public_id(db.session(), invited.public_id)
        assert intake is not None
        query = select(PatientSession).where(PatientSession.intake_id == intake.id)
        return list(db.session().scalars(query.order_by(PatientSession.created_at)))


def cookie_cleared(response: TestResponse) -> bool:
    """The response deletes the patient's cookie (an empty value that expired long ago)."""
    for header in response.headers.getlist("Set-Cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if "intake_session" in jar:
            morsel = jar["intake_session"]
            return morsel.value == "" and "1970" in morsel["expires"]
    return False


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("intake_session")
    assert cookie is not None
    return cookie.value


def test_save_and_finish_later_ends_the_session_on_the_server_and_clears_the_cookie(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    stolen = session_cookie(client)  # what a copy of the cookie taken now would hold
    saved = post_step(client, "general", {"general.course": "worse"}, action="save")
    assert saved.status_code == 303 and saved.location.startswith("/saved?s=")
    assert cookie_cleared(saved)
    assert load_intake(app, patient.public_id).answers == {"general.course": "worse"}
    [row] = sessions(app, patient)
    assert row.ended_at is not None

    page = client.get(saved.location).get_data(as_text=True)
    assert "Your answers are saved" in page and "You are signed out" in page
    assert "Your link works until" in page
    for path in ("/review", "/welcome", "/step/general", "/done"):
        assert client.get(path).status_code == 401, path
    # The old cookie sent again (a copy, or a tab that never saw the new one): ended for good.
    replay = app.test_client()
    replay.set_cookie("intake_session", stolen)
    assert replay.get("/review").status_code == 401
    # Returning takes the link and the date of birth, and resumes on the same step.
    sign_in(client, patient)
    assert client.get("/welcome").status_code == 200


def test_every_signed_in_patient_page_has_sign_out_and_it_ends_the_session(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    for path in ("/welcome", "/step/sleep", "/review"):
        page = client.get(path).get_data(as_text=True)
        assert '<form method="post" action="/sign-out" class="sign-out">' in page, path
        assert ">Sign out</button>" in page, path
    stolen = session_cookie(client)
    out = client.post("/sign-out")
    assert out.status_code == 303 and cookie_cleared(out)
    assert "You are signed out" in client.get(out.location).get_data(as_text=True)
    replay = app.test_client()
    replay.set_cookie("intake_session", stolen)
    assert replay.get("/review").status_code == 401
    # Not offered where nobody is signed in, nor on clinic pages.
    for path in ("/review", "/clinic/login"):
        assert 'action="/sign-out"' not in app.test_client().get(path).get_data(as_text=True)


def test_sign_out_on_a_step_saves_the_page_even_with_a_mistake_on_it(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The header's "Sign out" on a step is a button of the step's form: what is typed is saved
    first, and a mistake does not keep a patient who is leaving a shared computer signed in."""
    fields = {"general.course": "worse", "general.onset_year-year": "19"}
    out = post_step(client, "general", fields, action="signout")
    assert out.status_code == 303 and cookie_cleared(out)
    assert load_intake(app, patient.public_id).answers == {"general.course": "worse"}
    page = client.get(out.location).get_data(as_text=True)
    assert "had a mistake, so it was left as it was before" in page
    assert "<li>About what year did these health problems start?</li>" in page
    assert client.get("/review").status_code == 401


def test_the_cookie_ends_with_the_browser_and_a_new_sign_in_ends_the_old_session(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    first = sessions(app, patient)
    sign_in(client, patient)  # the link opened again in this browser
    rows = sessions(app, patient)
    assert len(rows) == 2 and rows[0].ended_at is not None and rows[1].ended_at is None
    assert first[0].id == rows[0].id
    assert client.get("/welcome").status_code == 200


def test_an_idle_session_ends_after_30_minutes_and_says_so(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    idle_for(app, patient, 29)
    assert client.get("/review").status_code == 200  # and this request restarts the clock
    idle_for(app, patient, 31)
    response = client.get("/review")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "you are signed out after 30 minutes without saving" in page
    assert "Jane" not in page
    # Configurable, and the README says so.
    sign_in(client, patient)
    app.config["PATIENT_IDLE_MINUTES"] = 10
    idle_for(app, patient, 11)
    assert client.get("/review").status_code == 401
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "`PATIENT_IDLE_MINUTES`" in readme


def test_the_retired_session_setting_refuses_to_start_and_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATIENT_SESSION_SECONDS was silently ignored once PATIENT_IDLE_MINUTES and
    PATIENT_SESSION_HOURS replaced it: an install that set it to one hour got four."""
    monkeypatch.setenv("INTAKE_ENV", "testing")
    assert load_config(tmp_path)["PATIENT_IDLE_MINUTES"] == 30
    monkeypatch.setenv("PATIENT_SESSION_SECONDS", "3600")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path)
    message = str(refused.value)
    assert message.startswith("PATIENT_SESSION_SECONDS is no longer read")
    assert "PATIENT_IDLE_MINUTES" in message and "PATIENT_SESSION_HOURS" in message
    assert "remove PATIENT_SESSION_SECONDS" in message
    monkeypatch.delenv("PATIENT_SESSION_SECONDS")
    with pytest.raises(ConfigError, match="PATIENT_SESSION_SECONDS is no longer read"):
        load_config(tmp_path, {"PATIENT_SESSION_SECONDS": 3600})
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    row = next(
        line for line in readme.splitlines() if line.startswith("| `PATIENT_SESSION_SECONDS`")
    )
    assert "retired" in row and "refuses to start" in row and "`PATIENT_IDLE_MINUTES`" in row


def test_a_session_ends_in_any_case_hours_after_the_date_of_birth(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    with app.app_context(), db.transaction() as tx:
        tx.execute(
            update(PatientSession).values(created_at=utcnow() - timedelta(hours=4, minutes=1))
        )
    assert client.get("/review").status_code == 401


def test_pages_say_how_long_is_left_and_stay_signed_in_restarts_the_clock(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    page = client.get("/step/general").get_data(as_text=True)
    left = int(re.search(r'data-idle-seconds="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert 30 * 60 - 5 <= left <= 30 * 60
    assert 'data-idle-warn="300"' in page and 'data-idle-scope="patient"' in page
    assert 'id="idle-notice"' in page and "Stay signed in" in page
    assert 'action="/session/keepalive"' in page

    idle_for(app, patient, 20)
    kept = client.post("/session/keepalive")
    assert kept.status_code == 200 and kept.get_json()["signed_in"] is True
    assert kept.get_json()["idle_seconds"] >= 30 * 60 - 5
    idle_for(app, patient, 29)
    assert client.get("/review").status_code == 200
    # Signed out: nothing to keep alive.
    client.post("/sign-out")
    refused = client.post("/session/keepalive")
    assert refused.status_code == 401 and refused.get_json() == {"signed_in": False}


def test_a_page_load_writes_the_clock_at_most_once_a_minute(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Each step's GET would otherwise take SQLite's write lock."""
    before = as_utc(sessions(app, patient)[0].last_seen_at)
    client.get("/welcome")
    assert as_utc(sessions(app, patient)[0].last_seen_at) == before
    idle_for(app, patient, 2)
    moved = as_utc(sessions(app, patient)[0].last_seen_at)
    client.get("/welcome")
    assert as_utc(sessions(app, patient)[0].last_seen_at) > moved
