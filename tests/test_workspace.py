"""The clinician workspace: invitations from the web (link, QR, revoke, new link), the worklist
(states, filters, search, pages), the intake page, the PDF download, review, and their audit rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import JSON, insert, select, text
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from intake import db, migrate
from intake.clock import utcnow
from intake.config import load_config
from intake.db import Base
from intake.intakes import states
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.intakes.invitations import Patient, find_by_public_id, invite_patient
from intake.intakes.submissions import submit_intake
from intake.models import AuditEvent, Intake
from intake.reads.worklist import PAGE_SIZE, state_condition
from tests.clinic_accounts import EMAIL, assert_to_login, login, make_user
from tests.conftest import Invited, load_intake, run_jobs
from tests.mixed import MIXED_DETAIL, MIXED_GLANCE, mixed_answers

TOMORROW = date.today() + timedelta(days=1)
DOB = date(1980, 3, 27)
ADDRESS = "192.0.2.1"


# --- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def clinic(app: Flask, client: FlaskClient) -> int:
    """A clinician signed in on ``client``; returns the account's id."""
    user_id = make_user(app)
    assert login(client).status_code == 303
    return user_id


def invite_form(**changes: Any) -> dict[str, Any]:
    form = {
        "given_name": "Jane Mary",
        "family_name": "de la Cruz",
        "date_of_birth": DOB.isoformat(),
        "mrn": "MRN-77",
        "appointment_date": TOMORROW.isoformat(),
        "appointment_time": "14:30",
        "valid_days": "14",
    }
    form.update(changes)
    return form


def invite_via_web(client: FlaskClient, **changes: Any) -> tuple[str, str, str]:
    """Post the invitation form; returns (public id, link token, page HTML)."""
    response = client.post(
        "/clinic/invitations/new",
        data=invite_form(**changes),
        environ_base={"REMOTE_ADDR": ADDRESS},
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:2000]
    html = response.get_data(as_text=True)
    token = re.search(r'id="patient-link" type="text" value="[^"]*/start\?t=([^"]+)"', html)
    public_id = re.search(r'href="/clinic/intakes/([0-9A-Z-]{14})"', html)
    assert token and public_id, html
    return public_id.group(1), token.group(1), html


def open_link(app: Flask, token: str, dob: date = DOB) -> tuple[FlaskClient, TestResponse]:
    """A patient in another browser opens the link and types the date of birth."""
    patient = app.test_client()
    start = patient.get(f"/start?t={token}")
    if start.status_code != 303:
        return patient, start
    verify = patient.post(
        "/verify", data={"dob-day": dob.day, "dob-month": dob.month, "dob-year": dob.year}
    )
    return patient, verify


def audit_actions(app: Flask, public_id: str) -> list[tuple[str, str, str | None, str]]:
    with app.app_context():
        rows = db.session().execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.address, AuditEvent.outcome)
            .where(AuditEvent.intake_public_id == public_id)
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def make_intake(
    app: Flask,
    family: str = "Doe",
    given: str = "Jane",
    *,
    appointment: datetime | None = None,
    mrn: str | None = None,
    **facts: Any,
) -> str:
    """An intake made directly through the service, with any columns set afterwards."""
    with app.app_context(), db.transaction() as tx:
        new = invite_patient(
            tx,
            Patient(given, family, DOB, mrn),
            14,
            appointment_at=appointment
            or datetime.combine(TOMORROW, time(9), tzinfo=ZoneInfo("UTC")),
        )
        for name, value in facts.items():
            setattr(new.intake, name, value)
        return new.intake.public_id


def submit_demo(
    app: Flask,
    public_id: str,
    answers: dict[str, Any] | None = None,
    detail: Iterable[str] | None = None,
) -> None:
    """The patient answered everything (the demo answers, unless given) and sent it; the PDF
    is stored."""
    catalog = get_catalog()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.answers = demo_answers(catalog) if answers is None else answers
        intake.detail_sections = sorted(demo_detail_sections(catalog) if detail is None else detail)
        intake.sections_saved = [s.id for s in catalog.sections]
        intake.opened_at = utcnow()
        submit_intake(tx, intake)
    assert run_jobs(app) == 1  # the worker's render


def badge_of(html: str, public_id: str) -> str:
    """The status cell text of one worklist row."""
    row = re.search(rf'/clinic/intakes/{public_id}".*?</tr>', html, re.S)
    assert row, f"{public_id} not on the page"
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", cells[-1]).split())


def ids_on(html: str) -> list[str]:
    return re.findall(
        r'<th scope="row" class="who"><a href="/clinic/intakes/([0-9A-Z-]{14})"', html
    )


