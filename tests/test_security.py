"""Baseline protection of patient data: links, sessions, CSRF, headers, limits, escaping."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from forms.logic import Visibility, branch_enabled, hidden_reason
from forms.schema import NON_ANSWERS, NONE_CODES, Catalog, Condition, Item
from intake import create_app, db
from intake.clock import utcnow
from intake.config import ConfigError
from intake.db import Base
from intake.intakes.invitations import create_invitation, find_by_public_id
from intake.tokens import hash_token
from tests.conftest import Invited, load_intake, post_step, sign_in

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "{{ 7*7 }}",
]


def test_link_token_is_long_random_and_only_its_hash_is_stored(app: Flask, invite) -> None:  # type: ignore[no-untyped-def]
    invited = invite()
    assert len(invited.token) >= 43  # 32 random bytes, URL-safe base64
    intake = load_intake(app, invited.public_id)
    assert intake.token_hash == hash_token(invited.token)
    assert invited.token not in repr(intake.__dict__)


def test_opening_the_link_moves_to_a_token_free_url_and_asks_the_date_of_birth(
    client: FlaskClient,
    invite,  # type: ignore[no-untyped-def]
) -> None:
    invited = invite()
    response = client.get(f"/start?t={invited.token}")
    assert response.status_code == 303
    assert response.location == "/verify"
    assert invited.token not in response.headers.get("Set-Cookie", "")
    page = client.get("/verify").get_data(as_text=True)
    assert "date of birth" in page
    assert "Jane" not in page  # nothing about the patient before the check
    assert client.get("/step/general").status_code == 401
    assert client.get("/review").status_code == 401


def test_wrong_date_of_birth_locks_the_link_and_says_whom_to_contact(
    app: Flask,
    client: FlaskClient,
    invite,  # type: ignore[no-untyped-def]
) -> None:
    invited = invite()
    client.get(f"/start?t={invited.token}")
    wrong = {"dob-day": 1, "dob-month": 1, "dob-year": 1990}
    for left in ("4 tries", "3 tries", "2 tries", "1 try"):
        response = client.post("/verify", data=wrong)
        assert response.status_code == 422
        assert f"You have {left} left." in response.get_data(as_text=True)
    locked = client.post("/verify", data=wrong)
    assert locked.status_code == 423
    assert "contact" in locked.get_data(as_text=True)
    # Even the right date no longer opens it, from this browser or another.
    assert (
        client.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980}).status_code
        == 423
    )
    assert app.test_client().get(f"/start?t={invited.token}").status_code == 423


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("27", "3", "80", "Enter the year with all 4 digits"),
        ("27", "3", "198", "Enter the year with all 4 digits"),
        ("27", "3", "0980", "Enter the year with all 4 digits"),
        ("27", "3", "2999", "That date is in the future"),
        ("31", "2", "1980", "Enter your date of birth as numbers"),
        ("27", "March", "1980", "Enter your date of birth as numbers"),
        ("", "", "", "Enter your date of birth as numbers"),
    ],
)
def test_a_date_that_cannot_be_a_birth_date_is_explained_and_not_counted(
    app: Flask,
    client: FlaskClient,
    invite,  # type: ignore[no-untyped-def]
    day: str,
    month: str,
    year: str,
    message: str,
) -> None:
    """A tired patient types "80" for 1980: that is a slip to explain, not a try at the lock."""
    invited = invite()
    client.get(f"/start?t={invited.token}")
    slip = {"dob-day": day, "dob-month": month, "dob-year": year}
    for _ in range(6):  # more slips than the tries a link allows
        response = client.post("/verify", data=slip)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and "tries left" not in page
        assert f'value="{year}"' in page  # kept, to correct
    assert load_intake(app, invited.public_id).dob_failures == 0
    right = client.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980})
    assert right.status_code == 303


def test_unknown_and_expired_links_are_refused(app: Flask, client: FlaskClient, invite) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/start?t=not-a-real-token").status_code == 404
    invited = invite()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, invited.public_id)
        assert intake is not None
        intake.token_expires_at = utcnow() - timedelta(minutes=1)
    response = client.get(f"/start?t={invited.token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_a_patient_session_reaches_only_its_own_intake(
    app: Flask, client: FlaskClient, invite
) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = invite(), invite(name="Other Person")
    sign_in(client, mine)
    client.post(
        "/step/general",
        data={
            "_resume": "not-a-ticket",
            "_shown": "general.course",
            "general.course": "worse",
            "_version": "0",
        },
    )
    assert load_intake(app, theirs.public_id).answers == {}
    assert load_intake(app, mine.public_id).answers == {"general.course": "worse"}


@pytest.fixture
def csrf_app(tmp_path: Path) -> Flask:
    from intake.db import Base

    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'csrf.sqlite3'}",
        }
    )
    with app.app_context():
        Base.metadata.create_all(db.engine())
    return app


@pytest.mark.own_database
def test_csrf_is_enforced_and_a_stale_token_keeps_the_input(csrf_app: Flask) -> None:
    from datetime import date

    from intake.intakes.invitations import create_invitation

    with csrf_app.app_context(), db.transaction() as tx:
        new = create_invitation(tx, "Jane Doe", date(1980, 3, 27))
    client = csrf_app.test_client()
    client.get(f"/start?t={new.token}")
    page = client.get("/verify").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert (
        client.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980}).status_code
        == 400
    )
    assert (
        client.post(
            "/verify", data={"csrf_token": token, "dob-day": 27, "dob-month": 3, "dob-year": 1980}
        ).status_code
        == 303
    )
    typed = "My words, typed slowly"
    response = client.post(
        "/step/general",
        data={
            "csrf_token": "stale",
            "_shown": "general.main_concerns",
            "general.main_concerns": typed,
            "_version": "0",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "press the button again" in page
    assert typed in page
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    again = client.post(
        "/step/general",
        data={
            "csrf_token": fresh,
            "_shown": "general.main_concerns",
            "general.main_concerns": typed,
            "_version": "0",
        },
    )
    assert again.status_code == 303


def test_an_expired_session_keeps_the_input_and_saves_after_the_date_of_birth(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    page = client.get("/step/general").get_data(as_text=True)
    ticket = re.search(r'name="_resume" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    fresh_browser = app.test_client()  # no session cookie: as after the session ran out
    typed = {
        "_resume": ticket,
        "_shown": ["general.main_concerns"],
        "general.main_concerns": "Flushing after hot showers",
        "_version": "0",
    }
    response = fresh_browser.post("/step/general", data=typed)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "Flushing after hot showers" in page
    assert 'name="dob-day"' in page
    assert load_intake(app, patient.public_id).answers == {}
    assert "There is a problem" not in page  # no date typed yet: nothing to complain about

    # A slip and a wrong date are each explained beside the date, with the answers still there.
    for dob, message in (
        ({"dob-day": 27, "dob-month": 3, "dob-year": 80}, "Enter the year with all 4 digits"),
        # The page's own tries (3), not the link's: a wrong date here never locks the link.
        ({"dob-day": 1, "dob-month": 1, "dob-year": 1990}, "You have 2 tries left."),
    ):
        again = fresh_browser.post("/step/general", data={**typed, **dob})
        assert again.status_code == 401
        page = again.get_data(as_text=True)
        assert message in page and 'id="dob-error"' in page
        assert "Flushing after hot showers" in page
    assert load_intake(app, patient.public_id).answers == {}
    assert load_intake(app, patient.public_id).dob_failures == 0

    saved = fresh_browser.post(
        "/step/general", data={**typed, "dob-day": 27, "dob-month": 3, "dob-year": 1980}
    )
    assert saved.status_code == 303
    assert load_intake(app, patient.public_id).answers == {
        "general.main_concerns": "Flushing after hot showers"
    }


def test_security_headers_and_cookie_flags(client: FlaskClient, patient: Invited) -> None:
    response = client.get("/step/general")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assert "<script>" not in page and " style=" not in page  # nothing inline for the CSP to block
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # nothing from another site


#: Every response's security headers, in order, exactly as the service has always sent them
#: (Flask-Talisman 1.1 sent them until intake.security took over).
HEADERS = [
    ("Permissions-Policy", "browsing-topics=()"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'",
    ),
]
HSTS = ("Strict-Transport-Security", "max-age=31556926; includeSubDomains")
REFERRER = ("Referrer-Policy", "same-origin")


def _production_app(tmp_path: Path) -> Flask:
    return create_app(
        {
            "INTAKE_ENV": "production",
            "SECRET_KEY": "prod-secret-0123456789abcdef-0123456789",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}",
        }
    )


def _security_headers(response: TestResponse) -> list[tuple[str, str]]:
    names = {name for name, _ in [*HEADERS, HSTS, REFERRER]}
    return [(name, value) for name, value in response.headers.items() if name in names]


@pytest.mark.own_database
@pytest.mark.parametrize(
    ("base_url", "headers", "hsts"),
    [
        ("https://localhost", {}, True),
        # A TLS proxy that says so, even when PROXY_HOPS is not set (HSTS over HTTP is ignored).
        ("http://localhost", {"X-Forwarded-Proto": "https"}, True),
        ("http://localhost", {}, False),
    ],
)
def test_production_sends_hsts_only_to_https_and_the_same_headers_everywhere(
    tmp_path: Path, base_url: str, headers: dict[str, str], hsts: bool
) -> None:
    client = _production_app(tmp_path).test_client()
    expected = [*HEADERS, *([HSTS] if hsts else []), REFERRER]
    for path in ("/healthz", "/static/app.css", "/clinic/login", "/no-such-page"):
        with client.get(path, base_url=base_url, headers=headers) as response:
            assert _security_headers(response) == expected, path
    # Plain HTTP is never redirected: TLS is the reverse proxy's job (README).
    assert client.get("/clinic/login", base_url=base_url, headers=headers).status_code == 200


def test_outside_production_no_hsts_even_over_https(client: FlaskClient) -> None:
    response = client.get("/healthz", base_url="https://localhost")
    assert _security_headers(response) == [*HEADERS, REFERRER]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_view_cannot_loosen_the_security_headers(app: Flask) -> None:
    @app.get("/_framed")
    def framed() -> tuple[str, dict[str, str]]:
        return "", {"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "max-age=60"}

    response = app.test_client().get("/_framed")
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    assert response.headers["Cache-Control"] == "max-age=60"  # a view may choose its caching


def _patient_cookie(response: TestResponse) -> Morsel[str]:
    """The patient session cookie a response sets, with its attributes, as the browser reads it."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("intake_session=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    return jar["intake_session"]


