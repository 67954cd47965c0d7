"""The review page (issue 15, item 4): a status list of the parts at the top, "Send my answers"
at the top and at the bottom, and words that name the button as it reads."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms.loader import get_catalog
from intake import db
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.models import Intake
from tests.conftest import Invited


def _answer(app: Flask, public_id: str, answers: dict[str, object]) -> None:
    catalog = get_catalog()
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == public_id)).one()
        intake.answers = answers
        intake.detail_sections = demo_detail_sections(catalog)
        intake.sections_saved = [s.id for s in catalog.sections]


def test_the_review_opens_with_each_part_s_state_and_a_send_button(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    answers = demo_answers(get_catalog())
    del answers["stress.ongoing"]  # one question of the part left blank: partly
    for key in [k for k in answers if k.startswith("sleep.")]:
        del answers[key]  # nothing at all: skipped
    answers = {k: v for k, v in answers.items() if not k.startswith("trauma.")}
    answers["trauma.consent"] = "skip"  # the patient chose to skip it
    _answer(app, patient.public_id, answers)

    page = client.get("/review").get_data(as_text=True)
    top = page.split('class="review-section"', 1)[0]
    states = dict(
        re.findall(r'<li><a href="#r-([a-z]+)">[^<]*</a>: <span[^>]*>([^<]+)</span>', top)
    )
    assert len(states) == len(get_catalog().sections)
    assert states["general"] == "answered"
    assert states["stress"] == "partly answered"
    assert states["sleep"] == "skipped"
    assert states["trauma"] == "skipped, as you chose"
    assert "can be sent as they are: every question is optional" in top
    for section in get_catalog().sections:
        assert f'id="r-{section.id}"' in page  # each state links to its part below

    # Send at the top, before the first part, and again at the bottom; the words name the
    # button as it reads.
    forms = re.findall(r'<form method="post" action="/submit"[^>]*>.*?</form>', page, re.S)
    assert len(forms) == 2
    assert page.index(forms[0]) < page.index('class="review-section"') < page.rindex(forms[1])
    for form in forms:
        assert ">Send my answers</button>" in form and 'name="csrf_token"' in form
    assert "When you press “Send my answers”" in page
    assert "When you press Send," not in page
