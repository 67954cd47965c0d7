"""Bad input is a clear 4xx on both databases (issue 16): NUL, over-long text and invalid UTF-8
in every path, query string, form field and read header, for every route in ``app.url_map``.

SQLite stores a NUL silently and PostgreSQL refuses it with a 500, so these tests use the ``app``
fixture: ``scripts/test`` runs them on PostgreSQL too, where the 500s were found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from intake import create_app, db
from intake.edge import client_address, without_unstorable
from intake.models import AuditEvent, LoginAttempt, UserSession
from tests.clinic_accounts import COOKIE, login, make_user
from tests.conftest import Invited, app_config, post_step

NUL = "a\x00b"
#: Longer than any String column (the longest is 255).
LONG = "x" * 1000
#: Percent-encoded bytes that are no UTF-8 (and an encoded lone surrogate), sent as they are.
INVALID_UTF8 = "%ff%fe%ed%a0%80"
#: Query parameters views read from ``request.args`` with no input on any page to find them by.
QUERY_NAMES = ("done", "ended", "t", "from", "to", "new", "notice", "next", "page", "state", "q")
ADMIN = "admin@example.org"
DOB = {"dob-day": "27", "dob-month": "3", "dob-year": "1980"}


def _quote(value: str) -> str:
    """``value`` for a query string or urlencoded body: NUL as %00, the encoded bytes as sent."""
    if value == INVALID_UTF8:
        return value
    return re.sub(r"[^A-Za-z0-9]", lambda m: f"%{ord(m.group()):02X}", value)


def _encoded(names: set[str], value: str) -> str:
    return "&".join(f"{_quote(name)}={_quote(value)}" for name in sorted(names))


@pytest.fixture
def everyone(
    app: Flask, client: FlaskClient, patient: Invited, submitted: Callable[..., str]
) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    """One browser signed in both as a patient and as an admin, and a value for every path
    variable of the url_map (a submitted intake, the first section, the admin's account)."""
    user_id = make_user(app, email=ADMIN, role="admin")
    assert login(client, email=ADMIN).status_code == 303
    values = {"public_id": submitted(), "section_id": "general", "user_id": str(user_id)}
    values |= {"token_id": "1", "questionnaire": "intake", "system_id": "x", "filename": "app.css"}
    yield client, values


def _routes(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) & {"GET", "POST"})
    ]


def _path(rule: Rule, values: dict[str, str], probe: str | None = None) -> str:
    """The rule's path; with ``probe``, every string variable holds it instead (quoted)."""
    path = rule.rule
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        value = values[name] if probe is None or converter == "IntegerConverter" else _quote(probe)
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
    return path


def _read(response: TestResponse) -> TestResponse:
    """Read a response whole and close it (a streamed CSV holds its request context till then)."""
    response.get_data()
    response.close()
    return response


def _field_names(client: FlaskClient, app: Flask, values: dict[str, str]) -> set[str]:
    """Every input name on every page a GET shows: what the forms send, found, not listed."""
    names: set[str] = set(QUERY_NAMES)
    for rule, method in _routes(app):
        if method == "GET" and rule.endpoint not in ("static", "patient.start"):
            response = _read(client.get(_path(rule, values)))
            if response.mimetype != "text/html":
                continue
            page = response.get_data(as_text=True)
            names |= set(re.findall(r'<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"', page))
    return names


def _keep_signed_in(app: Flask, client: FlaskClient, patient: Invited) -> None:
    """A probe that is accepted may sign out or submit: sign back in before the next one."""
    if client.get_cookie(COOKIE, path="/clinic") is None:
        assert _read(login(client, email=ADMIN)).status_code == 303
    if _read(client.get("/saved")).status_code == 401:
        # As conftest's sign_in, each response closed: an open one keeps its transaction.
        assert _read(client.get(f"/start?t={patient.token}")).status_code == 303
        assert _read(client.post("/verify", data=DOB)).status_code == 303


