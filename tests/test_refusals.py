"""Never a false message, never lost typing (issue 15, item 2): each way a save can be refused
has its own message that says what is kept and what to do, with what was typed kept on the
form or, where nothing can store it, shown back to copy. A double click saves once; the two-tab
check is per section."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from forms.loader import get_catalog
from intake import db
from intake.clock import utcnow
from intake.intakes.invitations import find_by_public_id, reissue_invitation, revoke_invitation
from intake.models import PatientSession
from tests.conftest import Invited, idle_for, load_intake, post_step, sign_in
from tests.extracted_text import visible_text
from tests.forbidden_phrases import violations

TYPED = "Hives after <b>hot</b> showers & baths"
DOB = {"dob-day": 27, "dob-month": 3, "dob-year": 1980}


def open_page(client: FlaskClient, section: str = "general") -> dict[str, Any]:
    """The hidden fields of a step page as it is open in a tab now, to post from it later."""
    page = client.get(f"/step/{section}").get_data(as_text=True)
    version = re.search(r'name="_version" value="(\d*)"', page)
    resume = re.search(r'name="_resume" value="([^"]*)"', page)
    assert version and resume, page[:500]
    shown = re.findall(r'name="_shown" value="([^"]+)"', page)
    return {"_version": version[1], "_resume": resume[1], "_shown": shown}


def typed(page: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**page, "general.main_concerns": TYPED, "general.course": "worse", **extra}


def change(app: Flask, invited: Invited, what: str) -> None:
    """The clinic (or time) acts on the intake while its page is open."""
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, invited.public_id)
        assert intake is not None
        if what == "reissued":
            reissue_invitation(intake, 14)
        elif what == "revoked":
            revoke_invitation(intake)
        elif what == "expired":
            intake.token_expires_at = utcnow() - timedelta(minutes=1)
        elif what == "locked":
            intake.locked_at = utcnow()


def typing_shown_back(html: str) -> str:
    """The "What you typed on this page" part of a page that could not be saved."""
    assert 'id="step-form"' not in html  # no form that could only be refused again
    return html.split('id="typed-heading"', 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize(
    ("what", "status", "heading", "kept"),
    [
        (
            "reissued",
            410,
            "Your clinic sent you a new link",
            "continue with them from the new link",
        ),
        (
            "revoked",
            410,
            "The clinic has stopped this link",
            "The answers you saved before are kept",
        ),
        ("locked", 423, "This link is locked for now", "The answers you saved before are kept"),
    ],
)
def test_a_link_closed_while_typing_shows_back_what_was_typed(
    app: Flask,
    client: FlaskClient,
    patient: Invited,
    what: str,
    status: int,
    heading: str,
    kept: str,
) -> None:
    post_step(client, "general", {"general.completed_by": "self"})
    page = open_page(client)
    change(app, patient, what)
    response = client.post("/step/general", data=typed(page))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert heading in html and kept in html
    assert "long pause" not in html and "We could not find this link" not in html
    shown = typing_shown_back(html)
    assert "Hives after &lt;b&gt;hot&lt;/b&gt; showers &amp; baths" in shown  # escaped
    assert "<b>hot</b>" not in html
    assert "Got worse" in shown
    assert 'name="dob-day"' not in html  # the date of birth cannot bring this link back
    assert load_intake(app, patient.public_id).answers == {"general.completed_by": "self"}


def test_an_expired_link_keeps_a_live_session_and_refuses_after_it_ends(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """A link that expires while the patient types does not cost that save; once the session
    has ended too, the page says the link expired, and until when it worked."""
    page = open_page(client)
    change(app, patient, "expired")
    assert client.post("/step/general", data=typed(page)).status_code == 303
    page = open_page(client)
    idle_for(app, patient, 31)
    response = client.post("/step/general", data=typed(page, **{"general.course": "better"}))
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "This link has expired" in html and "It worked until" in html
    assert "The answers you saved before are kept" in html
    assert "Got better" in typing_shown_back(html)
    assert load_intake(app, patient.public_id).answers["general.course"] == "worse"


@pytest.mark.parametrize(
    ("how", "heading"),
    [
        ("idle", "You were signed out after 30 minutes without saving"),
        ("signed out", "You signed out"),
        ("another browser", "This page is no longer signed in"),
    ],
)
def test_a_session_that_ended_keeps_the_typing_and_saves_after_the_date_of_birth(
    app: Flask, client: FlaskClient, patient: Invited, how: str, heading: str
) -> None:
    page = open_page(client)
    poster = client
    if how == "idle":
        idle_for(app, patient, 31)
    elif how == "signed out":  # "Sign out" (or "Save and finish later") in another tab
        client.post("/sign-out")
    else:  # the cookie is gone: the browser was closed, or the page is posted from elsewhere
        poster = app.test_client()
    response = poster.post("/step/general", data=typed(page))
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert heading in html and "your earlier answers are kept" in html
    assert TYPED not in html and "Hives after &lt;b&gt;hot&lt;/b&gt; showers" in html  # in its box
    assert 'name="dob-day"' in html and 'id="step-form"' in html
    saved = poster.post("/step/general", data=typed(page, **DOB))
    assert saved.status_code == 303 and saved.location.endswith("/step/stress")
    assert load_intake(app, patient.public_id).answers["general.main_concerns"] == TYPED


def test_wrong_dates_on_an_open_page_count_against_that_page_not_the_link(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Whoever finds a signed-out page on a shared computer gets its 3 tries, and cannot lock
    the patient out; whoever has only the link still has only the link's 5."""
    page = open_page(client)
    client.post("/sign-out")
    stranger = app.test_client()
    wrong = {"dob-day": 1, "dob-month": 1, "dob-year": 1990}
    for left in ("2 tries", "1 try"):
        response = stranger.post("/step/general", data=typed(page, **wrong))
        assert response.status_code == 401
        assert f"You have {left} left." in response.get_data(as_text=True)
    used_up = stranger.post("/step/general", data=typed(page, **wrong))
    assert used_up.status_code == 403
    html = used_up.get_data(as_text=True)
    assert "This page cannot sign in again" in html and "your link still works" in html
    assert "Hives after &lt;b&gt;hot&lt;/b&gt;" in typing_shown_back(html)
    # Even the right date no longer signs in from that page; the link is untouched.
    assert stranger.post("/step/general", data=typed(page, **DOB)).status_code == 403
    intake = load_intake(app, patient.public_id)
    assert intake.dob_failures == 0 and intake.locked_at is None
    assert "general.main_concerns" not in intake.answers
    sign_in(app.test_client(), patient)
    # The link's own tries are counted as before: 5 misses lock it.
    attacker = app.test_client()
    attacker.get(f"/start?t={patient.token}")
    for _ in range(5):
        attacker.post("/verify", data=wrong)
    assert load_intake(app, patient.public_id).locked_at is not None


