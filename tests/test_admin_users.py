"""Admins manage accounts from the web: the list, creating one, disable and enable, two-factor
reset, set-password links, roles; and the rules that keep at least one admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake import db
from intake.audit import log as audit
from intake.auth import accounts
from intake.clock import utcnow
from intake.models import AuditEvent, User, UserSession
from tests.clinic_accounts import GOOD, assert_to_login, audit_rows, login, make_user

ADMIN = "admin@example.org"
CLINICIAN = "dr.bea@example.org"
ACTIONS = ("disable", "enable", "role", "reset-totp", "password-link")


def every_request() -> list[tuple[str, str]]:
    posts = [("POST", "/clinic/admin/users")]
    posts += [("POST", f"/clinic/admin/users/2/{action}") for action in ACTIONS]
    return [("GET", "/clinic/admin/users"), *posts]


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> FlaskClient:
    """``client``, signed in as an administrator (account 1); account 2 is a clinician."""
    make_user(app, email=ADMIN, role="admin")
    make_user(app, email=CLINICIAN)
    assert login(client, email=ADMIN).status_code == 303
    return client


def user(app: Flask, email: str) -> User:
    with app.app_context():
        found = accounts.find_user(db.session(), email)
        assert found is not None
        return found


def link_token(response: TestResponse) -> str:
    found = re.search(
        r'value="http[^"]+/clinic/password\?t=([^"]+)"', response.get_data(as_text=True)
    )
    assert found, response.get_data(as_text=True)
    return found.group(1)


def set_password(client: FlaskClient, token: str, password: str = GOOD) -> TestResponse:
    return client.post(
        "/clinic/password", data={"token": token, "password": password, "confirm": password}
    )


def chain_ok(app: Flask) -> bool:
    with app.app_context():
        return audit.verify_chain(db.session()).ok


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for method, path in every_request():
        assert_to_login(client.open(path, method=method))


def test_clinicians_are_refused_on_the_server(app: Flask, client: FlaskClient) -> None:
    make_user(app, email=ADMIN, role="admin")  # account 1
    make_user(app, email=CLINICIAN)  # account 2
    login(client, email=CLINICIAN)
    before = audit_rows(app)
    for method, path in every_request():
        data = {"email": "new@example.org", "role": "admin"}
        response = client.open(path, method=method, data=data)
        assert response.status_code == 403, (method, path)
    assert audit_rows(app) == before
    assert user(app, CLINICIAN).role == "clinician"
    assert accounts.find_user is not None
    with app.app_context():
        assert accounts.find_user(db.session(), "new@example.org") is None
    assert "/clinic/admin/users" not in client.get("/clinic/").get_data(as_text=True)


def test_the_list_shows_every_account(app: Flask, admin: FlaskClient) -> None:
    with app.app_context(), db.transaction() as tx:
        bea = accounts.find_user(tx, CLINICIAN)
        assert bea is not None
        bea.totp_enabled_at = utcnow()
        bea.totp_secret = "sealed"
        make_user(app, email="gone@example.org")
    with app.app_context(), db.transaction() as tx:
        gone = accounts.find_user(tx, "gone@example.org")
        assert gone is not None
        accounts.disable_user(tx, gone)
    response = admin.get("/clinic/admin/users")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r'<tr id="account-(\d+)">(.*?)</tr>', page, re.S)
    cells = {
        int(i): [
            re.sub(r"<[^>]+>", " ", c).split()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for i, row in rows
    }
    assert [int(i) for i, _row in rows] == [1, 2, 3]  # by email: admin@, dr.bea@, gone@
    assert cells[1][0][:2] == [ADMIN, "(you)"] and cells[1][1] == ["Administrator"]
    assert cells[1][5] != ["Never"]  # the admin signed in
    assert cells[2][1:3] == [["Clinician"], ["On"]] and cells[2][5] == ["Never"]
    assert cells[3][2] == ["Off"] and cells[3][3][0] == "Disabled"
    assert "Reset two-factor sign-in" in " ".join(cells[2][6])
    assert 'href="/clinic/admin/users" aria-current="page"' in page  # the nav link
    for secret in ("sealed", "password_hash", "argon2"):
        assert secret not in page


def test_creating_an_account_shows_a_one_time_link(app: Flask, admin: FlaskClient) -> None:
    response = admin.post(
        "/clinic/admin/users", data={"email": " New@Example.org ", "role": "admin"}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "Account created for new@example.org" in response.get_data(as_text=True)
    token = link_token(response)
    created = user(app, "new@example.org")
    assert created.role == "admin" and created.password_hash is None
    assert created.password_token_hash == accounts.hash_token(token)
    other = app.test_client()
    assert login(other, email="new@example.org").status_code == 401  # no password yet
    assert set_password(other, token).status_code == 303
    assert login(other, email="new@example.org").status_code == 303
    assert ("user:1", "user.create", "ok") in audit_rows(app)
    assert_no_secrets(app, token)

    duplicate = admin.post(
        "/clinic/admin/users", data={"email": "NEW@example.org", "role": "clinician"}
    )
    assert duplicate.status_code == 422
    assert "An account for new@example.org already exists." in duplicate.get_data(as_text=True)
    bad = admin.post("/clinic/admin/users", data={"email": "not-an-email", "role": "clinician"})
    assert bad.status_code == 422 and "not an email address" in bad.get_data(as_text=True)
    role = admin.post("/clinic/admin/users", data={"email": "x@example.org", "role": "root"})
    assert role.status_code == 422
    assert [r for r in audit_rows(app) if r[1] == "user.create"] == [
        ("user:1", "user.create", "ok")
    ]
    assert chain_ok(app)


def assert_no_secrets(app: Flask, *secrets: str) -> None:
    with app.app_context():
        for event in db.session().scalars(select(AuditEvent)):
            fields = (
                event.actor,
                event.action,
                event.intake_public_id,
                event.address,
                event.outcome,
            )
            for secret in secrets:
                assert not any(secret in (f or "") for f in fields)


def test_disabling_ends_every_session_at_once_and_enabling_restores_sign_in(
    app: Flask, admin: FlaskClient
) -> None:
    bea, laptop = app.test_client(), app.test_client()
    assert login(bea, email=CLINICIAN).status_code == 303
    assert login(laptop, email=CLINICIAN).status_code == 303
    response = admin.post("/clinic/admin/users/2/disable")
    assert response.status_code == 303
    assert "all its sessions have ended" in admin.get(response.location).get_data(as_text=True)
    assert_to_login(bea.get("/clinic/"))
    assert_to_login(laptop.get("/clinic/"))
    with app.app_context():
        rows = db.session().scalars(select(UserSession).where(UserSession.user_id == 2)).all()
        assert rows and all(row.revoked_at is not None for row in rows)
    assert login(bea, email=CLINICIAN).status_code == 401
    assert user(app, CLINICIAN).disabled_at is not None

    assert admin.post("/clinic/admin/users/2/enable").status_code == 303
    assert user(app, CLINICIAN).disabled_at is None
    assert login(bea, email=CLINICIAN).status_code == 303
    mine = [r for r in audit_rows(app) if r[0] == "user:1" and r[1].startswith("user.")]
    assert mine == [("user:1", "user.disable", "ok"), ("user:1", "user.enable", "ok")]
    assert chain_ok(app)
    with app.app_context():
        targets = db.session().scalars(
            select(AuditEvent.target).where(AuditEvent.action.in_(["user.disable", "user.enable"]))
        )
        assert list(targets) == ["user:2", "user:2"]  # whose account, not only who did it
    page = admin.get("/clinic/admin/audit?user=dr.bea@example.org").get_data(as_text=True)
    assert "user.disable" in page and "user.enable" in page  # done to the account, found by it


def test_resetting_two_factor(app: Flask, admin: FlaskClient) -> None:
    with app.app_context(), db.transaction() as tx:
        bea = tx.get(User, 2)
        assert bea is not None
        bea.totp_enabled_at, bea.totp_secret, bea.totp_last_step = utcnow(), "sealed", 7
    assert admin.post("/clinic/admin/users/2/reset-totp").status_code == 303
    bea = user(app, CLINICIAN)
    assert (bea.totp_enabled_at, bea.totp_secret, bea.totp_last_step) == (None, None, None)
    assert login(app.test_client(), email=CLINICIAN).status_code == 303  # the password alone
    assert ("user:1", "user.totp_reset", "ok") in audit_rows(app)
    assert chain_ok(app)


def test_a_new_set_password_link_replaces_the_last(app: Flask, admin: FlaskClient) -> None:
    first = link_token(admin.post("/clinic/admin/users/2/password-link"))
    response = admin.post("/clinic/admin/users/2/password-link")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    second = link_token(response)
    other = app.test_client()
    assert other.get(f"/clinic/password?t={first}").status_code == 410
    new = "a whole new passphrase"
    assert set_password(other, second, new).status_code == 303
    assert login(other, email=CLINICIAN, password=new).status_code == 303
    links = [r for r in audit_rows(app) if r[1] == "user.password_link"]
    assert links == [("user:1", "user.password_link", "ok")] * 2
    assert_no_secrets(app, first, second)

    admin.post("/clinic/admin/users/2/disable")
    refused = admin.post("/clinic/admin/users/2/password-link")
    assert refused.status_code == 409 and "/clinic/password?t=" not in refused.get_data(
        as_text=True
    )
    assert audit_rows(app)[-1] == ("user:1", "user.password_link", "refused_disabled")
    assert chain_ok(app)


def test_changing_roles(app: Flask, admin: FlaskClient) -> None:
    bea = app.test_client()
    login(bea, email=CLINICIAN)
    assert bea.get("/clinic/admin/users").status_code == 403
    assert admin.post("/clinic/admin/users/2/role", data={"role": "admin"}).status_code == 303
    assert user(app, CLINICIAN).role == "admin"
    assert bea.get("/clinic/admin/users").status_code == 200  # checked on every request
    assert admin.post("/clinic/admin/users/2/role", data={"role": "clinician"}).status_code == 303
    assert bea.get("/clinic/admin/users").status_code == 403
    assert admin.post("/clinic/admin/users/2/role", data={"role": "root"}).status_code == 422
    assert user(app, CLINICIAN).role == "clinician"
    roles = [r for r in audit_rows(app) if r[1] == "user.role"]
    assert roles == [("user:1", "user.role", "ok")] * 2
    assert chain_ok(app)


def test_an_admin_cannot_demote_or_disable_themselves(app: Flask, admin: FlaskClient) -> None:
    make_user(app, email="second.admin@example.org", role="admin")  # not the last admin, even
    demote = admin.post("/clinic/admin/users/1/role", data={"role": "clinician"})
    assert demote.status_code == 409
    assert "your own administrator rights" in demote.get_data(as_text=True)
    disable = admin.post("/clinic/admin/users/1/disable")
    assert disable.status_code == 409
    me = user(app, ADMIN)
    assert me.role == "admin" and me.disabled_at is None
    assert audit_rows(app)[-2:] == [
        ("user:1", "user.role", "refused_self"),
        ("user:1", "user.disable", "refused_self"),
    ]
    assert admin.get("/clinic/admin/users").status_code == 200  # still signed in
    # Another admin may.
    assert admin.post("/clinic/admin/users/3/role", data={"role": "clinician"}).status_code == 303
    assert chain_ok(app)


def test_the_last_active_admin_stays(app: Flask, admin: FlaskClient) -> None:
    """One request after another cannot get there (the admin acting is an active admin and may
    not remove themselves), so this is the check as two admins demoting each other at once meet
    it: the second waits for the first one's lock, then sees its change."""
    make_user(app, email="second.admin@example.org", role="admin")  # account 3
    with app.app_context(), db.transaction() as tx:
        admins = accounts.lock_active_admins(tx)
        second = tx.get(User, 3)
        assert admins == [1, 3] and second is not None
        assert accounts.admin_change_refused(1, second, admins, removes_admin=True) is None
        second.role = "clinician"  # account 1 demotes account 3...
    with app.app_context(), db.transaction() as tx:
        admins = accounts.lock_active_admins(tx)
        first = tx.get(User, 1)
        assert admins == [1] and first is not None
        # ...while account 3's request, already past the role check, demotes account 1.
        assert accounts.admin_change_refused(3, first, admins, removes_admin=True) == "last_admin"
        assert accounts.admin_change_refused(3, first, admins, removes_admin=False) is None
    # A third admin demoted meanwhile cannot act on the others either.
    make_user(app, email="third.admin@example.org", role="admin")  # account 4
    with app.app_context(), db.transaction() as tx:
        admins = accounts.lock_active_admins(tx)
        fourth = tx.get(User, 4)
        assert admins == [1, 4] and fourth is not None
        assert accounts.admin_change_refused(3, fourth, admins, removes_admin=True) == "not_admin"
    # Over HTTP the only admin is refused on their own account, whichever the action.
    with app.app_context(), db.transaction() as tx:
        accounts.disable_user(tx, tx.get(User, 4))  # type: ignore[arg-type]
    assert admin.post("/clinic/admin/users/1/disable").status_code == 409
    assert admin.post("/clinic/admin/users/1/role", data={"role": "clinician"}).status_code == 409
    assert user(app, ADMIN).disabled_at is None and user(app, ADMIN).role == "admin"
    assert chain_ok(app)