@pytest.mark.usefixtures("shared_pdf")
@pytest.mark.parametrize("probe", [NUL, LONG, INVALID_UTF8], ids=["nul", "long", "invalid-utf8"])
def test_every_route_refuses_or_serves_bad_text_and_never_fails(
    app: Flask,
    everyone: tuple[FlaskClient, dict[str, str]],
    patient: Invited,
    probe: str,
) -> None:
    """Each route and method of the url_map, with the probe in every query parameter and form
    field any page has, then in its path: a NUL is a 400, the rest never a 5xx."""
    client, values = everyone
    names = _field_names(client, app, values)
    failures = []
    for rule, method in _routes(app):
        plain = _read(client.open(_path(rule, values), method=method)).status_code
        for path in {_path(rule, values), _path(rule, values, probe)}:
            _keep_signed_in(app, client, patient)
            url = f"{path}?{_encoded(names, probe)}"
            body = _encoded(names, probe) if method == "POST" else None
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            response = _read(client.open(url, method=method, data=body, headers=headers))
            wanted = {400} if probe == NUL else {*range(200, 500), plain}
            if response.status_code not in wanted:
                failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, failures


def _refused(response: TestResponse, text: str = "Nothing typed on that page was saved") -> str:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert text in page
    assert "\x00" not in page
    return page


def test_a_nul_in_the_sign_in_email_is_a_clinic_page_400(app: Flask, client: FlaskClient) -> None:
    """Anonymous: the first request an outside test sent; it used to be a 500 on PostgreSQL."""
    page = _refused(login(client, email="dr\x00@example.org"))
    assert 'href="/clinic/"' in page  # a way back
    with app.app_context():
        assert db.session().scalars(select(LoginAttempt)).all() == []


def test_a_nul_in_the_worklist_search_or_the_audit_filter_is_a_400(
    app: Flask, client: FlaskClient
) -> None:
    make_user(app, email=ADMIN, role="admin")
    assert login(client, email=ADMIN).status_code == 303
    _refused(client.get("/clinic/?q=a%00b"))
    _refused(client.get("/clinic/admin/audit?user=a%00b%40example.org"))
    _refused(client.post("/clinic/admin/users", data={"email": "a\x00@example.org"}))
    _refused(client.post("/clinic/admin/api-tokens", data={"name": "a\x00b", "days": "30"}))