def test_the_patient_cookie_is_httponly_lax_and_ends_with_the_visit(
    client: FlaskClient,
    invite,  # type: ignore[no-untyped-def]
) -> None:
    invited = invite()
    opened = client.get(f"/start?t={invited.token}")
    assert opened.status_code == 303
    cookie = _patient_cookie(opened)  # before the date of birth: a session for this browser only
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["expires"] and not cookie["max-age"]  # ends when the browser closes
    dob = invited.dob
    verified = client.post(
        "/verify", data={"dob-day": dob.day, "dob-month": dob.month, "dob-year": dob.year}
    )
    assert verified.status_code == 303
    cookie = _patient_cookie(verified)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    # Signed in, still a browser-session cookie: it lived 4 hours, past a closed browser.
    assert not cookie["expires"] and not cookie["max-age"]
    assert invited.token not in verified.headers["Set-Cookie"]


@pytest.mark.own_database
def test_session_cookie_is_httponly_lax_and_secure_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "prod-secret-0123456789abcdef-0123456789")
    monkeypatch.delenv("INTAKE_ENV", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert app.config["INTAKE_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # What a patient's browser is really sent, over HTTPS, with CSRF on as in production.
    with app.app_context():
        Base.metadata.create_all(db.engine())
        with db.transaction() as tx:
            token = create_invitation(tx, "Jane Doe", date(1980, 3, 27)).token
    client = app.test_client()
    https = "https://localhost"
    opened = client.get(f"/start?t={token}", base_url=https)
    assert opened.status_code == 303
    assert _patient_cookie(opened)["secure"]
    page = client.get("/verify", base_url=https).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    verified = client.post(
        "/verify",
        base_url=https,
        headers={"Referer": f"{https}/verify"},
        data={"csrf_token": csrf[1], "dob-day": 27, "dob-month": 3, "dob-year": 1980},
    )
    assert verified.status_code == 303, verified.get_data(as_text=True)
    cookie = _patient_cookie(verified)
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["expires"] and not cookie["max-age"]
    with app.app_context():
        db.engine().dispose()


def test_production_refuses_to_start_without_a_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("INTAKE_ENV", raising=False)
    # Nor from instance/secret_key, which scripts/serve writes into this very checkout.
    monkeypatch.setattr("intake.config._secret_key_file", lambda _path: None)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"})


def test_oversized_and_chunked_bodies_are_refused(client: FlaskClient, patient: Invited) -> None:
    big = {"general.main_concerns": "x" * (300 * 1024), "_shown": "general.main_concerns"}
    refused = client.post("/step/general", data=big)
    assert refused.status_code == 413
    page = refused.get_data(as_text=True)  # the service's own page, with a way back
    assert (
        "This page was too large to send" in page and "Everything you saved before is kept" in page
    )
    assert 'href="/step/general"' in page
    assert refused.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert refused.headers["X-Frame-Options"] == "DENY"
    chunked = client.post(
        "/step/general",
        data=b"a=1",
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert chunked.status_code == 411


def _gate_depth(catalog: Catalog, item: Item) -> int:
    if item.enable_when is None:
        return 0
    return 1 + max(_gate_depth(catalog, catalog.item(c.item)) for c in item.enable_when.conditions)


def _free_text_answers() -> dict[str, str]:
    """One payload in every free-text box of the catalog, top-level and in list rows."""
    data: dict[str, str] = {}
    for n, item in enumerate(get_catalog().items()):
        payload = PAYLOADS[n % len(PAYLOADS)]
        if item.type == "text":
            data[item.id] = payload
        for f in item.fields:
            if f.type == "text":
                data[f"{item.id}-0-{f.id}"] = payload
    return data


def _opening_answers(catalog: Catalog, items: Iterable[Item]) -> dict[str, Any]:
    """Answers to the gates that show each of ``items``, read from the catalog's enable-when
    conditions and followed up the chain (a gate may have a gate of its own)."""
    answers: dict[str, Any] = {}

    def code_for(condition: Condition, gate: Item) -> str:
        if condition.op == "!=":
            return next(c for c in gate.codes if c not in (*condition.answers, *NON_ANSWERS))
        return next(c for c in condition.answers if c not in (*NON_ANSWERS, *NONE_CODES))

    def open_up(item: Item) -> None:
        if item.enable_when is None or branch_enabled(catalog, item, answers):
            return
        for condition in item.enable_when.conditions:
            gate = catalog.item(condition.item)
            if gate.type == "multi":
                answers[gate.id] = [*answers.get(gate.id, []), code_for(condition, gate)]
            elif gate.id not in answers:
                answers[gate.id] = code_for(condition, gate)
            else:
                continue  # a single choice already given for another question: try the next
            open_up(gate)
            return

    for item in items:
        open_up(item)
    return answers


def test_markup_in_every_free_text_field_is_inert_on_the_review_page(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    catalog = get_catalog()
    payloads = _free_text_answers()
    boxes = [
        i for i in catalog.items() if i.type == "text" or any(f.type == "text" for f in i.fields)
    ]
    gates = _opening_answers(catalog, boxes)
    everything = Visibility(detail_sections=frozenset(s.id for s in catalog.sections))
    shown = {i.id for i in boxes if hidden_reason(catalog, i, gates, everything) is None}
    # Every box the patient can ever see is reached (the clinic's opt-in questions are off).
    assert shown == {i.id for i in boxes if not i.clinic_opt_in}
    depth = max(_gate_depth(catalog, i) for i in boxes)
    for section in catalog.sections:
        post_step(client, section.id, {}, action="more")
        ours = {k: v for k, v in gates.items() if k.startswith(section.id + ".")}
        for _ in range(depth + 1):  # each save shows the next level of follow-up questions
            post_step(
                client,
                section.id,
                {**ours, **{k: v for k, v in payloads.items() if k.startswith(section.id + ".")}},
            )
    stored = load_intake(app, patient.public_id).answers
    texts = {k for k, v in stored.items() if isinstance(v, str) and v in PAYLOADS}
    assert texts == {i for i in shown if catalog.item(i).type == "text"}
    rows = {k for k, v in stored.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    assert {i for i in shown if catalog.item(i).type == "list"} <= rows
    for item_id in rows & shown:
        (row,) = stored[item_id]
        for f in catalog.item(item_id).fields:
            if f.type == "text":
                assert row[f.id] == payloads[f"{item_id}-0-{f.id}"], (item_id, f.id)
    page = client.get("/review").get_data(as_text=True)
    for payload in PAYLOADS[:3]:
        assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" not in page and "<img" not in page
    # Attribute values hold random tokens (a CSRF token may contain "49"): look at the rest.
    assert "{{ 7*7 }}" in page and "49" not in re.sub(r'value="[^"]*"', "", page)


def test_the_generated_key_file_is_used_when_no_key_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("INTAKE_ENV", raising=False)
    key = "from-the-file-" + "0123456789abcdef" * 2
    (tmp_path / "secret_key").write_text(key + "\n")
    assert load_config(tmp_path)["SECRET_KEY"] == key


def test_the_public_id_alone_does_not_sign_a_browser_in(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The intake id is not secret; without the page's signed ticket the date of birth is not enough."""
    page = client.get("/step/general").get_data(as_text=True)
    ticket = re.search(r'name="_resume" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    dob = {"dob-day": 27, "dob-month": 3, "dob-year": 1980, "_shown": ["general.course"],
           "general.course": "worse", "_version": "0"}  # fmt: skip
    for forged in (patient.public_id, ticket[:-2] + "xx", ""):
        stranger = app.test_client()
        refused = stranger.post("/step/general", data={**dob, "_resume": forged})
        assert refused.status_code == 401
        page = refused.get_data(as_text=True)
        assert "This page could not be saved" in page and 'name="dob-day"' not in page
    # A reissued link ends the old page's ticket too.
    with app.app_context(), db.transaction() as tx:
        from intake.intakes.invitations import reissue_invitation

        intake = find_by_public_id(tx, patient.public_id)
        assert intake is not None
        reissue_invitation(intake, 14)
    stranger = app.test_client()
    refused = stranger.post("/step/general", data={**dob, "_resume": ticket})
    assert refused.status_code == 410
    assert "Your clinic sent you a new link" in refused.get_data(as_text=True)
    assert "general.course" not in load_intake(app, patient.public_id).answers


def test_date_of_birth_tries_sent_in_parallel_each_count(app: Flask, invite) -> None:  # type: ignore[no-untyped-def]
    """A script firing wrong dates at once must not slip past the lock by lost updates."""
    invited = invite()
    opener = app.test_client()
    opener.get(f"/start?t={invited.token}")
    # pytest-flask keeps an app context pushed in this thread, so the request above left its
    # session (and SQLite's write lock) open; end it as a finished request would.
    app.extensions["db_session"].remove()
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = opener.get_cookie(name)
    assert cookie is not None
    wrong = {"dob-day": 1, "dob-month": 1, "dob-year": 1990}
    tries = 12
    start = threading.Barrier(tries)

    def guess(_: int) -> int:
        client = app.test_client()
        client.set_cookie(name, cookie.value)
        start.wait()
        return client.post("/verify", data=wrong).status_code

    with ThreadPoolExecutor(tries) as pool:
        codes = list(pool.map(guess, range(tries)))
    attempts = app.config["DOB_ATTEMPTS"]
    assert codes.count(422) == attempts - 1  # each try counted until the lock
    assert codes.count(423) == tries - attempts + 1
    intake = load_intake(app, invited.public_id)
    assert intake.dob_failures == attempts and intake.locked_at is not None


def test_behind_a_proxy_the_client_address_and_scheme_come_from_its_headers(
    tmp_path: Path,
) -> None:
    app = create_app(
        {
            "INTAKE_ENV": "testing",
            "SECRET_KEY": "k-0123456789abcdef-0123456789abcdef",
            "PROXY_HOPS": 1,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
        }
    )
    seen: dict[str, object] = {}

    @app.get("/_probe")
    def probe() -> str:
        from flask import request

        seen.update(address=request.remote_addr, secure=request.is_secure)
        return ""

    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    app.test_client().get("/_probe", headers=headers)
    assert seen == {"address": "203.0.113.7", "secure": True}


@pytest.mark.parametrize("env", ["Production", "prod", "PRODUCTION ", "staging"])
def test_an_unknown_intake_env_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    """A typo must not start the service without production's HSTS, Secure cookies and key."""
    from intake.config import load_config

    monkeypatch.setenv("INTAKE_ENV", env)
    with pytest.raises(
        ConfigError, match="INTAKE_ENV must be one of production, development, testing"
    ):
        load_config(tmp_path)


@pytest.mark.parametrize("key", ["x", "k" * 64, "short-but-varied-key"])
def test_production_refuses_a_guessable_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    from intake.config import load_config

    monkeypatch.delenv("INTAKE_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="too short or too plain"):
        load_config(tmp_path)
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    assert load_config(tmp_path)["INTAKE_ENV"] == "production"


@pytest.mark.own_database
def test_production_forces_debug_off_whatever_flask_debug_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.delenv("INTAKE_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite3'}"})
    assert app.config["INTAKE_ENV"] == "production"
    assert app.debug is False
    assert app.test_client().get("/no-such-page").status_code == 404
    development = create_app(
        {"INTAKE_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'd.sqlite3'}"}
    )
    assert development.debug is True  # the same environment outside production keeps it


@pytest.mark.own_database
def test_the_sqlite_database_is_readable_by_its_owner_alone(tmp_path: Path) -> None:
    """Made 0600 when new, and narrowed when an earlier version left it 0644; its WAL too."""
    from intake.db import make_engine

    fresh = tmp_path / "new" / "intake.sqlite3"
    old = tmp_path / "old.sqlite3"
    old.touch(mode=0o644)
    old.chmod(0o644)
    for path in (fresh, old):
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
        for file in (path, path.with_name(path.name + "-wal")):
            assert file.stat().st_mode & 0o777 == 0o600, (file, oct(file.stat().st_mode))
        engine.dispose()


def test_production_refuses_to_start_without_an_audit_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key that signs the audit log is required, and must not be the session key."""
    from intake.config import load_config

    monkeypatch.delenv("INTAKE_ENV", raising=False)
    key = secrets.token_hex(32)
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.delenv("AUDIT_KEY")
    monkeypatch.setattr("intake.config._secret_key_file", lambda _path, _name="": None)
    with pytest.raises(ConfigError, match="AUDIT_KEY is not set"):
        load_config(tmp_path)
    monkeypatch.setenv("AUDIT_KEY", key)
    with pytest.raises(ConfigError, match="AUDIT_KEY must differ from SECRET_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("AUDIT_KEY", secrets.token_hex(32))
    assert load_config(tmp_path)["AUDIT_KEY"] != key
