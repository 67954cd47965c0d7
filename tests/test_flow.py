"""The patient's whole journey through the app: link, date of birth, every step, review, submit."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from forms.loader import get_catalog
from forms.logic import Visibility, shown_answers
from intake import db
from intake.intakes.demo import demo_answers
from intake.intakes.drafts import visibility_for
from intake.models import Submission
from tests.conftest import Invited, load_intake, page_version, post_step, run_jobs, sign_in
from tests.formdata import section_formdata


def _complete_section(client: FlaskClient, section_id: str, answers: dict[str, Any]) -> str:
    """Open the optional detail, then answer until the step moves on; return where it went."""
    section = get_catalog().section(section_id)
    if section.optional_items:
        assert post_step(client, section_id, {}, action="more").status_code == 303
    data = section_formdata(section.items, answers)
    for _ in range(5):  # each round may open follow-ups that appear on the next page load
        response = post_step(client, section_id, data)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        if "notice=more" not in response.location:
            return response.location
    raise AssertionError(f"{section_id} kept asking for more")


def test_whole_flow_stores_every_answer_and_the_pdf(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    welcome = client.get("/welcome")
    assert "You can skip any question" in welcome.get_data(as_text=True)
    for n, section in enumerate(catalog.sections):
        page = client.get(f"/step/{section.id}").get_data(as_text=True)
        assert f"Step {n + 1} of {len(catalog.sections)}" in page
        went = _complete_section(client, section.id, answers)
        expected = catalog.sections[n + 1].id if n + 1 < len(catalog.sections) else "review"
        assert went.endswith(expected)

    review = client.get("/review").get_data(as_text=True)
    assert review.count(">Change<") == len(catalog.sections)
    assert "Itchy scalp and a hoarse voice" in review

    assert client.post("/submit", data={"confirm": "1"}).location.endswith("/done")
    queued = load_intake(app, patient.public_id).submission
    assert queued is not None and queued.pdf is None  # the request only queued the render
    assert run_jobs(app) == 1
    assert "Your answers have been sent" in client.get("/done").get_data(as_text=True)

    intake = load_intake(app, patient.public_id)
    submission = intake.submission
    assert submission is not None
    visibility = Visibility(frozenset(s.id for s in catalog.sections))
    expected = shown_answers(catalog, answers, visibility)
    for item_id, value in expected.items():  # multi-choice answers are stored in catalog order
        if catalog.item(item_id).type == "multi":
            expected[item_id] = [c for c in catalog.item(item_id).codes if c in value]
    assert submission.answers == expected
    assert submission.catalog_version == catalog.version == intake.catalog_version
    assert submission.pdf is not None and submission.pdf.startswith(b"%PDF")
    assert submission.pdf_sha256 and len(submission.pdf_sha256) == 64
    assert submission.pdf_renderer


def test_answers_are_saved_on_back_and_resumed_from_a_new_browser(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    assert post_step(client, "general", {"general.course": "worse"}).status_code == 303
    back = post_step(client, "stress", {"stress.level_month": "sometimes"}, action="back")
    assert back.location.endswith("/step/general")
    assert load_intake(app, patient.public_id).answers == {
        "general.course": "worse",
        "stress.level_month": "sometimes",
    }
    other_browser = app.test_client()
    sign_in(other_browser, patient)
    # Resumes after the furthest step saved, not at the start.
    assert other_browser.get("/welcome").status_code == 200
    response = other_browser.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980})
    assert response.status_code in (303, 401)


def test_returning_by_the_link_resumes_where_the_patient_stopped(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    post_step(client, "general", {"general.course": "worse"})
    saved = post_step(client, "stress", {"stress.level_month": "sometimes"}, action="save")
    assert saved.location.startswith("/saved?s=")
    # "Save and finish later" signs out: carrying on takes the link and the date of birth.
    assert "open the same link" in client.get(saved.location).get_data(as_text=True)
    assert client.get("/step/stress").status_code == 401
    sign_in(client, patient)
    # Halfway through a step: back to that step, not the one after.

    def come_back() -> str:
        returning = app.test_client()
        assert returning.get(f"/start?t={patient.token}").status_code == 303
        dob = {"dob-day": 27, "dob-month": 3, "dob-year": 1980}
        response = returning.post("/verify", data=dob)
        page = returning.get("/step/stress").get_data(as_text=True)
        assert re.search(r'value="sometimes"\s+checked', page)
        assert returning.post("/welcome").location == response.location  # "Start" resumes too
        return response.location

    assert come_back().endswith("/step/stress")
    # "Add more detail" keeps the patient on the step; so does coming back.
    post_step(client, "stress", {"stress.level_month": "sometimes"}, action="more")
    assert come_back().endswith("/step/stress")
    # After "Save and continue", the step they were sent to; after "Back", the one before.
    post_step(client, "stress", {"stress.level_month": "sometimes"})
    assert come_back().endswith("/step/sleep")
    post_step(client, "sleep", {}, action="back")
    assert come_back().endswith("/step/stress")


def test_two_tabs_never_silently_overwrite_each_other(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    stale = client.get("/step/general").get_data(as_text=True)
    stale_version = re.search(r'name="_version" value="(\d+)"', stale).group(1)  # type: ignore[union-attr]
    assert post_step(client, "general", {"general.course": "worse"}).status_code == 303

    second = post_step(client, "general", {"general.course": "better"}, version=stale_version)
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "changed in another window" in page
    assert re.search(r'value="better"\s+checked', page)  # the second tab's input is kept
    assert load_intake(app, patient.public_id).answers["general.course"] == "worse"

    # Pressing again from the re-shown page saves knowingly.
    again_version = re.search(r'name="_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    third = post_step(client, "general", {"general.course": "better"}, version=again_version)
    assert third.status_code == 303
    assert load_intake(app, patient.public_id).answers["general.course"] == "better"


@pytest.mark.usefixtures("shared_pdf")
def test_submitting_twice_creates_one_submission(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    post_step(client, "general", {"general.course": "same"})
    first = client.post("/submit", data={"confirm": "1"})
    second = client.post("/submit", data={"confirm": "1"})
    assert first.location.endswith("/done") and second.location.endswith("/done")
    with app.app_context():
        count = db.session().scalar(select(func.count()).select_from(Submission))
    assert count == 1


@pytest.mark.usefixtures("shared_pdf")
def test_answers_are_frozen_after_submit(app: Flask, client: FlaskClient, patient: Invited) -> None:
    post_step(client, "general", {"general.course": "same"})
    client.post("/submit", data={"confirm": "1"})
    late = client.post(
        "/step/general", data={"_shown": "general.course", "general.course": "worse"}
    )
    # A tab still open on a step: not saved, and the page says why and shows what was typed.
    assert late.status_code == 409
    page = late.get_data(as_text=True)
    assert "Your answers were already sent" in page and "What you typed on this page" in page
    assert "Got worse" in page.split('id="typed-heading"')[1]
    assert 'id="step-form"' not in page  # nothing to press that could not save
    # The same page posted again unchanged (a second click): nothing to say but where it stands.
    again = client.post(
        "/step/general", data={"_shown": "general.course", "general.course": "same"}
    )
    assert again.status_code == 303 and again.location.endswith("/done")
    intake = load_intake(app, patient.public_id)
    assert intake.answers["general.course"] == "same"
    assert intake.submission is not None and intake.submission.answers["general.course"] == "same"
    assert client.get("/review").location.endswith("/done")


@pytest.mark.usefixtures("shared_pdf")
def test_follow_up_appears_on_the_next_page_load_and_hidden_is_not_no(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    page = client.get("/step/general").get_data(as_text=True)
    # Drawn only hidden and disabled, for the page's script to show in place (test_reveal.py).
    assert 'name="_shown" value="general.severe_list"' not in page
    assert re.search(
        r'id="q-general\.severe_list" role="none" data-when=\'[^\']*\' hidden disabled>', page
    )
    response = post_step(client, "general", {"general.severe_episode": "yes"})
    assert response.location.endswith("/step/general?notice=more&new=general.severe_list")
    page = client.get(response.location).get_data(as_text=True)
    assert 'name="general.severe_list-0-what"' in page
    assert "Some more questions appeared" in page
    # The notice names the new question and links to it.
    text = get_catalog().item("general.severe_list").text
    assert f'<a href="#q-general.severe_list">{escape(text)}</a>' in page
    assert 'id="q-general.severe_list"' in page

    post_step(client, "general", {"general.severe_list-0-what": "Throat felt tight"})
    assert load_intake(app, patient.public_id).answers["general.severe_list"] == [
        {"what": "Throat felt tight"}
    ]
    # Closing the gate keeps the draft (nothing typed is lost) but the follow-up is not reported.
    post_step(client, "general", {"general.severe_episode": "no"})
    intake = load_intake(app, patient.public_id)
    assert intake.answers["general.severe_list"] == [{"what": "Throat felt tight"}]
    client.post("/submit", data={"confirm": "1"})
    submitted = load_intake(app, patient.public_id).submission
    assert submitted is not None
    assert "general.severe_list" not in submitted.answers
    assert submitted.answers["general.severe_episode"] == "no"


@pytest.mark.parametrize(
    ("section", "gate", "answer", "follow_up"),
    [
        ("general", "general.symptoms", "something_else", "general.symptoms_other"),
        ("stress", "stress.reaction.noticed", "something_else", "stress.reaction.other"),
        ("infection", "infection.told", "other", "infection.told_other"),
    ],
)
def test_something_else_is_followed_by_what_it_was_without_more_detail(
    client: FlaskClient, patient: Invited, section: str, gate: str, answer: str, follow_up: str
) -> None:
    """A patient who ticks "Something else" is asked what, on the core form (catalog 1.1)."""
    response = post_step(client, section, {gate: [answer]})
    assert f"/step/{section}?notice=more&new=" in response.location
    assert follow_up in response.location.split("new=")[1].split(",")
    page = client.get(response.location).get_data(as_text=True)
    assert f'id="f-{follow_up}"' in page


def test_optional_detail_is_offered_and_remembered(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    page = client.get("/step/stress").get_data(as_text=True)
    assert "Add more detail (optional)" in page
    assert "stress.control_month" not in page
    response = post_step(client, "stress", {"stress.level_month": "fairly_often"}, action="more")
    assert response.status_code == 303
    page = client.get("/step/stress").get_data(as_text=True)
    assert 'name="stress.control_month"' in page
    assert "Hide the optional questions" in page
    assert load_intake(app, patient.public_id).detail_sections == ["stress"]


def test_change_from_the_review_page_comes_back_to_it(
    client: FlaskClient, patient: Invited
) -> None:
    review = client.get("/review").get_data(as_text=True)
    assert 'href="/step/sleep?from=review"' in review
    page = client.get("/step/sleep?from=review").get_data(as_text=True)
    assert 'name="_return" value="review"' in page
    assert "Save and return to your answers" in page
    shown = re.findall(r'name="_shown" value="([^"]+)"', page)
    data = {"_return": "review", "_version": page_version(page), "_shown": shown}
    assert client.post("/step/sleep", data=data).location == "/review"
    # Working on the page keeps the way back.
    page = client.get("/step/sleep?from=review").get_data(as_text=True)
    more = {**data, "_version": page_version(page), "action": "more"}
    assert client.post("/step/sleep", data=more).location.startswith("/step/sleep?from=review#")
    # Without it, the next step as usual.
    assert post_step(client, "sleep", {}).location == "/step/diet"


class _StepFormButtons(HTMLParser):
    """The submit buttons of the step form, in page order, as the browser finds its default
    button: those inside it and those outside that name it (``form="step-form"``)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.inside = found.get("id") == "step-form"
        elif tag == "button" and found.get("type", "submit") == "submit":
            owner = found.get("form") or ("step-form" if self.inside else None)
            if owner == "step-form":
                self.values.append(found.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def test_enter_in_a_box_saves_and_continues(client: FlaskClient, patient: Invited) -> None:
    """Enter submits with the form's first button in the page: it must be "Save and continue",
    not the header's "Sign out", "Add more detail" or a list's "Save and add another"."""
    for section in get_catalog().sections:
        page = client.get(f"/step/{section.id}").get_data(as_text=True)
        buttons = _StepFormButtons()
        buttons.feed(page)
        assert "signout" in buttons.values, section.id  # the header's, saving the page first
        assert buttons.values[0] == "next", (section.id, buttons.values)


def test_a_list_entry_can_be_removed_even_with_a_choice_made(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    entries = {
        "med.takes_any": "yes",
        "med.current-0-name": "Cetirizine",
        "med.current-0-kind": "rx",
        "med.current-1-name": "Vitamin D",
        "med.current-1-kind": "supplement",
    }
    assert post_step(client, "med", {"med.takes_any": "yes"}).status_code == 303
    assert post_step(client, "med", entries).status_code == 303
    page = client.get("/step/med").get_data(as_text=True)
    assert 'value="remove:med.current:0"' in page and 'value="remove:med.current:1"' in page
    assert 'value="remove:med.current:2"' not in page  # the empty entry to type into
    removed = post_step(client, "med", {**entries, "action": "remove:med.current:0"})
    assert removed.location == "/step/med#q-med.current"
    rows = load_intake(app, patient.public_id).answers["med.current"]
    assert [row["name"] for row in rows] == ["Vitamin D"]

    # An entry with a mistake in it can still be removed; the rest is saved.
    bad = {"med.takes_any": "yes", "med.current-0-name": "Vitamin D", "med.current-0-kind": "supplement",
           "med.current-1-name": "X", "med.current-1-since-year": "20"}  # fmt: skip
    assert post_step(client, "med", bad).status_code == 422
    removed = post_step(client, "med", {**bad, "action": "remove:med.current:1"})
    assert removed.status_code == 303
    rows = load_intake(app, patient.public_id).answers["med.current"]
    assert [row["name"] for row in rows] == ["Vitamin D"]


def test_after_a_removal_a_row_s_error_stays_on_that_row(
    client: FlaskClient, patient: Invited
) -> None:
    """Removing a row leaves the others with the indices they were posted with (1, 2, ...): a
    mistake in one of them must be shown, and linked from the summary, on its own year box, not
    on the row that now sits at its position."""
    rows = {"med.takes_any": "yes", "med.current-0-name": "Cetirizine",
            "med.current-1-name": "Vitamin D", "med.current-1-since-year": "2020",
            "med.current-2-name": "Iron", "med.current-2-since-year": "20"}  # fmt: skip
    assert post_step(client, "med", {"med.takes_any": "yes"}).status_code == 303
    page = post_step(client, "med", {**rows, "action": "remove:med.current:0"})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'href="#f-med.current-2-since-year"' in html  # Iron's box, not Vitamin D's
    assert 'id="f-med.current-2-since-year-error"' in html
    assert 'id="f-med.current-1-since-year-error"' not in html
    assert 'id="f-med.current-2-since-year"' in html


def test_a_page_shown_again_keeps_one_empty_row(client: FlaskClient, patient: Invited) -> None:
    """A page with a mistake, shown again, keeps the one empty row it was sent with: it does not
    gain another each time."""
    assert post_step(client, "med", {"med.takes_any": "yes"}).status_code == 303
    bad = {"med.takes_any": "yes", "med.current-0-name": "Cetirizine",
           "med.current-0-since-year": "20", "med.current-1-name": ""}  # fmt: skip
    html = post_step(client, "med", bad).get_data(as_text=True)
    assert 'id="q-med.current-1"' in html and 'id="q-med.current-2"' not in html


def test_add_more_detail_offers_only_questions_that_can_appear(
    client: FlaskClient, patient: Invited
) -> None:
    catalog = get_catalog()
    med = client.get("/step/med").get_data(as_text=True)
    assert "There is 1 optional question for this part." in med
    general = client.get("/step/general").get_data(as_text=True)
    assert "There are 6 optional questions for this part." in general  # of 10: 4 follow-ups
    # A section the patient chose to skip offers nothing more.
    gate = catalog.section("trauma").items[0]
    assert client.get("/step/trauma").status_code == 200
    skip = next(o.code for o in gate.options if o.code.startswith("skip"))
    post_step(client, "trauma", {gate.id: skip})
    page = client.get("/step/trauma").get_data(as_text=True)
    # Only in the template its script shows if the answer on the page changes (test_reveal.py).
    drawn = re.sub(r'<template id="more-offer">.*?</template>', "", page, flags=re.S)
    assert "Add more detail" not in drawn and "Add more detail" in page


def test_hiding_the_optional_questions_says_their_answers_will_not_be_sent(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Hiding them withdraws their answers from what is sent: the page says so, before and after,
    and showing them again brings the answers back."""
    post_step(client, "stress", {"stress.level_month": "sometimes"}, action="more")
    page = client.get("/step/stress").get_data(as_text=True)
    assert "will not be sent" not in page  # nothing answered yet: nothing to warn about
    answered = {"stress.level_month": "sometimes", "stress.control_month": "very_often"}
    post_step(client, "stress", answered, action="more")
    page = client.get("/step/stress").get_data(as_text=True)
    assert "If you hide them, your answer to 1 of them will not be sent." in page
    post_step(client, "stress", answered, action="less")
    page = client.get("/step/stress").get_data(as_text=True)
    assert "Your earlier answer to 1 of them is kept, but not sent unless you show them" in page
    hidden = load_intake(app, patient.public_id)
    sent = shown_answers(get_catalog(), hidden.answers, visibility_for(hidden))
    assert "stress.control_month" not in sent and hidden.answers["stress.control_month"]
    post_step(client, "stress", {"stress.level_month": "sometimes"}, action="more")
    assert 'value="very_often" checked' in client.get("/step/stress").get_data(as_text=True)