def test_a_nul_in_an_invitation_field_is_that_field_s_message(
    app: Flask, client: FlaskClient
) -> None:
    """The invitation form checks every field itself (the edge leaves its body to it)."""
    make_user(app)
    assert login(client).status_code == 303
    data = {"family_name": "Doe", "mrn": "12\x0034", "date_of_birth": "1980-03-27"}
    response = client.post("/clinic/invitations/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "letters, numbers and punctuation only" in page
    assert 'value="1234"' in page
    assert "\x00" not in page


def test_a_nul_in_an_api_path_or_query_is_an_operation_outcome(client: FlaskClient) -> None:
    for url in ("/clinic/api/v1/intakes/a%00b/bundle", "/fhir/Questionnaire/intake?x=%00"):
        response = client.get(url)
        assert response.status_code == 400
        assert response.mimetype == "application/fhir+json"
        assert response.json is not None
        assert response.json["issue"][0]["code"] == "invalid"


def test_a_nul_in_a_read_header_is_a_400(client: FlaskClient) -> None:
    response = client.get("/clinic/api/v1/intakes/x/bundle", headers={"Authorization": "Bearer \0"})
    assert response.status_code == 400


def test_a_nul_in_the_date_of_birth_is_a_patient_page_400(
    client: FlaskClient, invite: Callable[..., Invited]
) -> None:
    invited = invite()
    assert client.get(f"/start?t={invited.token}").status_code == 303
    page = _refused(client.post("/verify", data={**DOB, "dob-day": "2\x007"}), "Nothing from")
    assert 'href="/welcome"' in page


def test_a_nul_in_one_answer_is_that_field_s_message_and_is_not_shown_back(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The step form checks NUL per field (the edge leaves its body to it): the page comes back
    with the message, the rest saved, and the answer as typed minus the NUL."""
    answers = {"general.completed_by": "self", "general.main_concerns": "tired\x00 all day"}
    response = post_step(client, "general", answers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "hidden character (NUL)" in page
    assert "tired all day" in page
    assert "\x00" not in page


def test_a_nul_in_the_step_page_s_date_of_birth_is_not_shown_back(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """After the session expired (here: another browser with the page's resume ticket), the
    step page asks for the date of birth again and shows what was typed, minus the NUL."""
    page = client.get("/step/general").get_data(as_text=True)
    ticket = re.search(r'name="_resume" value="([^"]+)"', page)
    assert ticket is not None
    data = {**DOB, "dob-day": "2\x007", "_resume": ticket.group(1), "action": "next"}
    response = app.test_client().post("/step/general", data=data)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'value="27"' in page
    assert "\x00" not in page


@pytest.fixture
def proxied(app: Flask) -> Iterator[Flask]:
    """The same database behind one proxy (PROXY_HOPS=1): the address is X-Forwarded-For's."""
    behind = create_app({**app_config(app.config["DATABASE_URL"]), "PROXY_HOPS": 1})
    yield behind
    with behind.app_context():
        db.session().close()
        db.engine().dispose()


@pytest.mark.parametrize(
    ("forwarded", "stored"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("1" * 65, "192.0.2.99"),
        ("fe80::1%" + "e" * 70, "192.0.2.99"),
        ("not-an-address", "192.0.2.99"),
        ("203.0.113.7\x00", "192.0.2.99"),
    ],
)
def test_the_forwarded_address_is_stored_valid_and_bounded_or_the_proxy_s(
    proxied: Flask, forwarded: str, stored: str
) -> None:
    """Sign-in attempts, sessions and audit rows get a valid address: a bad header falls back
    to the proxy that connected, so the per-address sign-in limit still counts it."""
    make_user(proxied)
    client = proxied.test_client()
    response = client.post(
        "/clinic/login",
        data={"email": "dr.ada@example.org", "password": "plum tractor violin 42"},
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": "192.0.2.99"},
    )
    assert response.status_code == 303
    with proxied.app_context():
        tx = db.session()
        assert tx.scalars(select(LoginAttempt.address)).all() == [stored]
        assert tx.scalars(select(UserSession.address)).all() == [stored]
        assert set(tx.scalars(select(AuditEvent.address))) == {stored}


@pytest.mark.no_database
def test_client_address_is_canonical_and_fits_the_column() -> None:
    assert client_address(" 2001:db8::0 ") == "2001:db8::0"
    assert client_address("192.0.2.1, 192.0.2.2") is None
    assert client_address("fe80::1%eth0") == "fe80::1%eth0"
    assert client_address("fe80::1%" + "e" * 64) is None
    assert client_address("") is None
    assert client_address(None) is None


@pytest.mark.no_database
def test_pages_never_show_a_nul_back_and_markup_stays_markup() -> None:
    from markupsafe import Markup

    cleaned = without_unstorable(Markup("<b>a\x00b\ud800</b>"))
    assert cleaned == Markup("<b>ab</b>")
    assert isinstance(cleaned, Markup)
    assert without_unstorable(3) == 3


def test_damaged_bytes_and_a_hidden_character_each_get_their_own_message(
    client: FlaskClient, invite: Callable[..., Invited]
) -> None:
    """Bytes that are no UTF-8 are not a hidden character the patient pasted: retyping is not
    the remedy, and the page does not say it is."""
    invited = invite()
    assert client.get(f"/start?t={invited.token}").status_code == 303
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    damaged = client.post("/verify", data="dob-day=2%ff7&dob-month=3&dob-year=1980", headers=form)
    page = _refused(damaged, "Nothing from that page was saved")
    assert "arrived damaged" in page and "send the page again" in page
    assert "hidden character" not in page and "instead of pasting" not in page
    nul = _refused(client.post("/verify", data={**DOB, "dob-day": "2\x007"}), "Nothing from")
    assert "hidden character" in nul and "instead of pasting" in nul
    assert "arrived damaged" not in nul
    both = client.post("/verify", data="dob-day=2%007&dob-month=%ff&dob-year=1980", headers=form)
    page = _refused(both, "Nothing from that page was saved")
    assert "hidden character" in page and "arrived damaged" in page


def test_damaged_bytes_on_a_clinic_page_get_their_own_message(
    app: Flask, client: FlaskClient
) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    page = _refused(client.post("/clinic/login", data="email=dr%ff%40example.org", headers=form))
    assert "arrived damaged" in page and "(NUL)" not in page
