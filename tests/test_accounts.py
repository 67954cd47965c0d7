"""Clinician accounts: password rules and hashing, server-side sessions, sign-in limits, the CLI,
and the guard that keeps every clinic page behind a live session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake import create_app, db
from intake.auth import accounts
from intake.auth.passwords import PasswordRejected, check_password, hash_password
from intake.clock import utcnow
from intake.models import AuditEvent, LoginAttempt, User
from tests.clinic_accounts import (
    COOKIE,
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
from tests.conftest import Invited


def rewind_attempts(app: Flask, delta: timedelta) -> None:
    with app.app_context(), db.transaction() as tx:
        for row in tx.scalars(select(LoginAttempt)):
            row.at = row.at - delta


# --- passwords ---------------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id(app: Flask) -> None:
    assert hash_password(GOOD, "RFC_9106_LOW_MEMORY").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    make_user(app)
    with app.app_context():
        user = accounts.find_user(db.session(), EMAIL.upper())
        assert user is not None and user.password_hash is not None
        assert user.email == EMAIL
        assert user.password_hash.startswith("$argon2id$")
        assert GOOD not in user.password_hash


def test_sign_in_rehashes_when_the_parameters_changed(app: Flask, client: FlaskClient) -> None:
    make_user(app)  # hashed with the tests' cheap parameters
    app.config["ARGON2_PROFILE"] = "RFC_9106_LOW_MEMORY"
    assert login(client).status_code == 303
    with app.app_context():
        user = accounts.find_user(db.session(), EMAIL)
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(app.test_client()).status_code == 303


@pytest.mark.parametrize(
    "password",
    [
        "short pass",  # 10 characters
        "password1234",
        "qwertyuiop123",
        "Password2024!",  # "password" with digits and symbols around it
        "aaaaaaaaaaaaaaaa",
        "abababababababab",
        "x" * 257,
        "my dr.ada@example password",  # the email's local part
    ],
)
def test_password_rules_refuse_short_common_and_guessable(password: str, app: Flask) -> None:
    with app.app_context(), pytest.raises(PasswordRejected):
        check_password(password, EMAIL)


def test_password_rules_accept_a_long_uncommon_password(app: Flask) -> None:
    with app.app_context():
        check_password(GOOD, EMAIL)
        check_password("correct-horse-staple-9", EMAIL)


# --- sessions ----------------------------------------------------------------------------------


def test_sign_in_sets_a_server_side_session_cookie(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    response = login(client)
    assert response.status_code == 303
    assert response.location == "/clinic/"
    set_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Path=/clinic" in set_cookie
    assert "Expires" not in set_cookie  # gone when the browser closes
    token = token_of(client)
    assert token is not None and len(token) >= 43  # 256 random bits
    (row,) = sessions(app)
    assert row.id == accounts.hash_token(token)  # only the hash is stored
    assert row.address == "192.0.2.1"
    page = client.get("/clinic/")
    assert page.status_code == 200
    assert f"Signed in as {EMAIL}" in page.get_data(as_text=True)
    assert [row for row in audit_rows(app) if row[1].startswith("auth.")][-1] == (
        "user:1",
        "auth.login",
        "ok",
    )


def test_production_session_cookie_is_secure(app: Flask) -> None:
    make_user(app)
    production = create_app(
        {
            "INTAKE_ENV": "production",
            "SECRET_KEY": "0123456789abcdef" * 4,
            "WTF_CSRF_ENABLED": False,
        }
        | {k: app.config[k] for k in ("DATABASE_URL", "ARGON2_PROFILE", "SERVER_NAME")}
    )
    try:
        response = login(production.test_client())
        set_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
        assert "Secure" in set_cookie
    finally:
        with production.app_context():
            db.engine().dispose()


def test_every_sign_in_gets_a_new_token(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    client.set_cookie(COOKIE, "planted-by-someone-else", path="/clinic")
    login(client)
    first = token_of(client)
    assert first not in (None, "planted-by-someone-else")
    login(client)
    second = token_of(client)
    assert second not in (None, first)
    # The browser's earlier session ended with the new sign-in: the old token is worthless.
    other = app.test_client()
    other.set_cookie(COOKIE, first or "", path="/clinic")
    assert_to_login(other.get("/clinic/"))
    assert client.get("/clinic/").status_code == 200


def test_sign_out_revokes_the_session_on_the_server(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    token = token_of(client)
    response = client.post("/clinic/logout")
    assert_to_login(response)
    assert token_of(client) is None
    assert "You are signed out" in client.get(response.location).get_data(as_text=True)
    # A copy of the cookie kept from before (another tab, a stolen cookie) is useless now.
    copy = app.test_client()
    copy.set_cookie(COOKIE, token or "", path="/clinic")
    response = copy.get("/clinic/")
    assert_to_login(response)
    assert "ended=1" in response.location
    (row,) = sessions(app)
    assert row.revoked_at is not None
    assert [a for a in audit_rows(app) if a[1].startswith("auth.")] == [
        ("user:1", "auth.login", "ok"),
        ("user:1", "auth.logout", "ok"),
    ]


def test_idle_sessions_end_and_activity_keeps_them_alive(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, last_seen_at=timedelta(minutes=14))
    assert client.get("/clinic/").status_code == 200  # restarts the idle clock
    shift_sessions(app, last_seen_at=timedelta(minutes=14))
    assert client.get("/clinic/").status_code == 200
    shift_sessions(app, last_seen_at=timedelta(minutes=16))
    response = client.get("/clinic/")
    assert_to_login(response)
    assert "session ended" in client.get(response.location).get_data(as_text=True)


def test_sessions_end_after_the_absolute_lifetime(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    shift_sessions(app, created_at=timedelta(hours=11, minutes=59))
    assert client.get("/clinic/").status_code == 200
    shift_sessions(app, created_at=timedelta(minutes=2))
    assert_to_login(client.get("/clinic/"))


def test_a_disabled_account_loses_its_sessions_and_cannot_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app)
    login(client)
    result = app.test_cli_runner().invoke(args=["intake", "disable-user", EMAIL])
    assert result.exit_code == 0, result.output
    assert_to_login(client.get("/clinic/"))
    response = login(client)
    assert response.status_code == 401
    assert "Email or password is wrong." in response.get_data(as_text=True)


# --- the guard ---------------------------------------------------------------------------------


def _clinician_requests(app: Flask) -> Iterator[tuple[str, str]]:
    from intake.clinician.access import PUBLIC_ENDPOINTS

    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("clinician.") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:[^:>]+:)?{argument}>", "1", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_clinic_page_but_sign_in_needs_a_session(app: Flask, client: FlaskClient) -> None:
    checked = list(_clinician_requests(app))
    assert ("GET", "/clinic/") in checked and ("POST", "/clinic/logout") in checked
    for method, path in checked:
        assert_to_login(client.open(path, method=method))
    assert client.get("/clinic/login").status_code == 200


def test_a_patient_session_cannot_reach_the_clinic_pages(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    assert client.get("/welcome").status_code == 200  # the patient is signed in
    for method, path in _clinician_requests(app):
        assert_to_login(client.open(path, method=method))


def test_sign_in_form_enforces_csrf(app: Flask) -> None:
    make_user(app)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = login(client)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert token_of(client) is None
    page = client.get("/clinic/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    response = client.post(
        "/clinic/login", data={"email": EMAIL, "password": GOOD, "csrf_token": csrf.group(1)}
    )
    assert response.status_code == 303


# --- sign-in limits ----------------------------------------------------------------------------

WRONG = "not the password at all"


def wait_minutes(response: TestResponse) -> int | None:
    found = re.search(r"wait (\d+) minute", response.get_data(as_text=True))
    return int(found.group(1)) if found else None


def test_an_account_locks_after_five_failures_for_longer_each_time(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app)
    # Each try from a different address: this is the per-account limit alone.
    for n in range(4):
        response = login(client, password=WRONG, address=f"192.0.2.{10 + n}")
        assert response.status_code == 401
        assert "Email or password is wrong." in response.get_data(as_text=True)
    response = login(client, password=WRONG, address="192.0.2.20")
    assert (response.status_code, wait_minutes(response)) == (429, 1)
    response = login(client, address="192.0.2.21")  # the right password is not even checked
    assert (response.status_code, wait_minutes(response)) == (429, 1)
    for expected in (2, 4, 8):
        rewind_attempts(app, timedelta(minutes=expected // 2, seconds=1))
        response = login(client, password=WRONG, address="192.0.2.22")
        assert (response.status_code, wait_minutes(response)) == (429, expected)
    rewind_attempts(app, timedelta(minutes=8, seconds=1))
    assert login(client, address="192.0.2.23").status_code == 303
    # A success ends the account's streak.
    assert login(app.test_client(), password=WRONG, address="192.0.2.24").status_code == 401
    outcomes = [a[2] for a in audit_rows(app) if a[1] == "auth.login"]
    assert outcomes == ["failed"] * 5 + ["locked"] + ["failed"] * 3 + ["ok", "failed"]


def test_a_quiet_window_ends_the_streak(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    for _ in range(4):
        login(client, password=WRONG)
    rewind_attempts(app, timedelta(minutes=16))
    assert login(client, password=WRONG).status_code == 401


def test_unknown_accounts_lock_exactly_like_real_ones(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    pages = {}
    for email in (EMAIL, "nobody@example.org"):
        for n in range(5):
            response = login(client, email=email, password=WRONG, address=f"198.51.100.{n}")
        pages[email] = (response.status_code, response.get_data(as_text=True))
    assert pages[EMAIL][0] == pages["nobody@example.org"][0] == 429
    assert wait_minutes(login(client, email="NOBODY@example.org ", address="198.51.100.9")) == 1


def test_an_address_locks_after_twenty_failures_across_accounts(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app)
    attacker = "203.0.113.7"
    for n in range(19):
        assert (
            login(
                client, email=f"guess{n}@example.org", password=WRONG, address=attacker
            ).status_code
            == 401
        )
    response = login(client, email="guess19@example.org", password=WRONG, address=attacker)
    assert (response.status_code, wait_minutes(response)) == (429, 1)
    assert login(client, address=attacker).status_code == 429  # even a real account's password
    assert login(app.test_client(), address="192.0.2.99").status_code == 303  # others are fine
    rewind_attempts(app, timedelta(minutes=1, seconds=1))
    response = login(client, email="guess20@example.org", password=WRONG, address=attacker)
    assert (response.status_code, wait_minutes(response)) == (429, 2)


@pytest.fixture
def second_worker(app: Flask) -> Iterator[Flask]:
    """Another app on the same database, like a second gunicorn worker process."""
    keys = (
        "TESTING",
        "INTAKE_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "WTF_CSRF_ENABLED",
        "SERVER_NAME",
        "ARGON2_PROFILE",
    )
    other = create_app({key: app.config[key] for key in keys})
    yield other
    with other.app_context():
        db.session().close()
        db.engine().dispose()


def test_limits_hold_across_workers(app: Flask, second_worker: Flask) -> None:
    make_user(app)
    one, two = app.test_client(), second_worker.test_client()
    for client in (one, two, one, two):
        assert login(client, password=WRONG, address="192.0.2.50").status_code == 401
    assert login(two, password=WRONG, address="192.0.2.51").status_code == 429
    assert login(one, address="192.0.2.52").status_code == 429
    # And a session started by one worker is revoked for the other.
    rewind_attempts(app, timedelta(minutes=1, seconds=1))
    assert login(one).status_code == 303
    two.set_cookie(COOKIE, token_of(one) or "", path="/clinic")
    assert two.get("/clinic/").status_code == 200
    assert one.post("/clinic/logout").status_code == 303
    assert_to_login(two.get("/clinic/"))


def test_concurrent_guesses_cannot_outrun_the_limit(app: Flask) -> None:
    """Twelve simultaneous wrong passwords: only five are checked, the rest find the lock."""
    make_user(app)

    def guess(n: int) -> int:
        return login(app.test_client(), password=WRONG, address=f"192.0.2.{100 + n}").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(guess, range(12)))
    assert sorted(codes) == [401] * 4 + [429] * 8
    with app.app_context():
        assert len(db.session().scalars(select(LoginAttempt)).all()) == 5


# --- CLI and set-password links ----------------------------------------------------------------


def test_create_user_asks_for_the_password_twice_and_applies_the_rules(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["intake", "create-user", "Dr.Ada@Example.org", "--role", "admin"],
        input=f"short\npassword1234\n{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output
    assert "too common" in result.output
    assert f"Created the admin account {EMAIL}." in result.output
    assert GOOD not in result.output
    with app.app_context():
        user = accounts.find_user(db.session(), EMAIL)
        assert user is not None and user.role == "admin"
    assert audit_rows(app) == [("cli", "user.create", "ok")]
    with app.app_context():
        assert db.session().scalars(select(AuditEvent.target)).all() == [f"user:{user.id}"]
    assert login(app.test_client()).status_code == 303
    again = runner.invoke(args=["intake", "create-user", EMAIL, "--role", "clinician"])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_create_user_refuses_a_mismatched_confirmation(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["intake", "create-user", EMAIL, "--role", "clinician"],
        input=f"{GOOD}\n{GOOD}x\n",
    )
    assert result.exit_code != 0
    with app.app_context():
        assert db.session().scalars(select(User)).first() is None


def _link_token(output: str) -> str:
    found = re.search(r"http\S+/clinic/password\?t=(\S+)", output)
    assert found, output
    return found.group(1)


def test_set_password_link_works_once(app: Flask, client: FlaskClient) -> None:
    result = app.test_cli_runner().invoke(
        args=["intake", "create-user", EMAIL, "--role", "clinician", "--set-password-link"]
    )
    assert result.exit_code == 0, result.output
    token = _link_token(result.output)
    assert login(client).status_code == 401  # no password yet
    page = client.get(f"/clinic/password?t={token}")
    assert page.status_code == 200
    assert token in page.get_data(as_text=True)  # carried in the form, not in a later URL
    weak = client.post(
        "/clinic/password",
        data={"token": token, "password": "password1234", "confirm": "password1234"},
    )
    assert weak.status_code == 422
    response = client.post(
        "/clinic/password", data={"token": token, "password": GOOD, "confirm": GOOD}
    )
    assert response.status_code == 303
    assert "Your password is set" in client.get(response.location).get_data(as_text=True)
    assert client.get(f"/clinic/password?t={token}").status_code == 410
    assert login(client).status_code == 303
    actions = [a[1] for a in audit_rows(app)]
    assert actions == ["user.create", "auth.login", "user.set_password", "auth.login"]


def test_set_password_links_expire(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    result = app.test_cli_runner().invoke(args=["intake", "password-link", EMAIL])
    assert result.exit_code == 0, result.output
    token = _link_token(result.output)
    with app.app_context(), db.transaction() as tx:
        user = accounts.find_user(tx, EMAIL)
        assert user is not None and user.password_token_expires_at is not None
        user.password_token_expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"/clinic/password?t={token}").status_code == 410
    assert client.get("/clinic/password?t=made-up").status_code == 410


def test_setting_a_password_ends_existing_sessions(app: Flask, client: FlaskClient) -> None:
    make_user(app)
    login(client)
    token = _link_token(
        app.test_cli_runner().invoke(args=["intake", "password-link", EMAIL]).output
    )
    new = "a whole new passphrase"
    other = app.test_client()
    response = other.post(
        "/clinic/password", data={"token": token, "password": new, "confirm": new}
    )
    assert response.status_code == 303
    assert_to_login(client.get("/clinic/"))
    assert login(client).status_code == 401
    assert login(client, password=new).status_code == 303


@pytest.fixture
def settings(app: Flask) -> accounts.Settings:
    return accounts.Settings.from_config(app.config)


def test_create_user_checks_email_and_role(app: Flask, settings: accounts.Settings) -> None:
    bad: list[tuple[str, str]] = [("not-an-email", "clinician"), (EMAIL, "superuser")]
    with app.app_context():
        for email, role in bad:
            with pytest.raises(accounts.AccountError):
                accounts.create_user(db.session(), email, role, GOOD, settings)


def test_a_signed_in_browser_still_gets_the_form_and_is_told_whose_account(
    app: Flask, client: FlaskClient
) -> None:
    """A session cookie someone else planted must not open their worklist unnoticed: the sign-in
    page names the account, and signing in as yourself ends theirs in this browser."""
    make_user(app)
    make_user(app, email="someone.else@example.org")
    assert login(client, email="someone.else@example.org").status_code == 303
    planted = token_of(client)
    page = client.get("/clinic/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="password"' in html
    assert "This browser is signed in as someone.else@example.org." in html
    assert login(client).status_code == 303
    assert token_of(client) != planted
    again = client.get("/clinic/login").get_data(as_text=True)
    assert f"This browser is signed in as {EMAIL}." in again
    assert len([s for s in sessions(app) if s.revoked_at is None]) == 1  # the planted one ended
