"""Two-factor sign-in (TOTP), the idle-timeout keep-alive, and forms that survive a session ending."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake import db
from intake.auth import accounts, totp
from intake.clinician.resume import safe_next
from intake.clinician.security_views import PENDING
from intake.models import User, UserSession
from tests.clinic_accounts import (
    EMAIL,
    GOOD,
    assert_to_login,
    audit_rows,
    login,
    make_user,
    sessions,
    shift_sessions,
    token_of,
)

WRONG_CODE = "000000"


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` 30-second steps later)."""
    return pyotp.TOTP(secret).at(datetime.now(), counter_offset=steps_ahead)


def wrong_code(secret: str) -> str:
    """A code that matches none of the steps the server accepts now."""
    accepted = {code_for(secret, n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def shown_secret(page: str) -> str:
    found = re.search(r'<code class="secret" id="totp-key">([A-Z2-7 ]+)</code>', page)
    assert found, page
    return found.group(1).replace(" ", "")


def enrol(client: FlaskClient) -> str:
    """Turn two-factor sign-in on through the pages, as a person would; returns the secret."""
    page = client.get("/clinic/account/two-factor")
    assert page.status_code == 200
    secret = shown_secret(page.get_data(as_text=True))
    response = client.post("/clinic/account/two-factor", data={"code": code_for(secret)})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location.endswith("done=on")
    return secret


def user_row(app: Flask, email: str = EMAIL) -> User:
    with app.app_context():
        user = accounts.find_user(db.session(), email)
        assert user is not None
        return user


def enrolled_user(app: Flask, client: FlaskClient) -> str:
    """A clinician with two-factor sign-in on, signed out again; returns the secret."""
    make_user(app)
    login(client)
    secret = enrol(client)
    client.post("/clinic/logout")
    return secret


def forget_used_codes(app: Flask) -> None:
    """Let codes of the current steps work again, as if time had moved on since the last one."""
    with app.app_context(), db.transaction() as tx:
        for user in tx.scalars(select(User)):
            user.totp_last_step = None


def send_code(client: FlaskClient, code: str, address: str = "192.0.2.1") -> TestResponse:
    return client.post(
        "/clinic/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": address}
    )


# --- enrolment ---------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_and_needs_a_current_code(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app)
    login(client)
    page = client.get("/clinic/account/two-factor").get_data(as_text=True)
    assert '<svg width="' in page and 'class="qr-code"' in page  # drawn on the server, inline
    assert "<script" not in page.split("</main>")[0]
    secret = shown_secret(page)
    assert len(secret) == 32  # 160 bits
    uri = pyotp.parse_uri(totp.provisioning_uri(secret, EMAIL, "your clinic"))
    assert uri.secret == secret
    # Reloading shows the same key: a code scanned already still works.
    assert shown_secret(client.get("/clinic/account/two-factor").get_data(as_text=True)) == secret
    stored = user_row(app).totp_secret
    assert stored is not None and secret not in stored  # encrypted at rest
    assert totp.unseal(stored, "test-secret") == secret
    assert totp.unseal(stored, "another key") is None

    refused = client.post("/clinic/account/two-factor", data={"code": wrong_code(secret)})
    assert refused.status_code == 422
    assert "This code is wrong" in refused.get_data(as_text=True)
    assert client.post("/clinic/account/two-factor", data={"code": "12ab"}).status_code == 422
    assert user_row(app).totp_enabled_at is None

    response = client.post("/clinic/account/two-factor", data={"code": code_for(secret)})
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Two-factor sign-in is on" in page
    assert "<svg" not in page and secret not in page.replace(" ", "")  # no longer shown
    assert user_row(app).totp_enabled_at is not None
    assert ("user:1", "user.totp_enable", "ok") in audit_rows(app)


def test_turning_it_on_signs_out_the_other_browsers(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    other = app.test_client()
    login(other)
    login(client)
    enrol(client)
    assert client.get("/clinic/").status_code == 200
    assert_to_login(other.get("/clinic/"))


# --- signing in with a code --------------------------------------------------------------------


def test_sign_in_asks_for_the_code_and_starts_the_session_only_then(
    app: Flask, client: FlaskClient
) -> None:
    secret = enrolled_user(app, client)
    before = len(sessions(app))
    response = login(client)
    assert response.status_code == 303
    assert response.location == "/clinic/login/code"
    assert token_of(client) is None
    assert len(sessions(app)) == before  # no session yet
    assert_to_login(client.get("/clinic/"))
    page = client.get("/clinic/login/code")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.get_data(as_text=True)

    response = send_code(client, code_for(secret, 1))  # the enrolment used the current step
    assert response.status_code == 303
    assert response.location == "/clinic/"
    assert token_of(client) is not None
    assert client.get("/clinic/").status_code == 200
    # The note saying the password was right is spent.
    with client.session_transaction() as flask_session:
        assert PENDING not in flask_session
    assert [row for row in audit_rows(app) if row[1].startswith("auth.")][-2:] == [
        ("user:1", "auth.login", "needs_code"),
        ("user:1", "auth.totp", "ok"),
    ]


def test_a_code_works_only_once(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    code = code_for(secret, 1)
    login(client)
    assert send_code(client, code).status_code == 303
    client.post("/clinic/logout")
    login(client)
    replay = send_code(client, code)
    assert replay.status_code == 401
    assert "already used" in replay.get_data(as_text=True)
    assert token_of(client) is None
    # An older code than the one used is refused the same way.
    assert send_code(client, code_for(secret, 0)).status_code == 401
    assert [a[2] for a in audit_rows(app) if a[1] == "auth.totp"] == ["ok", "replayed", "replayed"]


def test_wrong_codes_count_in_the_sign_in_limits(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    wrong = wrong_code(secret)
    login(client)
    for n in range(3):
        response = send_code(client, wrong, address=f"192.0.2.{10 + n}")
        assert response.status_code == 401
        assert "This code is wrong" in response.get_data(as_text=True)
    # The right password again does not reset the count: only a right code would.
    assert login(client).location == "/clinic/login/code"
    assert send_code(client, wrong, address="192.0.2.20").status_code == 401
    locked = send_code(client, wrong, address="192.0.2.21")
    assert locked.status_code == 429
    assert "wait 1 minute" in locked.get_data(as_text=True)
    # While locked, even the right code is not checked, nor is the password.
    assert send_code(client, code_for(secret, 1), address="192.0.2.22").status_code == 429
    assert login(client, address="192.0.2.23").status_code == 429
    outcomes = [a[2] for a in audit_rows(app) if a[1] in ("auth.totp", "auth.login")]
    assert outcomes[-9:] == [
        *("needs_code", "failed", "failed", "failed"),
        *("needs_code", "failed", "failed"),  # the second of these started the lock
        *("locked", "locked"),
    ]


def test_the_code_page_expires(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    login(client)
    with client.session_transaction() as flask_session:
        flask_session[PENDING] = {"user": 1, "at": int(time.time()) - 301}
    response = send_code(client, code_for(secret, 1))
    assert response.status_code == 303
    assert "done=code_expired" in response.location
    assert "open too long" in client.get(response.location).get_data(as_text=True)
    assert token_of(client) is None


def test_a_disabled_account_cannot_finish_with_a_code(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    login(client)
    app.test_cli_runner().invoke(args=["intake", "disable-user", EMAIL])
    assert_to_login(send_code(client, code_for(secret, 1)))
    assert token_of(client) is None


# --- turning it off ----------------------------------------------------------------------------


def test_turning_it_off_needs_the_password_and_a_code(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    login(client)
    send_code(client, code_for(secret, 1))
    off = "/clinic/account/two-factor/off"
    response = client.post(off, data={"password": "not it at all", "code": code_for(secret)})
    assert response.status_code == 401
    assert "The password or the code is wrong." in response.get_data(as_text=True)
    response = client.post(off, data={"password": GOOD, "code": wrong_code(secret)})
    assert response.status_code == 401
    assert user_row(app).totp_enabled_at is not None
    response = client.post(off, data={"password": GOOD, "code": code_for(secret, -1)})
    assert response.status_code == 401  # older than the code used to sign in
    response = client.post(off, data={"password": GOOD, "code": code_for(secret, 2)})
    assert response.status_code == 401  # outside the accepted window
    forget_used_codes(app)  # as if 30 seconds had passed since signing in
    response = client.post(off, data={"password": GOOD, "code": code_for(secret)})
    assert response.status_code == 303
    assert response.location.endswith("done=off")
    row = user_row(app)
    assert (row.totp_secret, row.totp_enabled_at, row.totp_last_step) == (None, None, None)
    client.post("/clinic/logout")
    assert login(client).location == "/clinic/"  # the password alone again
    outcomes = [a[2] for a in audit_rows(app) if a[1] == "user.totp_disable"]
    assert outcomes == ["failed", "failed", "replayed", "failed", "ok"]


def test_the_cli_turns_it_off_for_a_lost_phone(app: Flask, client: FlaskClient) -> None:
    enrolled_user(app, client)
    result = app.test_cli_runner().invoke(args=["intake", "reset-totp", EMAIL])
    assert result.exit_code == 0, result.output
    assert user_row(app).totp_enabled_at is None
    assert login(client).location == "/clinic/"
    assert ("cli", "user.totp_reset", "ok") in audit_rows(app)


# --- REQUIRE_TOTP ------------------------------------------------------------------------------


def test_require_totp_makes_every_account_enrol_before_anything_else(
    app: Flask, client: FlaskClient
) -> None:
    app.config["REQUIRE_TOTP"] = True
    make_user(app, role="admin")
    login(client)
    for path in ("/clinic/", "/clinic/admin/audit", "/clinic/admin/audit.csv"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.location == "/clinic/account/two-factor"
    page = client.get("/clinic/account/two-factor").get_data(as_text=True)
    assert "Your clinic requires two-factor sign-in" in page
    assert client.post("/clinic/session/keepalive").status_code == 200
    secret = enrol(client)
    assert client.get("/clinic/").status_code == 200
    # It cannot be turned off while the clinic requires it.
    response = client.post(
        "/clinic/account/two-factor/off", data={"password": GOOD, "code": code_for(secret, 1)}
    )
    assert response.status_code == 303
    assert user_row(app).totp_enabled_at is not None
    assert "cannot be turned off" in client.get("/clinic/account/two-factor").get_data(as_text=True)


def test_require_totp_reads_the_environment(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    from pathlib import Path

    from intake.config import ConfigError, load_config

    assert app.config["REQUIRE_TOTP"] is False
    monkeypatch.setenv("REQUIRE_TOTP", "true")
    assert (
        load_config(Path(app.instance_path), {"SECRET_KEY": "k-0123456789abcdef-0123456789abcdef"})[
            "REQUIRE_TOTP"
        ]
        is True
    )
    monkeypatch.setenv("REQUIRE_TOTP", "maybe")
    with pytest.raises(ConfigError, match="REQUIRE_TOTP"):
        load_config(Path(app.instance_path), {"SECRET_KEY": "k-0123456789abcdef-0123456789abcdef"})


# --- the idle timeout --------------------------------------------------------------------------


def idle_seconds(page: str) -> int:
    found = re.search(r'<body data-idle-seconds="(\d+)"', page)
    assert found, page[:500]
    return int(found.group(1))


def test_pages_tell_the_script_how_long_the_session_has(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    assert "data-idle-seconds" not in client.get("/clinic/login").get_data(as_text=True)
    login(client)
    page = client.get("/clinic/").get_data(as_text=True)
    assert 890 <= idle_seconds(page) <= 900  # 15 minutes
    assert 'id="idle-notice"' in page and "Stay signed in" in page
    # Near the absolute end of the session, what is left of it.
    shift_sessions(app, created_at=timedelta(hours=11, minutes=55))
    assert 290 <= idle_seconds(client.get("/clinic/").get_data(as_text=True)) <= 300


def test_keepalive_extends_the_session(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, last_seen_at=timedelta(minutes=14))
    response = client.post("/clinic/session/keepalive", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["signed_in"] is True and 890 <= body["idle_seconds"] <= 900
    shift_sessions(app, last_seen_at=timedelta(minutes=14))  # 28 minutes since the page loaded
    assert client.get("/clinic/").status_code == 200


def test_keepalive_needs_a_session(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    response = client.post("/clinic/session/keepalive", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json() == {"signed_in": False}
    assert_to_login(app.test_client().post("/clinic/session/keepalive"))  # not a script: redirect


def test_keepalive_needs_the_csrf_token(app: Flask) -> None:
    make_user(app)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/clinic/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    client.post(
        "/clinic/login", data={"email": EMAIL, "password": GOOD, "csrf_token": csrf.group(1)}
    )
    home = client.get("/clinic/").get_data(as_text=True)
    notice = home.split('id="idle-notice"')[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', notice)
    assert token
    json = {"Accept": "application/json"}
    response = client.post("/clinic/session/keepalive", headers=json)
    assert response.status_code == 400
    assert response.get_json() == {"error": "csrf"}
    response = client.post(
        "/clinic/session/keepalive", data={"csrf_token": token.group(1)}, headers=json
    )
    assert response.status_code == 200
    assert response.get_json()["signed_in"] is True


# --- nothing typed is lost ---------------------------------------------------------------------


def hidden_inputs(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)


def test_a_form_sent_after_the_session_ended_keeps_its_fields(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    typed = {"code": "123 456", "note": 'a <b>"quoted"</b> & kept', "password": "secret words"}
    response = client.post("/clinic/account/two-factor", data=typed)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "What you typed is kept" in page
    assert "<b>" not in page  # escaped like every other value
    carried = hidden_inputs(page)
    assert ("next", "/clinic/account/two-factor") in carried
    assert ("carry.note", "a &lt;b&gt;&#34;quoted&#34;&lt;/b&gt; &amp; kept") in carried
    assert ("carry.code", "123 456") in carried
    assert not [name for name, _ in carried if "password" in name]  # never written into a page

    data = {name: value for name, value in carried if name != "csrf_token"}
    data = {name: typed.get(name.removeprefix("carry."), value) for name, value in data.items()}
    response = client.post("/clinic/login", data={"email": EMAIL, "password": GOOD, **data})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert token_of(client) is not None
    assert '<form method="post" action="/clinic/account/two-factor">' in page
    # It says which action the button sends, in the words of the button pressed before.
    assert "Sending it does what you had pressed before: “Turn on two-factor sign-in”." in page
    assert ("code", "123 456") in hidden_inputs(page)
    assert ("note", "a &lt;b&gt;&#34;quoted&#34;&lt;/b&gt; &amp; kept") in hidden_inputs(page)
    # Sending it on reaches the page with what was typed.
    resent = client.post("/clinic/account/two-factor", data={"code": "123 456", "note": "x"})
    assert resent.status_code == 422
    assert "This code is wrong" in resent.get_data(as_text=True)


def test_kept_fields_travel_through_the_code_step(app: Flask, client: FlaskClient) -> None:
    secret = enrolled_user(app, client)
    login(client)
    send_code(client, code_for(secret, 1))
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    page = client.post("/clinic/account/two-factor", data={"note": "kept"}).get_data(as_text=True)
    carried = dict(hidden_inputs(page))
    response = client.post("/clinic/login", data={"email": EMAIL, "password": GOOD, **carried})
    assert response.status_code == 200  # the code page, carrying the fields on
    assert ("carry.note", "kept") in hidden_inputs(response.get_data(as_text=True))
    forget_used_codes(app)
    response = client.post("/clinic/login/code", data={"code": code_for(secret, 1), **carried})
    assert response.status_code == 200
    assert ("note", "kept") in hidden_inputs(response.get_data(as_text=True))
    assert token_of(client) is not None


def test_after_signing_in_again_a_page_opens_where_it_was(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    response = client.get("/clinic/account/two-factor?x=1")
    assert_to_login(response)
    assert "ended=1" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert ("next", "/clinic/account/two-factor?x=1") in hidden_inputs(page)
    response = client.post(
        "/clinic/login",
        data={"email": EMAIL, "password": GOOD, "next": "/clinic/account/two-factor?x=1"},
    )
    assert response.status_code == 303
    assert response.location == "/clinic/account/two-factor?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/clinic/",
        "//evil.example/clinic/",
        "/\\evil.example",
        "/clinic/../welcome",  # under /clinic/ as written, not once the browser resolves it
        "/clinic/%2e%2e/start?t=x",  # the browser resolves %2e%2e as ".." too
        "/clinic/%2E./start",
        "/clinic/.%2e/start",
        "/clinic/x%2f..%2f..%2fstart",
        "/clinic/%5c../start",
        "/welcome",
        "/clinic/login?next=/clinic/",
        "/clinic/logout",
        "/clinic/\nSet-Cookie: x",
        "",
    ],
)
def test_only_clinic_pages_of_this_service_are_returned_to(target: str) -> None:
    assert safe_next(target) is None
    assert safe_next("/clinic/admin/audit?page=2") == "/clinic/admin/audit?page=2"


def test_a_session_is_only_the_row_for_its_token(app: Flask, client: FlaskClient) -> None:
    """The code step is no shortcut: a made-up pending note without a code opens nothing."""
    make_user(app)
    with client.session_transaction() as flask_session:
        flask_session[PENDING] = {"user": 1, "at": int(time.time())}
    assert_to_login(send_code(client, "123456"))  # the account has no two-factor sign-in
    with app.app_context():
        assert db.session().scalars(select(UserSession)).first() is None


def test_kept_fields_are_sent_on_with_a_valid_csrf_token(app: Flask) -> None:
    """With CSRF on, as in production: the resume page's token is the new session's."""
    make_user(app)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/clinic/login").get_data(as_text=True)
    csrf = dict(hidden_inputs(page))["csrf_token"]
    client.post("/clinic/login", data={"email": EMAIL, "password": GOOD, "csrf_token": csrf})
    page = client.get("/clinic/account/two-factor").get_data(as_text=True)
    csrf = dict(hidden_inputs(page))["csrf_token"]
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    typed = {"csrf_token": csrf, "code": "12345", "note": "kept"}
    page = client.post("/clinic/account/two-factor", data=typed).get_data(as_text=True)
    carried = dict(hidden_inputs(page))
    assert carried["carry.note"] == "kept"
    page = client.post(
        "/clinic/login", data={"email": EMAIL, "password": GOOD, **carried}
    ).get_data(as_text=True)
    resent = dict(hidden_inputs(page))
    assert resent["note"] == "kept" and resent["csrf_token"] != csrf
    response = client.post("/clinic/account/two-factor", data=resent)
    assert response.status_code == 422  # reached the page: its own check, not a CSRF refusal
    assert "The code has 6 digits." in response.get_data(as_text=True)


def test_every_clinic_form_the_resume_page_can_send_is_named(app: Flask) -> None:
    """A new clinic form is added to ACTIONS, or the resume page could not say what it sends."""
    from intake.clinician.resume import ACTIONS

    posted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and rule.rule.startswith("/clinic/")
        and not rule.rule.startswith("/clinic/api/")
    }  # fmt: skip
    sign_in_and_session = {
        "clinician.login", "clinician.login_code", "clinician.logout", "clinician.keepalive",
        "clinician.set_password",
    }  # fmt: skip
    assert posted - sign_in_and_session == set(ACTIONS)
