"""Honest limits (issue 15, item 5): a box counts as the patient's browser counts, text over a
limit or bytes that are no UTF-8 are that answer's message with everything kept, and a list
with more entries than it holds is a message, never a silent cut."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from forms.loader import get_catalog
from intake import db
from intake.models import Intake
from tests.clinic_accounts import login, make_user
from tests.conftest import Invited, load_intake, page_version, post_step

#: The closing box: the longest there is.
CLOSING = "closing.anything_else"


def _summary(response: TestResponse) -> str:
    page = response.get_data(as_text=True)
    return page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]


def test_a_box_filled_to_its_limit_in_the_browser_is_accepted(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """5,000 characters with 49 line breaks, as a browser's maxlength and the page's counter
    count them, arrive as 5,049 (each break sent as CRLF): they fit, and are stored whole."""
    limit = get_catalog().item(CLOSING).max_length
    assert limit == 5000
    lines = ["x" * 100] * 50
    typed = "\n".join(lines)[: limit - 1] + "y"
    assert len(typed) == limit and typed.count("\n") == 49
    response = post_step(client, "closing", {CLOSING: typed.replace("\n", "\r\n")})
    assert response.status_code == 303, _summary(response)
    assert load_intake(app, patient.public_id).answers[CLOSING] == typed


def test_text_over_the_limit_is_kept_whole_and_said_by_how_much(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """A paste over the limit is not cut (no maxlength on any box), and after a send the page
    says how far over it is, with every character still in the box; nothing of it is saved."""
    page = client.get("/step/closing").get_data(as_text=True)
    assert "maxlength" not in page
    assert f'id="f-{CLOSING}" name="{CLOSING}" rows="8" data-limit="5000"' in page
    pasted = "A long history. " * 320 + "The end."  # 5,128 characters
    response = post_step(client, "closing", {CLOSING: pasted, "closing.visit_goals": "Answers"})
    assert response.status_code == 422
    assert "128 characters longer than the 5000 that fit" in _summary(response)
    assert pasted in response.get_data(as_text=True)
    stored = load_intake(app, patient.public_id).answers
    assert CLOSING not in stored


def test_a_medicine_s_name_dose_and_what_else_was_noticed_have_room() -> None:
    """The limits that were tight (name 80, dose 60, "What else did you notice?" 200)."""
    catalog = get_catalog()
    current = {f.id: f.max_length for f in catalog.item("med.current").fields}
    assert current["name"] >= 150 and current["dose"] >= 150 and current["reason"] >= 150
    reactions = {f.id: f.max_length for f in catalog.item("med.reaction_list").fields}
    assert reactions["name"] >= 150
    assert catalog.item("stress.reaction.other").max_length >= 500


def test_a_long_medicine_name_and_dose_are_saved(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    name = "Cetirizine hydrochloride 10 mg film-coated tablets (the own-brand ones from the pharmacy near work, not Zyrtec)"
    dose = "One in the morning, and a second one at night on bad days; two at once before a dental visit"
    assert len(name) > 80 and len(dose) > 60
    rows = {"med.takes_any": "yes", "med.current-0-name": name, "med.current-0-dose": dose}
    post_step(client, "med", {"med.takes_any": "yes"}, action="next")
    response = post_step(client, "med", rows, action="next")
    assert response.status_code == 303, _summary(response)
    stored = load_intake(app, patient.public_id).answers["med.current"]
    assert stored == [{"name": name, "dose": dose}]


def _raw_step(client: FlaskClient, section: str, body: str, **extra: Any) -> TestResponse:
    """Post a step with a body written by hand (percent escapes sent as they are)."""
    page = client.get(f"/step/{section}").get_data(as_text=True)
    shown = re.findall(r'name="_shown" value="([^"]+)"', page)
    fields = [f"_version={page_version(page)}", "action=next", *(f"_shown={s}" for s in shown)]
    return client.post(
        f"/step/{section}",
        data="&".join([*fields, body]),
        content_type="application/x-www-form-urlencoded",
        **extra,
    )


def test_bytes_that_are_no_utf8_are_that_answer_s_message_and_the_rest_is_saved(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Werkzeug kept such bytes as the text "%FF%FE" and the step saved it as typed."""
    body = "general.completed_by=self&general.main_concerns=Tired%FF%FE+all+day%ED%A0%80"
    response = _raw_step(client, "general", body)
    assert response.status_code == 422
    assert "arrived damaged and could not be read" in _summary(response)
    page = response.get_data(as_text=True)
    assert "Tired all day" in page  # the rest of what was typed, to check and send again
    assert "%FF" not in page and "\ufffd" not in page
    stored = load_intake(app, patient.public_id).answers
    assert stored["general.completed_by"] == "self"
    assert "general.main_concerns" not in stored