# --- invitations ---------------------------------------------------------------------------------
def test_an_invitation_from_the_web_gives_a_working_link_once(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    assert client.get("/clinic/invitations/new").status_code == 200
    public_id, token, html = invite_via_web(client)

    assert "<svg" in html and 'class="segno"' in html  # the QR code, drawn on the server
    assert "shown only this once" in html
    with app.app_context():
        intake = find_by_public_id(db.session(), public_id)
        assert intake is not None
        assert (intake.given_name, intake.family_name, intake.mrn) == (
            "Jane Mary",
            "de la Cruz",
            "MRN-77",
        )
        assert intake.created_by_id == clinic
        assert intake.appointment_at is not None
        assert intake.appointment_at.replace(tzinfo=None) == datetime.combine(
            TOMORROW, time(14, 30)
        )
        assert token not in (intake.token_hash, intake.public_id)  # only the hash is kept
    assert audit_actions(app, public_id) == [(f"user:{clinic}", "invitation.create", ADDRESS, "ok")]

    patient, verified = open_link(app, token)
    assert verified.status_code == 303 and verified.location == "/welcome"
    assert patient.get("/welcome").status_code == 200


def test_the_appointment_is_typed_in_the_clinic_time_zone(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    app.config["INTAKE_TIMEZONE"] = "Europe/Berlin"
    winter = date(date.today().year + 1, 1, 15)
    public_id, _, _ = invite_via_web(client, appointment_date=winter.isoformat())
    intake = load_intake(app, public_id)
    assert intake.appointment_at is not None
    assert intake.appointment_at.replace(tzinfo=None) == datetime.combine(winter, time(13, 30))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family_name": ""}, "Enter the family name."),
        ({"date_of_birth": (date.today() + timedelta(days=2)).isoformat()}, "must be in the past"),
        ({"date_of_birth": "27.03.1980"}, "Enter the date of birth as a full date."),
        ({"appointment_date": "2001-01-01"}, "The appointment date is in the past."),
        ({"appointment_time": ""}, "Enter the appointment time"),
        ({"valid_days": "0"}, "from 1 to 90"),
        ({"family_name": "Doe\x00"}, "letters, numbers and punctuation only"),
    ],
)
def test_the_invitation_form_explains_what_is_wrong(
    app: Flask, client: FlaskClient, clinic: int, changes: dict[str, str], message: str
) -> None:
    response = client.post("/clinic/invitations/new", data=invite_form(**changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().scalars(select(Intake)).first() is None


def test_a_revoked_link_is_refused_with_a_clear_page(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id, token, _ = invite_via_web(client)
    patient, _ = open_link(app, token)  # a patient already inside the form
    assert patient.get("/welcome").status_code == 200

    response = client.post(f"/clinic/intakes/{public_id}/revoke")
    assert response.status_code == 303
    assert "The link is revoked" in client.get(response.location).get_data(as_text=True)

    refused = app.test_client().get(f"/start?t={token}")
    assert refused.status_code == 410
    assert "The clinic has stopped this link" in refused.get_data(as_text=True)
    assert patient.get("/welcome").status_code == 401  # the open session ends too
    assert load_intake(app, public_id).state(utcnow()) == "revoked"
    assert ("invitation.revoke", "ok") in [(a, o) for _, a, _, o in audit_actions(app, public_id)]


def test_a_new_link_replaces_the_old_one_and_keeps_the_draft(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id, old_token, _ = invite_via_web(client)
    patient, _ = open_link(app, old_token)
    half_open = app.test_client()
    assert half_open.get(f"/start?t={old_token}").status_code == 303  # opened, DOB not typed yet
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.sections_saved = ["general"]
        intake.locked_at, intake.dob_failures = utcnow(), 5  # and then locked out

    response = client.post(f"/clinic/intakes/{public_id}/reissue", data={"valid_days": "3"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "The previous link no longer works." in html and "<svg" in html
    new_token = re.search(r'/start\?t=([^"]+)"', html)
    assert new_token and new_token.group(1) != old_token

    assert app.test_client().get(f"/start?t={old_token}").status_code == 404
    assert patient.get("/welcome").status_code == 401
    verify = half_open.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980})
    assert verify.status_code == 404  # the old link's half-finished sign-in does not count
    _, verified = open_link(app, new_token.group(1))
    assert verified.status_code == 303
    intake = load_intake(app, public_id)
    assert intake.sections_saved == ["general"] and intake.locked_at is None
    assert (
        timedelta(days=2, hours=23)
        < intake.token_expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
        <= timedelta(days=3)
    )
    assert [a for _, a, _, _ in audit_actions(app, public_id)][-1] == "invitation.reissue"


@pytest.mark.usefixtures("shared_pdf")
def test_links_of_sent_answers_cannot_be_revoked_or_replaced(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app)
    submit_demo(app, public_id)
    for action, data in (("revoke", {}), ("reissue", {"valid_days": "5"})):
        response = client.post(f"/clinic/intakes/{public_id}/{action}", data=data)
        assert response.status_code == 303
        assert "done=already_submitted" in response.location
    intake = load_intake(app, public_id)
    assert intake.revoked_at is None and intake.state(utcnow()) == "submitted"


def test_the_command_line_invite_still_works(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["intake", "invite", "--name", "Doe, John", "--dob", "1970-01-02"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        intake = db.session().scalars(select(Intake)).one()
        assert (intake.given_name, intake.family_name, intake.created_by_id) == (
            "John",
            "Doe",
            None,
        )
        assert (intake.stage, intake.family_key, intake.appointment_at) == ("invited", "doe", None)


def test_revoking_needs_the_csrf_token(app: Flask, client: FlaskClient, clinic: int) -> None:
    public_id = make_intake(app)
    app.config["WTF_CSRF_ENABLED"] = True
    # Refused the way the clinic refuses any form without its token: back to the worklist,
    # nothing done, nothing audited.
    refused = client.post(f"/clinic/intakes/{public_id}/revoke")
    assert refused.status_code == 303
    assert refused.location == "/clinic/"
    assert load_intake(app, public_id).revoked_at is None
    assert "invitation.revoke" not in [action for _, action, _, _ in audit_actions(app, public_id)]
    # The same request with the page's token revokes: the token was all that was missing.
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    done = client.post(f"/clinic/intakes/{public_id}/revoke", data={"csrf_token": token[1]})
    assert done.status_code == 303 and "done=revoked" in done.location
    assert load_intake(app, public_id).revoked_at is not None


# --- states and the worklist ---------------------------------------------------------------------
@pytest.fixture
def every_state(app: Flask) -> dict[str, str]:
    """One intake in each state; returns {state: public id}."""
    now = utcnow()
    ids = {
        "invited": make_intake(app, "Invited"),
        "in_progress": make_intake(
            app, "Progress", opened_at=now, sections_saved=["general", "stress", "sleep"]
        ),
        "submitted": make_intake(app, "Submitted"),
        "reviewed": make_intake(app, "Reviewed"),
        "expired": make_intake(app, "Expired", token_expires_at=now - timedelta(hours=1)),
        "revoked": make_intake(app, "Revoked", revoked_at=now),
        "locked": make_intake(app, "Locked", locked_at=now, dob_failures=5),
    }
    submit_demo(app, ids["submitted"])
    submit_demo(app, ids["reviewed"])
    with app.app_context(), db.transaction() as tx:
        reviewed = find_by_public_id(tx, ids["reviewed"])
        assert reviewed is not None
        reviewed.reviewed_at = now
    return ids


@pytest.mark.usefixtures("shared_pdf")
def test_the_stored_stage_and_the_sql_filter_agree_with_the_state_function(
    app: Flask, every_state: dict[str, str]
) -> None:
    now = utcnow()
    with app.app_context():
        session = db.session()
        for state, public_id in every_state.items():
            intake = find_by_public_id(session, public_id)
            assert intake is not None
            assert intake.state(now) == state
            assert intake.stage == intake.stage_now()
        for state in states.STATES:
            found = session.scalars(select(Intake.public_id).where(state_condition(state, now)))
            assert set(found) == {every_state[state]}, state


@pytest.mark.usefixtures("shared_pdf")
def test_the_worklist_shows_every_state(
    app: Flask, client: FlaskClient, clinic: int, every_state: dict[str, str]
) -> None:
    html = client.get("/clinic/").get_data(as_text=True)
    expected = {
        "invited": "Invited, not opened yet",
        "in_progress": "In progress 3 of 16 sections",
        "submitted": "Submitted, to review",
        "reviewed": "Reviewed",
        "expired": "Link expired",
        "revoked": "Link revoked",
        "locked": "Link locked (date of birth wrong too often)",
    }
    for state, public_id in every_state.items():
        assert badge_of(html, public_id) == expected[state]
    for state, public_id in every_state.items():
        filtered = client.get(f"/clinic/?state={state}").get_data(as_text=True)
        assert ids_on(filtered) == [public_id], state


def test_the_worklist_sorts_by_appointment_and_pages(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    utc = ZoneInfo("UTC")
    start = datetime.combine(TOMORROW, time(8), tzinfo=utc)
    with app.app_context(), db.transaction() as tx:
        made = [
            invite_patient(
                tx, Patient("P", f"Patient{n:03d}", DOB), 14,
                appointment_at=start + timedelta(minutes=10 * ((n * 37) % 120)),
            ).intake.public_id
            for n in range(120)
        ]  # fmt: skip
        by_time = {
            pid: i.appointment_at for pid in made if (i := find_by_public_id(tx, pid)) is not None
        }
    expected = sorted(made, key=lambda pid: by_time[pid])
    pages = [client.get(f"/clinic/?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert [len(ids_on(page)) for page in pages] == [PAGE_SIZE, PAGE_SIZE, 20]
    assert [pid for page in pages for pid in ids_on(page)] == expected
    assert "Intakes 51 to 100 of 120" in pages[1]
    assert "Page 2 of 3" in pages[1] and 'rel="prev"' in pages[1] and 'rel="next"' in pages[1]
    assert ids_on(client.get("/clinic/?page=99").get_data(as_text=True)) == expected[100:]
    assert '<table class="worklist"' in pages[0] and '<th scope="col"' in pages[0]


@pytest.mark.usefixtures("shared_pdf")
def test_the_worklist_filters_by_date_and_starts_today(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    utc = ZoneInfo("UTC")
    today = date.today()
    past = make_intake(
        app, "Past", appointment=datetime.combine(today - timedelta(days=3), time(9), tzinfo=utc)
    )
    soon = make_intake(
        app, "Soon", appointment=datetime.combine(today + timedelta(days=2), time(9), tzinfo=utc)
    )
    later = make_intake(
        app, "Later", appointment=datetime.combine(today + timedelta(days=20), time(9), tzinfo=utc)
    )
    cli = make_intake(app, "Nodate")
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, cli)
        assert intake is not None
        intake.appointment_at = None

    # From today on (the default) includes intakes with no appointment set, last.
    assert ids_on(client.get("/clinic/").get_data(as_text=True)) == [soon, later, cli]
    assert ids_on(client.get("/clinic/?from=").get_data(as_text=True)) == [past, soon, later, cli]
    window = f"/clinic/?from={today.isoformat()}&to={(today + timedelta(days=2)).isoformat()}"
    assert ids_on(client.get(window).get_data(as_text=True)) == [soon]
    assert "not reviewed yet" not in client.get("/clinic/").get_data(as_text=True)
    submit_demo(app, past)
    html = client.get("/clinic/").get_data(as_text=True)
    assert "1 sent questionnaire from an earlier appointment is not reviewed yet." in html
    link = re.search(r'not reviewed yet.\s*<a href="([^"]+)"', html)
    assert link
    assert ids_on(client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)) == [past]
    broken = client.get("/clinic/?from=yesterday&state=nonsense")
    assert broken.status_code == 200 and "could not be read" in broken.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("mull", {"muller"}),
        ("MÜLLER", {"muller"}),
        ("Anna Müller", {"muller"}),
        ("Müller, Anna", {"muller"}),
        ("de la", {"cruz"}),
        ("Maria de la Cruz", {"cruz"}),
        ("O'Brien", {"obrien"}),
        ("anna", {"muller", "obrien"}),
        ("X-123", {"mrn"}),
        ("x-123", {"mrn"}),
        ("nobody", set()),
    ],
)
def test_the_worklist_searches_names_and_mrn(
    app: Flask, client: FlaskClient, clinic: int, query: str, expected: set[str]
) -> None:
    made = {
        "muller": make_intake(app, "Müller", "Anna"),
        "cruz": make_intake(app, "de la Cruz", "Maria"),
        "obrien": make_intake(app, "O'Brien", "Anna-Lena"),
        "mrn": make_intake(app, "Smith", "Bob", mrn="X-123"),
    }
    html = client.post("/clinic/", data={"q": query, "from": ""}).get_data(as_text=True)
    assert set(ids_on(html)) == {made[key] for key in expected}


# --- the intake page, its PDF, review ------------------------------------------------------------
@pytest.mark.usefixtures("shared_pdf")
def test_the_intake_page_shows_the_summary_the_pdf_prints(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app, "Demo-Example", "Alex", mrn="DEMO-1")
    submit_demo(app, public_id)
    response = client.get(f"/clinic/intakes/{public_id}", environ_base={"REMOTE_ADDR": ADDRESS})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Demo-Example" in html and "DEMO-1" in html and "Submitted, to review" in html
    assert '<table class="overview">' in html and "Topic asked about" in html
    catalog = get_catalog()
    for section in catalog.sections:
        if section.overview_row:
            assert f'<th scope="row">{section.title}' in html, section.id
    assert f'href="/clinic/intakes/{public_id}/summary.pdf"' in html
    with app.app_context():
        from intake.intakes.submissions import submission_visibility
        from intake.pdf.summary import build_summary

        intake = find_by_public_id(db.session(), public_id)
        assert intake is not None and intake.submission is not None
        summary = build_summary(
            catalog, intake.submission.answers, submission_visibility(intake.submission)
        )
    for overview in summary.overview:
        assert overview.status_text in html
    for section in summary.sections:
        assert f'id="s-{section.id}"' in html
    concerns = intake.submission.answers["general.main_concerns"]
    assert f"“{concerns}”".replace("'", "&#39;") in html or concerns[:20] in html
    assert "History" in html and "Answers sent" in html and "Page viewed" in html
    assert audit_actions(app, public_id)[-1] == (f"user:{clinic}", "intake.view", ADDRESS, "ok")


@pytest.mark.usefixtures("shared_pdf")
def test_the_intake_page_isolates_names_mrn_and_patient_text(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    """An unclosed U+202E in a name or an answer reorders what follows it on the page; <bdi>
    around names and the MRN, and unicode-bidi: isolate on patient text, keep it inside."""
    public_id = make_intake(app, "Demo-Example\u202e", "Alex\u202e", mrn="DEMO-1\u202e")
    answers = {**demo_answers(get_catalog()), "closing.anything_else": "see \u202egnp.exe"}
    submit_demo(app, public_id, answers)
    html = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert '<bdi class="family">Demo-Example\u202e</bdi>, <bdi>Alex\u202e</bdi>' in html
    assert "<bdi>DEMO-1\u202e</bdi>" in html
    assert '<p class="patient-text">“see \u202egnp.exe”</p>' in html
    assert app.static_folder is not None
    css = (Path(app.static_folder) / "app.css").read_text(encoding="utf-8")
    assert re.search(r"\.patient-text\{[^}]*unicode-bidi:isolate", css)


@pytest.mark.usefixtures("shared_pdf")
def test_the_intake_page_names_every_state_as_the_pdf_does(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    """The page's at-a-glance table says what page 1 of the PDF says, and has the same key."""
    public_id = make_intake(app, "Demo-Example", "Alex")
    submit_demo(app, public_id, mixed_answers(get_catalog()), MIXED_DETAIL)
    html = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    start = html.index('<table class="overview">')
    table = html[start : html.index("</table>", start)]
    rows = dict(re.findall(r'<th scope="row">([^<]*)</th>(.*?)</tr>', table, re.S))
    catalog = get_catalog()
    for section_id, (status, *follow_ups) in MIXED_GLANCE.items():
        row = rows[catalog.section(section_id).title_pdf]
        cells = [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in row.split("</td>")[:-1]]
        assert cells[0] == status and cells[2:] == follow_ups, (section_id, cells)
        if status not in ("Reported", "None noticed"):
            assert f'<span class="state">{status}</span>' in row, section_id
    assert '<span class="state">Not sure</span>' in rows["Stress"]
    assert '<span class="state">—</span>' in rows["Medicines and reactions"]
    assert "Not asked" not in html

    key = html[html.index("A topic reads:") : html.index("</p>", html.index("A topic reads:"))]
    for status in ("Reported", "None noticed"):
        assert status in key
    for status in ("Not sure", "Prefer not to say", "Not answered", "Not shown", "Skipped"):
        assert f'<span class="state">{status}</span>' in key
    assert '<span class="state">Patient chose not to answer this section</span>' in key
    trauma = html[html.index('id="s-trauma"') :]
    assert '<p class="state">Patient chose not to answer this section.</p>' in trauma[:600]
    dental = html[html.index('id="s-dental"') :]
    assert '<p class="state">Skipped: no answers in this section.</p>' in dental[:600]


def test_each_worklist_view_is_audited_without_its_search_text(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    make_intake(app, family="Kowalczyk", given="Zofia")
    for _ in range(2):
        page = client.post(
            "/clinic/", data={"q": "Kowalczyk"}, environ_base={"REMOTE_ADDR": ADDRESS}
        )
        assert page.status_code == 200 and "Kowalczyk" in page.get_data(as_text=True)
    with app.app_context():
        rows = db.session().execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        views = [
            (r.actor, r.intake_public_id, r.address, r.outcome)
            for r in rows
            if r.action == "worklist.view"
        ]
        assert views == [(f"user:{clinic}", None, ADDRESS, "ok")] * 2
        stored = " ".join(f"{r.actor} {r.action} {r.address} {r.outcome}" for r in rows)
    assert "Kowalczyk" not in stored and "Zofia" not in stored


def test_the_intake_page_does_not_show_a_draft(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app, opened_at=utcnow(), sections_saved=["general"])
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.answers = {"general.main_concerns": "draft words not yet sent"}
    html = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert "draft words" not in html and "summary.pdf" not in html
    assert "Not sent yet" in html and "1 of 16 sections" in html
    assert client.get(f"/clinic/intakes/{public_id}/summary.pdf").status_code == 404


def test_the_pdf_download_is_the_stored_pdf(app: Flask, client: FlaskClient, clinic: int) -> None:
    public_id = make_intake(app, "Müller-Lüdenscheidt", "Zoë")
    submit_demo(app, public_id)
    intake = load_intake(app, public_id)
    assert intake.submission is not None
    stored = intake.submission.pdf
    day = intake.submission.submitted_at.date().isoformat()

    response = client.get(
        f"/clinic/intakes/{public_id}/summary.pdf", environ_base={"REMOTE_ADDR": ADDRESS}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=Muller-Ludenscheidt_Zoe_{day}_intake-summary.pdf"
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF") and response.data == stored
    assert audit_actions(app, public_id)[-1] == (f"user:{clinic}", "pdf.download", ADDRESS, "ok")


@pytest.mark.usefixtures("shared_pdf")
def test_a_name_ascii_cannot_spell_downloads_under_its_own_letters(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app, "山田", "太郎")
    submit_demo(app, public_id)
    day = load_intake(app, public_id).submission.submitted_at.date().isoformat()  # type: ignore[union-attr]
    response = client.get(
        f"/clinic/intakes/{public_id}/summary.pdf", environ_base={"REMOTE_ADDR": ADDRESS}
    )
    own = quote(f"山田_太郎_{day}_intake-summary.pdf", safe="")
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=Patient_{day}_intake-summary.pdf; filename*=UTF-8''{own}"
    )


@pytest.mark.usefixtures("shared_pdf")
def test_a_pdf_still_being_made_says_so_and_downloads_once_made(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app)
    submit_demo(app, public_id)
    with app.app_context(), db.transaction() as tx:  # sent, its render not yet done
        intake = find_by_public_id(tx, public_id)
        assert intake is not None and intake.submission is not None
        intake.submission.pdf = None
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert "being made, usually within seconds" in page
    response = client.get(f"/clinic/intakes/{public_id}/summary.pdf")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    text = response.get_data(as_text=True)
    assert "The PDF is being made" in text and "Try the download again" in text
    downloads = lambda: [o for _, a, _, o in audit_actions(app, public_id) if a == "pdf.download"]  # noqa: E731
    assert downloads() == ["pending"]
    assert run_jobs(app) == 1  # the download queued it again (the first job had ended)
    response = client.get(f"/clinic/intakes/{public_id}/summary.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    stored = load_intake(app, public_id).submission
    assert stored is not None and stored.pdf == response.data and downloads() == ["pending", "ok"]
    assert "being made" not in client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)


@pytest.mark.usefixtures("shared_pdf")
def test_marking_reviewed_records_who_and_when_once(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app)
    submit_demo(app, public_id)
    response = client.post(f"/clinic/intakes/{public_id}/reviewed")
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Marked as reviewed." in page and EMAIL in page and "Mark reviewed</button>" not in page
    first = load_intake(app, public_id)
    assert first.reviewed_by_id == clinic and first.reviewed_at is not None
    assert first.state(utcnow()) == "reviewed"

    other = app.test_client()
    make_user(app, "dr.bo@example.org")
    login(other, "dr.bo@example.org")
    other.post(f"/clinic/intakes/{public_id}/reviewed")
    again = load_intake(app, public_id)
    assert (again.reviewed_by_id, again.reviewed_at) == (clinic, first.reviewed_at)
    assert [a for _, a, _, _ in audit_actions(app, public_id)].count("intake.review") == 1

    unsent = make_intake(app, "Unsent")
    response = client.post(f"/clinic/intakes/{unsent}/reviewed")
    assert "done=not_submitted" in response.location
    assert load_intake(app, unsent).reviewed_at is None


@pytest.mark.usefixtures("shared_pdf")
def test_every_view_and_download_is_audited_without_patient_data(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    public_id = make_intake(app, "Auditee", "Patricia", mrn="SECRET-MRN")
    submit_demo(app, public_id)
    for _ in range(3):
        client.get(f"/clinic/intakes/{public_id}")
    client.get(f"/clinic/intakes/{public_id}/summary.pdf")
    client.get(f"/clinic/intakes/{public_id}/summary.pdf")
    actions = [a for _, a, _, _ in audit_actions(app, public_id)]
    assert actions.count("intake.view") == 3 and actions.count("pdf.download") == 2
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert "(3 times since" in page  # repeated views fold into one history line

    with app.app_context():
        rows = db.session().execute(select(AuditEvent.__table__)).mappings().all()
    for row in rows:
        fields = " ".join(str(value) for value in row.values())
        for secret in ("Auditee", "Patricia", "SECRET-MRN", DOB.isoformat()):
            assert secret not in fields
    result = app.test_cli_runner().invoke(args=["intake", "audit", "verify"])
    assert result.exit_code == 0 and "Audit chain OK" in result.output, result.output


def test_unknown_or_malformed_ids_are_not_found(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    for path in (
        "/clinic/intakes/ABCD-EFGH-JKMN",
        "/clinic/intakes/abcd",
        "/clinic/intakes/ABCD-EFGH-JKMN/summary.pdf",
    ):
        assert client.get(path).status_code == 404, path
    for action in ("revoke", "reissue", "reviewed"):
        assert client.post(f"/clinic/intakes/ABCD-EFGH-JKMN/{action}").status_code == 404


@pytest.mark.usefixtures("shared_pdf")
def test_the_workspace_pages_keep_to_the_service_wording(
    app: Flask, client: FlaskClient, clinic: int, every_state: dict[str, str]
) -> None:
    from tests.extracted_text import visible_text
    from tests.forbidden_phrases import violations

    pages = [
        client.get("/clinic/?from=").get_data(as_text=True),
        client.get("/clinic/invitations/new").get_data(as_text=True),
        invite_via_web(client)[2],
    ]
    pages += [
        client.get(f"/clinic/intakes/{pid}").get_data(as_text=True) for pid in every_state.values()
    ]
    for page in pages:
        text = " ".join(visible_text(page).split())
        assert violations(text) == [], (violations(text), text[:600])


# --- who may use the workspace -------------------------------------------------------------------
def workspace_requests(public_id: str) -> Iterator[tuple[str, str]]:
    yield "GET", "/clinic/"
    yield "GET", "/clinic/invitations/new"
    yield "POST", "/clinic/invitations/new"
    yield "GET", f"/clinic/intakes/{public_id}"
    yield "GET", f"/clinic/intakes/{public_id}/summary.pdf"
    for action in ("revoke", "reissue", "reviewed"):
        yield "POST", f"/clinic/intakes/{public_id}/{action}"


def assert_sent_to_sign_in(response: TestResponse) -> None:
    """Redirected to sign in, or (a form posted without a session) shown the sign-in page."""
    if response.status_code == 401:
        assert 'action="/clinic/login' in response.get_data(as_text=True)
    else:
        assert_to_login(response)


@pytest.mark.usefixtures("shared_pdf")
def test_the_workspace_needs_a_clinician_session(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    submit_demo(app, patient.public_id)
    for method, path in workspace_requests(patient.public_id):
        assert_sent_to_sign_in(app.test_client().open(path, method=method, data=invite_form()))
        # The patient's own session (signed in on ``client``) does not count either.
        assert_sent_to_sign_in(client.open(path, method=method, data=invite_form()))
    with app.app_context():
        assert len(db.session().scalars(select(Intake)).all()) == 1
        actions = db.session().scalars(select(AuditEvent.action)).all()
        assert not {"intake.view", "pdf.download", "invitation.create"} & set(actions)


# --- migration -----------------------------------------------------------------------------------
def test_migration_0004_works_out_the_stage_and_keys_of_existing_intakes(app: Flask) -> None:
    base = {
        "token_expires_at": datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")),
        "dob_failures": 0,
        "created_at": datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")),
        "catalog_version": "1",
        "answers": {},
        "detail_sections": [],
        "answers_version": 0,
        "sections_saved": [],
        "date_of_birth": DOB,
    }
    opened = datetime(2026, 1, 2, tzinfo=ZoneInfo("UTC"))
    old = [
        dict(base, id=1, public_id="AAAA-AAAA-AAA1", token_hash="1", given_name="Zoë", family_name="Müller"),
        dict(base, id=2, public_id="AAAA-AAAA-AAA2", token_hash="2", given_name="A", family_name="B", opened_at=opened),
        dict(base, id=3, public_id="AAAA-AAAA-AAA3", token_hash="3", given_name="A", family_name="B", opened_at=opened, locked_at=opened),
        dict(base, id=4, public_id="AAAA-AAAA-AAA4", token_hash="4", given_name="A", family_name="B", opened_at=opened),
    ]  # fmt: skip
    with app.app_context():
        engine = db.engine()
        Base.metadata.drop_all(engine)
        try:
            migrate.upgrade(engine, "0003")
            # The table as 0003 left it: the model's table would also insert the new columns.
            names = ("id", "public_id", "token_hash", "given_name", "family_name", "opened_at", "locked_at", *base)  # fmt: skip
            json_names = ("answers", "detail_sections", "sections_saved")
            table_0003 = sa_table(
                "intakes", *(sa_column(n, JSON if n in json_names else None) for n in names)
            )
            with engine.begin() as conn:
                conn.execute(insert(table_0003), [{k: row.get(k) for k in names} for row in old])
                conn.execute(
                    text(
                        "INSERT INTO submissions (intake_id, submitted_at, catalog_version, "
                        "answers, detail_sections, clinic_opt_ins) VALUES "
                        "(4, :at, '1', '{}', '[]', '[]')"
                    ),
                    {"at": opened},
                )
            migrate.upgrade(engine, "0004")
            with engine.connect() as conn:
                got = conn.execute(
                    text("SELECT id, stage, family_key, given_key FROM intakes ORDER BY id")
                ).all()
            assert [tuple(row) for row in got] == [
                (1, "invited", "muller", "zoe"),
                (2, "in_progress", "b", "a"),
                (3, "locked", "b", "a"),
                (4, "submitted", "b", "a"),
            ]
        finally:
            db.session().close()
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.mark.parametrize(
    ("env", "base", "unreachable"),
    [
        ("production", None, True),  # the default, http://127.0.0.1:5000
        ("production", "http://localhost:8080", True),
        ("production", "https://[::1]/", True),
        ("production", "http://intake.clinic.example", True),  # the token in the clear
        ("production", "https://intake.clinic.example", False),
        ("development", None, False),  # a local trial: links on this machine are the point
    ],
)
def test_production_links_that_cannot_reach_a_patient_are_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str, base: str | None, unreachable: bool
) -> None:
    monkeypatch.setenv("INTAKE_ENV", env)
    if base is None:
        monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("PUBLIC_BASE_URL", base)
    config = load_config(tmp_path, {"SECRET_KEY": "k-0123456789abcdef-0123456789abcdef"})
    assert config["PUBLIC_BASE_URL_UNREACHABLE"] is unreachable


def test_the_link_page_warns_when_the_link_cannot_reach_a_patient(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    page = client.post("/clinic/invitations/new", data=invite_form()).get_data(as_text=True)
    assert "may not open for the person you give it to" not in page
    app.config["PUBLIC_BASE_URL_UNREACHABLE"] = True
    page = client.post("/clinic/invitations/new", data=invite_form()).get_data(as_text=True)
    assert "This link may not open for the person you give it to." in page
    assert "It starts with http://" in page and "PUBLIC_BASE_URL" in page


def test_the_search_text_never_reaches_a_url(
    app: Flask, client: FlaskClient, clinic: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name or MRN typed into the search is posted, and its pages are posted again: no link,
    form action or redirect of the page carries it, and a q in the query string is ignored."""
    monkeypatch.setattr("intake.reads.worklist.PAGE_SIZE", 2)
    nowaks = {make_intake(app, "Nowak", given) for given in ("Ada", "Bea", "Cy")}
    other = make_intake(app, "Smith", "Dan")
    first = client.post("/clinic/", data={"q": "Nowak", "from": ""})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and len(ids_on(html)) == 2
    urls = re.findall(r'(?:href|action)="([^"]*)"', html)
    assert urls and not [u for u in urls if "Nowak" in u or "q=" in u]
    form = re.search(
        r'<form method="post" action="/clinic/" class="inline">(.*?)</form>', html, re.S
    )
    assert form is not None and "Next page" in form.group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(1)))
    assert fields["q"] == "Nowak" and fields["page"] == "2"
    second = client.post("/clinic/", data=fields).get_data(as_text=True)
    assert set(ids_on(html)) | set(ids_on(second)) == nowaks

    ignored = client.get("/clinic/?q=Nowak&from=").get_data(as_text=True)
    assert 'name="q" type="search" value=""' in ignored
    assert other in ids_on(ignored) or "Page 1 of 2" in ignored


def test_names_are_isolated_in_the_worklist_titles_and_sentences(
    app: Flask, client: FlaskClient, clinic: int
) -> None:
    """An unclosed U+202E typed in a name must not mirror the words around it on any page."""
    public_id = make_intake(app, "Evil\u202e", "Ann\u202e", mrn="M\u202e1")
    row = client.get("/clinic/?from=").get_data(as_text=True)
    assert '<bdi class="family">Evil\u202e</bdi>, <bdi>Ann\u202e</bdi>' in row
    assert "<bdi>M\u202e1</bdi>" in row
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and "\u2068Ann\u202e Evil\u202e\u2069" in title.group(1)
