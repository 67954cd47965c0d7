"""The export API: an admin makes a token, another system fetches with it; clinicians fetch with
their session; every export is audited; revoked tokens and strangers get a FHIR 401."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from intake import db
from intake.api import access
from intake.audit import log as audit
from intake.auth import api_tokens
from intake.clock import as_utc, utcnow
from intake.fhir import exports
from intake.fhir.site import fhir_json
from intake.models import ApiToken, AuditEvent, Intake, User
from tests.clinic_accounts import login, make_user
from tests.conftest import load_intake

ADMIN = "admin@example.org"
KINDS = ("questionnaire-response", "document-reference", "bundle")


def make_token(app: Flask, client: FlaskClient, name: str = "Interface engine") -> str:
    """Through the admin page, as an administrator would."""
    make_user(app, ADMIN, role="admin")
    assert login(client, ADMIN).status_code == 303
    page = client.post("/clinic/admin/api-tokens", data={"name": name})
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "no-store"
    match = re.search(r'value="(itk_[A-Za-z0-9_-]+)"', page.get_data(as_text=True))
    assert match, "the token is shown once"
    return match.group(1)


def audit_rows(app: Flask, public_id: str | None = None) -> list[tuple[str, str, str]]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if public_id:
            query = query.where(AuditEvent.intake_public_id == public_id)
        return [(r.actor, r.action, r.outcome) for r in db.session().scalars(query)]


def test_a_token_fetches_every_export_and_each_is_audited(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    system = app.test_client()  # no cookie: only the token
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/clinic/api/v1/intakes/{public_id}"

    pdf = system.get(f"{base}/summary.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    intake = load_intake(app, public_id)
    assert pdf.data == intake.submission.pdf
    bodies = {}
    for kind in KINDS:
        response = system.get(f"{base}/{kind}", headers=auth)
        assert response.status_code == 200, kind
        assert response.mimetype == "application/fhir+json"
        assert response.headers["Cache-Control"] == "no-store"
        assert f"_{kind}.json" in response.headers["Content-Disposition"]
        bodies[kind] = response.data
    with app.test_request_context():
        expected = fhir_json(exports.questionnaire_response(intake, intake.submission))
    assert bodies["questionnaire-response"] == expected

    with app.app_context():
        token_id = db.session().scalars(select(ApiToken.id)).one()
    actor = f"token:{token_id}"
    assert audit_rows(app, public_id) == [
        (actor, "pdf.download", "ok"),
        (actor, "export.fhir_response", "ok"),
        (actor, "export.fhir_document", "ok"),
        (actor, "export.fhir_bundle", "ok"),
    ]
    # The intake's history names the token by the name the admin gave it.
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert "API token Interface engine" in page
    assert "FHIR data downloaded (3 times" in page


@pytest.mark.usefixtures("shared_pdf")
def test_a_revoked_or_wrong_token_gets_a_fhir_401(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    system = app.test_client()
    url = f"/clinic/api/v1/intakes/{public_id}/bundle"
    for header in ("Bearer itk_wrong", "Basic abc", f"Bearer {token}x"):
        response = system.get(url, headers={"Authorization": header})
        assert response.status_code == 401
        assert response.get_json()["resourceType"] == "OperationOutcome"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        token_id = db.session().scalars(select(ApiToken.id)).one()
    assert client.post(f"/clinic/admin/api-tokens/{token_id}/revoke").status_code == 303
    page = client.get("/clinic/admin/api-tokens").get_data(as_text=True)
    assert "Revoked" in page and token not in page
    assert system.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    actions = [action for _actor, action, _o in audit_rows(app)]
    assert "api_token.create" in actions and "api_token.revoke" in actions
    with app.app_context():
        targets = db.session().scalars(
            select(AuditEvent.target).where(AuditEvent.action.startswith("api_token."))
        )
        assert list(targets) == [f"api_token:{token_id}"] * 2
    assert not [a for a in actions if a.startswith("export.")]


@pytest.mark.usefixtures("shared_pdf")
def test_clinicians_export_with_their_session_from_the_intake_page(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    user_id = make_user(app)
    assert login(client).status_code == 303
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    links = re.findall(r'href="(/clinic/api/v1/intakes/[^"]+)"', page)
    assert sorted(links) == sorted(
        f"/clinic/api/v1/intakes/{public_id}/{kind}"
        for kind in ("questionnaire-response", "bundle")
    )
    for link in links:
        assert client.get(link).status_code == 200
    assert audit_rows(app, public_id)[-2:] == [
        (f"user:{user_id}", "export.fhir_response", "ok"),
        (f"user:{user_id}", "export.fhir_bundle", "ok"),
    ]


def test_unsubmitted_and_unknown_intakes_are_404(app: Flask, client: FlaskClient, invite) -> None:  # type: ignore[no-untyped-def]
    draft = invite()
    make_user(app)
    assert login(client).status_code == 303
    for public_id in (draft.public_id, "AAAA-BBBB-CCCC", "nonsense"):
        response = client.get(f"/clinic/api/v1/intakes/{public_id}/bundle")
        assert response.status_code == 404
        assert response.get_json()["issue"][0]["code"] == "not-found"


def test_an_admin_token_needs_a_name(app: Flask, client: FlaskClient) -> None:
    make_user(app, ADMIN, role="admin")
    assert login(client, ADMIN).status_code == 303
    response = client.post("/clinic/admin/api-tokens", data={"name": "  "})
    assert response.status_code == 422
    assert "Name the system that will use the token." in response.get_data(as_text=True)


@pytest.mark.usefixtures("shared_pdf")
def test_an_api_token_opens_nothing_but_the_exports(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    system = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/clinic/intakes/{public_id}",
        f"/clinic/intakes/{public_id}/summary.pdf",
        "/clinic/",
    ):
        response = system.get(path, headers=auth)
        assert response.status_code in (302, 303) and "/clinic/login" in response.location


@pytest.mark.usefixtures("shared_pdf")
def test_answers_under_a_retired_catalog_get_a_clear_audited_409(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == public_id)).one()
        assert intake.submission is not None
        intake.submission.catalog_version = "0.9"
    make_user(app)
    assert login(client).status_code == 303
    response = client.get(f"/clinic/api/v1/intakes/{public_id}/questionnaire-response")
    assert response.status_code == 409
    assert "catalog version 0.9" in response.get_json()["issue"][0]["diagnostics"]
    assert audit_rows(app, public_id)[-1][1:] == ("export.fhir_response", "old_catalog")
    # The PDF is still there, and the intake's page points to it.
    assert client.get(f"/clinic/api/v1/intakes/{public_id}/summary.pdf").status_code == 200
    page = client.get(f"/clinic/intakes/{public_id}")
    assert page.status_code == 200
    assert "version 0.9, which this version of the service does not have" in page.get_data(
        as_text=True
    )


# --- a token lives no longer than its creator's access ------------------------------------------

EXPORTS = ("questionnaire-response", "bundle", "summary.pdf")
OTHER_ADMIN = "other.admin@example.org"


def fetch_all(app: Flask, public_id: str, token: str) -> list[int]:
    system = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/clinic/api/v1/intakes/{public_id}"
    return [system.get(f"{base}/{kind}", headers=auth).status_code for kind in EXPORTS]


def token_audit(app: Flask) -> list[tuple[str, str, str, str | None]]:
    with app.app_context():
        rows = db.session().execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome, AuditEvent.target)
            .where(AuditEvent.action.in_(["user.disable", "user.enable", "api_token.revoke"]))
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.usefixtures("shared_pdf")
def test_disabling_the_creator_revokes_its_tokens_and_enabling_does_not_revive_them(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)  # made by ADMIN, account 1
    assert fetch_all(app, public_id, token) == [200, 200, 200]
    other_id = make_user(app, OTHER_ADMIN, role="admin")
    other = app.test_client()
    assert login(other, OTHER_ADMIN).status_code == 303

    response = other.post("/clinic/admin/users/1/disable")
    assert response.status_code == 303
    page = other.get(response.location).get_data(as_text=True)
    assert "The API tokens it created are revoked" in page
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    with app.app_context():
        row = db.session().scalars(select(ApiToken)).one()
        assert row.revoked_at is not None

    assert other.post("/clinic/admin/users/1/enable").status_code == 303
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    admin = f"user:{other_id}"
    assert token_audit(app) == [
        (admin, "user.disable", "ok", "user:1"),
        (admin, "api_token.revoke", "creator_disabled", f"api_token:{row.id}"),
        (admin, "user.enable", "ok", "user:1"),
    ]


@pytest.mark.usefixtures("shared_pdf")
def test_disable_user_on_the_command_line_revokes_the_tokens_too(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    result = app.test_cli_runner().invoke(args=["intake", "disable-user", ADMIN])
    assert result.exit_code == 0, result.output
    assert "Revoked the 1 API token(s) it created" in result.output
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    with app.app_context():
        token_id = db.session().scalars(select(ApiToken.id)).one()
    assert token_audit(app) == [
        ("cli", "user.disable", "ok", "user:1"),
        ("cli", "api_token.revoke", "creator_disabled", f"api_token:{token_id}"),
    ]


@pytest.mark.usefixtures("shared_pdf")
def test_a_token_of_an_account_disabled_before_the_rule_is_refused_and_revoked_on_enable(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    """An account disabled by an older version (or in the database) left its tokens live."""
    public_id = submitted()
    token = make_token(app, client)
    with app.app_context(), db.transaction() as tx:
        creator = tx.get(User, 1)
        assert creator is not None
        creator.disabled_at = utcnow()
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    with app.app_context():
        row = db.session().scalars(select(ApiToken)).one()
        assert row.revoked_at is None and row.last_used_at is None  # a refusal is no use

    make_user(app, OTHER_ADMIN, role="admin")
    other = app.test_client()
    assert login(other, OTHER_ADMIN).status_code == 303
    assert other.post("/clinic/admin/users/1/enable").status_code == 303
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    with app.app_context():
        assert db.session().scalars(select(ApiToken.revoked_at)).one() is not None
    assert token_audit(app)[-1][1:] == (
        "api_token.revoke",
        "creator_disabled",
        f"api_token:{row.id}",
    )


@pytest.mark.usefixtures("shared_pdf")
def test_other_admins_tokens_are_untouched(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    gone = make_token(app, client)  # ADMIN's (account 1), revoked below
    make_user(app, OTHER_ADMIN, role="admin")
    other = app.test_client()
    assert login(other, OTHER_ADMIN).status_code == 303
    page = other.post("/clinic/admin/api-tokens", data={"name": "Kept"}).get_data(as_text=True)
    match = re.search(r'value="(itk_[A-Za-z0-9_-]+)"', page)
    assert match
    assert other.post("/clinic/admin/users/1/disable").status_code == 303
    assert fetch_all(app, public_id, gone) == [401, 401, 401]
    assert fetch_all(app, public_id, match.group(1)) == [200, 200, 200]


# --- expiry ---------------------------------------------------------------------------------------


def stored_token(app: Flask) -> ApiToken:
    with app.app_context():
        return db.session().scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()  # type: ignore[return-value]


@pytest.mark.usefixtures("shared_pdf")
def test_a_new_token_expires_after_the_days_chosen_and_is_then_refused(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    make_user(app, ADMIN, role="admin")
    assert login(client, ADMIN).status_code == 303
    page = client.get("/clinic/admin/api-tokens").get_data(as_text=True)
    assert 'name="days" value="365"' in page  # the default, pre-filled

    created = client.post("/clinic/admin/api-tokens", data={"name": "Lab", "days": "10"})
    assert created.status_code == 201
    body = created.get_data(as_text=True)
    assert "It works until" in body and "unless an administrator revokes it sooner" in body
    match = re.search(r'value="(itk_[A-Za-z0-9_-]+)"', body)
    assert match
    token = match.group(1)
    row = stored_token(app)
    assert row.expires_at is not None
    left = as_utc(row.expires_at) - utcnow()
    assert timedelta(days=9, hours=23) < left <= timedelta(days=10)
    assert fetch_all(app, public_id, token) == [200, 200, 200]
    assert "Active, expires soon" in client.get("/clinic/admin/api-tokens").get_data(as_text=True)

    with app.app_context(), db.transaction() as tx:
        found = tx.get(ApiToken, row.id)
        assert found is not None
        found.expires_at = utcnow() - timedelta(seconds=1)
    assert fetch_all(app, public_id, token) == [401, 401, 401]
    listing = client.get("/clinic/admin/api-tokens").get_data(as_text=True)
    assert re.search(rf'id="token-{row.id}".*?Expired', listing, re.S)


def test_a_token_made_without_days_gets_the_default(app: Flask, client: FlaskClient) -> None:
    make_token(app, client)  # posts the name only, as a script might
    row = stored_token(app)
    assert row.expires_at is not None
    left = as_utc(row.expires_at) - utcnow()
    assert (
        timedelta(days=api_tokens.DEFAULT_DAYS - 1)
        < left
        <= timedelta(days=api_tokens.DEFAULT_DAYS)
    )


@pytest.mark.parametrize("days", ["0", "731", "-5", "many"])
def test_token_days_out_of_range_are_refused(app: Flask, client: FlaskClient, days: str) -> None:
    make_user(app, ADMIN, role="admin")
    assert login(client, ADMIN).status_code == 303
    response = client.post("/clinic/admin/api-tokens", data={"name": "Lab", "days": days})
    assert response.status_code == 422
    with app.app_context():
        assert db.session().scalars(select(ApiToken)).first() is None
    with app.app_context(), db.transaction() as tx, pytest.raises(ValueError):
        api_tokens.create_token(tx, "Lab", None, days=api_tokens.MAX_DAYS + 1)


@pytest.mark.usefixtures("shared_pdf")
def test_tokens_made_before_expiry_existed_keep_working(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    with app.app_context(), db.transaction() as tx:
        row = tx.scalars(select(ApiToken)).one()
        row.expires_at = None  # what migration 0008 leaves on existing tokens
    assert fetch_all(app, public_id, token) == [200, 200, 200]
    page = client.get("/clinic/admin/api-tokens").get_data(as_text=True)
    assert "Never (made before tokens expired)" in page


# --- refused tokens are audited, within quotas -----------------------------------------------------

Refusal = tuple[str, str, str | None, str, str | None]


def refusals(app: Flask) -> list[Refusal]:
    """(actor, address, intake id, outcome, target) of every api.token_refused row."""
    with app.app_context():
        rows = db.session().execute(
            select(
                AuditEvent.actor,
                AuditEvent.address,
                AuditEvent.intake_public_id,
                AuditEvent.outcome,
                AuditEvent.target,
            )
            .where(AuditEvent.action == "api.token_refused")
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def knock(app: Flask, header: str, address: str = "198.51.100.7", public_id: str = "X") -> int:
    response = app.test_client().get(
        f"/clinic/api/v1/intakes/{public_id}/bundle",
        headers={"Authorization": header},
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.get_json()["resourceType"] == "OperationOutcome"
    return response.status_code


@pytest.mark.usefixtures("shared_pdf")
def test_every_kind_of_refused_token_is_audited_with_the_address_never_the_secret(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    row = stored_token(app)
    ref = f"api_token:{row.id}"
    wrong = "itk_" + "w" * 43
    assert knock(app, f"Bearer {wrong}", public_id=public_id) == 401
    assert knock(app, "Basic dXNlcjpwYXNz", public_id=public_id) == 401
    assert knock(app, "Bearer not-even-ours", public_id=public_id) == 401
    with app.app_context(), db.transaction() as tx:
        found = tx.get(ApiToken, row.id)
        assert found is not None
        found.expires_at = utcnow() - timedelta(minutes=1)
    assert knock(app, f"Bearer {token}", public_id=public_id) == 401
    with app.app_context(), db.transaction() as tx:
        found = tx.get(ApiToken, row.id)
        assert found is not None
        found.expires_at = None
        creator = tx.get(User, 1)
        assert creator is not None
        creator.disabled_at = utcnow()
    assert knock(app, f"Bearer {token}", public_id=public_id) == 401
    with app.app_context(), db.transaction() as tx:
        found = tx.get(ApiToken, row.id)
        assert found is not None
        found.revoked_at = utcnow()
    assert knock(app, f"Bearer {token}", public_id=public_id) == 401

    addr = "198.51.100.7"
    assert refusals(app) == [
        ("anonymous", addr, None, "unknown", None),
        ("anonymous", addr, None, "not_bearer", None),
        ("anonymous", addr, None, "unknown", None),
        ("anonymous", addr, None, "expired", ref),
        ("anonymous", addr, None, "creator_disabled", ref),
        ("anonymous", addr, None, "revoked", ref),
    ]
    with app.app_context():
        for event in db.session().scalars(select(AuditEvent)):
            text = " ".join(str(v) for v in vars(event).values())
            for secret in (token, wrong, token[4:], wrong[4:], "dXNlcjpwYXNz", "not-even-ours"):
                assert secret not in text
        assert audit.verify_chain(db.session()).ok
    # One answer for every refusal: nothing tells an unknown token from a revoked one.
    system = app.test_client()
    bodies = {
        system.get(
            f"/clinic/api/v1/intakes/{public_id}/bundle", headers={"Authorization": h}
        ).get_data()
        for h in (f"Bearer {token}", f"Bearer {wrong}")
    }
    assert len(bodies) == 1
    # No credential at all is no token attempt: not audited.
    assert app.test_client().get(f"/clinic/api/v1/intakes/{public_id}/bundle").status_code == 401
    assert len(refusals(app)) == 8


@pytest.mark.usefixtures("shared_pdf")
def test_a_flood_of_bad_tokens_is_audited_up_to_the_hourly_quotas(
    app: Flask, client: FlaskClient, submitted: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    public_id = submitted()
    token = make_token(app, client)
    for n in range(access.PER_ADDRESS + 15):
        assert knock(app, f"Bearer itk_guess{n}") == 401
    assert len(refusals(app)) == access.PER_ADDRESS
    assert caplog.text.count("refused token attempts this hour for address 198.51.100.7") == 1
    # Another address has its own quota; the flooding address is not locked out of valid use.
    assert knock(app, "Bearer itk_other", address="203.0.113.5") == 401
    assert len(refusals(app)) == access.PER_ADDRESS + 1
    ok = app.test_client().get(
        f"/clinic/api/v1/intakes/{public_id}/bundle",
        headers={"Authorization": f"Bearer {token}"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert ok.status_code == 200

    # A known token's refusals count against that token, whatever the addresses.
    row = stored_token(app)
    assert client.post(f"/clinic/admin/api-tokens/{row.id}/revoke").status_code == 303
    for n in range(access.PER_TOKEN + 5):
        assert knock(app, f"Bearer {token}", address=f"192.0.2.{n + 1}") == 401
    known = [r for r in refusals(app) if r[4] is not None]
    assert len(known) == access.PER_TOKEN
    assert {r[3] for r in known} == {"revoked"}
    with app.app_context():
        assert audit.verify_chain(db.session()).ok


def test_the_quota_for_all_addresses_together_and_the_hour_passing(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(access, "PER_ADDRESS", 2)
    monkeypatch.setattr(access, "ALL_UNKNOWN", 5)
    for n in range(10):  # 10 addresses, 3 tries each: the total caps them
        for _ in range(3):
            assert knock(app, "Bearer itk_nope", address=f"2001:db8::{n}") == 401
    rows = refusals(app)
    assert len(rows) == 5
    assert [r[1] for r in rows] == ["2001:db8::0"] * 2 + ["2001:db8::1"] * 2 + ["2001:db8::2"]
    assert caplog.text.count("refused token attempts this hour for all addresses") == 1
    assert caplog.text.count("refused token attempts this hour for address") == 2

    later = utcnow() + access.REFUSAL_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(access, "utcnow", lambda: later)
    assert knock(app, "Bearer itk_nope", address="2001:db8::0") == 401
    assert len(refusals(app)) == 6