def test_a_multipart_post_that_is_no_utf8_is_refused_not_saved_as_replacements(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Werkzeug decodes a multipart field with U+FFFD for each bad byte; no page of the service
    sends multipart, so such a body is refused whole."""
    page = client.get("/step/general").get_data(as_text=True)
    parts = {"_version": page_version(page), "_shown": "general.main_concerns", "action": "next"}
    body = b"".join(
        b'--x\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v)
        for k, v in [*((k, v.encode()) for k, v in parts.items()),
                     ("general.main_concerns", b"Tired \xff\xfe all day")]
    ) + b"--x--\r\n"  # fmt: skip
    response = client.post(
        "/step/general", data=body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 400
    assert "general.main_concerns" not in load_intake(app, patient.public_id).answers


def test_bytes_that_are_no_utf8_in_a_clinic_form_are_refused(
    app: Flask, client: FlaskClient
) -> None:
    """An invitation's name arrived as the text "Jo%FFe" and was stored so (201)."""
    make_user(app)
    assert login(client).status_code == 303
    tomorrow = date.today() + timedelta(days=1)
    form = {"family_name": "Doe", "date_of_birth": "1980-03-27", "valid_days": "14"}
    form |= {"appointment_date": tomorrow.isoformat(), "appointment_time": "14:30"}
    body = "&".join(f"{k}={v}" for k, v in form.items()) + "&given_name=Jo%FFe"
    response = client.post(
        "/clinic/invitations/new", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session().scalars(select(Intake)).all() == []


def test_more_entries_than_a_list_holds_are_a_message_not_a_silent_cut(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Six severe episodes for a list of five: WTForms dropped the sixth and the page said
    saved. Now all six come back with the message, and the stored list is as it was."""
    item = get_catalog().item("general.severe_list")
    assert item.max_rows == 5
    post_step(client, "general", {"general.severe_episode": "yes"}, action="next")
    kept = {"general.severe_episode": "yes", "general.severe_list-0-what": "Throat closed"}
    assert post_step(client, "general", kept, action="next").status_code == 303
    six = {f"general.severe_list-{n}-what": f"Episode number {n + 1}" for n in range(6)}
    response = post_step(client, "general", {"general.severe_episode": "yes", **six})
    assert response.status_code == 422
    summary = _summary(response)
    assert "holds up to 5 entries, and 6 were sent" in summary
    assert 'href="#f-general.severe_list"' in summary
    page = response.get_data(as_text=True)
    assert 'id="f-general.severe_list"' in page
    for n in range(6):
        assert f"Episode number {n + 1}" in page
    stored = load_intake(app, patient.public_id).answers
    assert stored["general.severe_list"] == [{"what": "Throat closed"}]
    # "Remove" on one of them: five fit, and are saved.
    response = post_step(
        client,
        "general",
        {"general.severe_episode": "yes", **six},
        action="remove:general.severe_list:5",
    )
    assert response.status_code == 303
    stored = load_intake(app, patient.public_id).answers["general.severe_list"]
    assert [row["what"] for row in stored] == [f"Episode number {n + 1}" for n in range(5)]


def test_damaged_bytes_anywhere_on_a_step_are_a_message_never_a_500(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """In every kind of answer (a choice, a year, a list entry's box) the answer's own message;
    in the step's own fields (resume ticket, version, button) the edge's 400. The ticket is read
    by code that expects text: a surrogate there was a 500."""
    post_step(client, "general", {"general.severe_episode": "yes"}, action="next")
    answers = (
        "general.course=wo%FFrse&general.symptoms=hi%FFves&general.onset_year-year=20%FF10"
        "&general.severe_episode=yes&general.severe_list-0-what=Thr%FFoat"
        "&general.severe_list-0-care=e%FFr&general.severe_list-0-year-unknown=not%FF"
    )
    response = _raw_step(client, "general", answers)
    assert response.status_code == 422
    summary = _summary(response)
    assert summary.count("<li>") == 6, summary  # one each: the year box says only one thing
    assert summary.count("arrived damaged") == 2  # the two boxes; the choices are not offered
    for own in ("_resume=ab%FFcd", "_version=1%FF", "action=n%FFext", "dob-day=2%FF7"):
        assert _raw_step(client, "general", own).status_code == 400, own
    # After the session ended, the page's resume ticket and date of birth sign back in.
    signed_out = "_resume=ab%FFcd&dob-day=27&dob-month=3&dob-year=1980&action=next"
    response = app.test_client().post(
        "/step/general", data=signed_out, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