def test_a_step_posted_after_the_answers_were_sent_says_so(
    app: Flask, client: FlaskClient, patient: Invited, shared_pdf: None
) -> None:
    page = open_page(client)
    other = app.test_client()
    sign_in(other, patient)
    assert other.post("/submit").status_code == 303
    stranger_page = app.test_client().post("/step/general", data=typed(page))
    assert stranger_page.status_code == 409  # a page whose session ended: the same answer
    response = client.post("/step/general", data=typed(page))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Your answers were already sent" in html and "tell your clinician" in html
    assert "Hives after &lt;b&gt;hot&lt;/b&gt;" in typing_shown_back(html)


def test_a_second_tab_is_refused_only_over_the_same_part(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """A save in Sleep is not refused because another tab saved Teeth and gums since."""
    sleep = open_page(client, "sleep")
    general = open_page(client, "general")
    assert post_step(client, "dental", {"dental.root_canal": "no"}).status_code == 303
    saved = client.post("/step/sleep", data={**sleep, "sleep.quality_week": "poor"})
    assert saved.status_code == 303 and saved.location == "/step/diet"
    # The same part saved in another tab since: refused, with its own message, typing kept.
    assert post_step(client, "general", {"general.course": "same"}).status_code == 303
    conflict = client.post("/step/general", data=typed(general))
    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    assert "This part was changed in another window" in html and "long pause" not in html
    assert "Hives after &lt;b&gt;hot&lt;/b&gt;" in html and re.search(
        r'value="worse"\s+checked', html
    )
    answers = load_intake(app, patient.public_id).answers
    assert answers["general.course"] == "same" and answers["sleep.quality_week"] == "poor"


@pytest.mark.parametrize(("action", "to"), [("next", "/step/stress"), ("save", "/saved?s=")])
def test_a_double_click_saves_once_and_moves_on(
    app: Flask, client: FlaskClient, patient: Invited, action: str, to: str
) -> None:
    """The browser shows the second press's answer: it must be where the first one went, not
    a "changed in another window" page (or, after "Save and finish later", "you signed out")."""
    page = typed(open_page(client), action=action)
    first = client.post("/step/general", data=page)
    version = load_intake(app, patient.public_id).answers_version
    second = client.post("/step/general", data=page)
    assert first.status_code == second.status_code == 303
    assert first.location.startswith(to) and second.location.startswith(to)
    intake = load_intake(app, patient.public_id)
    assert intake.answers_version == version  # saved once
    assert intake.answers["general.main_concerns"] == TYPED
    if action == "save":
        # Only a second press right after: later, "matches what is stored" would tell whoever
        # holds the page what is stored. Then it is a page whose session ended, as any other.
        with app.app_context(), db.transaction() as tx:
            tx.execute(update(PatientSession).values(ended_at=utcnow() - timedelta(seconds=31)))
        late = client.post("/step/general", data=page)
        assert late.status_code == 401 and "You signed out" in late.get_data(as_text=True)


def test_error_messages_name_their_question(client: FlaskClient, patient: Invited) -> None:
    post_step(client, "general", {"general.severe_episode": "yes"})
    response = post_step(
        client,
        "general",
        {
            "general.onset_year-year": "19",
            "general.severe_list-0-what": "Throat",
            "general.severe_list-0-year-year": "20",
        },
    )
    assert response.status_code == 422
    summary = response.get_data(as_text=True).split('id="error-summary"', 1)[1].split("</div>")[0]
    links = re.findall(
        r'<a href="#([^"]+)"><span class="q-name">([^<]+)</span> ([^<]+)</a>', summary
    )
    named = {target: (question, message) for target, question, message in links}
    assert (
        named["f-general.onset_year-year"][0] == "About what year did these health problems start?"
    )
    assert "4 digits" in named["f-general.onset_year-year"][1]
    listed = get_catalog().item("general.severe_list").text
    question, message = named["f-general.severe_list-0-year-year"]
    assert question == f"{listed} – Entry 1, About what year?" and "4 digits" in message


def test_the_pages_that_refuse_use_neutral_words(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    pages = []
    page = open_page(client)
    idle_for(app, patient, 31)
    pages.append(client.post("/step/general", data=typed(page)).get_data(as_text=True))
    pages.append(client.get("/review").get_data(as_text=True))
    for what in ("expired", "reissued"):
        change(app, patient, what)
        pages.append(client.post("/step/general", data=typed(page)).get_data(as_text=True))
    for html in pages:
        text = visible_text(html)
        assert violations(text, patient_form=True) == [], text[:300]