def test_unknown_accounts_are_404(app: Flask, admin: FlaskClient) -> None:
    before = audit_rows(app)
    for action in ACTIONS:
        assert (
            admin.post(f"/clinic/admin/users/99/{action}", data={"role": "admin"}).status_code
            == 404
        )
    assert audit_rows(app) == before


def test_every_action_needs_the_csrf_token(app: Flask, admin: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    before = audit_rows(app)
    for method, path in every_request()[1:]:
        response = admin.open(path, method=method, data={"email": "x@example.org", "role": "admin"})
        # The app-wide CSRF check sends a stale form back to the clinic's home page.
        assert response.status_code == 303 and response.location.endswith("/clinic/"), path
    assert audit_rows(app) == before
    bea = user(app, CLINICIAN)
    assert bea.role == "clinician" and bea.disabled_at is None
    page = admin.get("/clinic/admin/users").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    ok = admin.post("/clinic/admin/users/2/disable", data={"csrf_token": csrf.group(1)})
    assert ok.status_code == 303


def test_sessions_before_enable_stay_ended(app: Flask, admin: FlaskClient) -> None:
    bea = app.test_client()
    login(bea, email=CLINICIAN)
    admin.post("/clinic/admin/users/2/disable")
    admin.post("/clinic/admin/users/2/enable")
    assert_to_login(bea.get("/clinic/"))
    with app.app_context():
        last = accounts.list_accounts(db.session())[1].last_sign_in
    assert last is not None and utcnow() - last.replace(tzinfo=utcnow().tzinfo) < timedelta(
        minutes=1
    )


def test_the_account_and_token_lists_are_audited(app: Flask, admin: FlaskClient) -> None:
    """Both lists show every colleague's e-mail and sign-in history: each view is recorded."""
    for path in ("/clinic/admin/users", "/clinic/admin/api-tokens"):
        assert admin.get(path).status_code == 200
    viewed = [(actor, action, outcome) for actor, action, outcome in audit_rows(app)][-2:]
    assert viewed == [("user:1", "users.view", "ok"), ("user:1", "api_tokens.view", "ok")]
