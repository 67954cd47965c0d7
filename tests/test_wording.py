"""No diagnosis, score or advice wording in anything the service writes (patient text excluded).

Scanned: every catalog string, every patient page, the review page and the PDF. Patient free text
is printed verbatim and may say anything, so it is stripped (it always sits in a ``patient-text``
element) before scanning; the canaries prove both the scanner and the stripping work.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
from intake.pdf import document as pdf
from intake.pdf.engine import render_html_pdf
from intake.pdf.summary import build_summary
from tests.clinic_accounts import login, make_user
from tests.conftest import Invited, post_step, sign_in
from tests.extracted_text import PATIENT_TEXT, visible_text
from tests.forbidden_phrases import condition_words, violations
from tests.formdata import section_formdata
from tests.mixed import MIXED_DETAIL, mixed_answers


def catalog_strings() -> Iterator[tuple[str, str]]:
    catalog = get_catalog()
    for section in catalog.sections:
        yield section.id, " ".join([section.title, section.intro])
        for item in section.items:
            labels = [o.label for o in item.options] + [r.label for r in item.rows]
            labels += [f.label for f in item.fields]
            labels += [o.label for f in item.fields for o in f.options]
            yield item.id, " ".join([item.text, item.help or "", *item.anchors, *labels])


@pytest.mark.parametrize(("where", "text"), list(catalog_strings()))
def test_catalog_wording(where: str, text: str) -> None:
    assert violations(text, patient_form=True) == [], where


def _fill_every_step(client: FlaskClient) -> list[str]:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    pages = []
    for section in catalog.sections:
        post_step(client, section.id, {}, action="more")
        for _ in range(3):
            post_step(client, section.id, section_formdata(section.items, answers))
        pages.append(client.get(f"/step/{section.id}").get_data(as_text=True))
    return pages


@pytest.mark.usefixtures("shared_pdf")
def test_patient_pages_wording(app: Flask, client: FlaskClient, invite) -> None:  # type: ignore[no-untyped-def]
    invited: Invited = invite()
    pages = [client.get("/start?t=unknown").get_data(as_text=True)]
    client.get(f"/start?t={invited.token}")
    pages.append(client.get("/verify").get_data(as_text=True))
    pages.append(
        client.post("/verify", data={"dob-day": 1, "dob-month": 1, "dob-year": 1900}).get_data(
            as_text=True
        )
    )
    client.post("/verify", data={"dob-day": 27, "dob-month": 3, "dob-year": 1980})
    pages.append(client.get("/welcome").get_data(as_text=True))
    pages += _fill_every_step(client)
    pages.append(
        post_step(client, "general", {"general.onset_year-year": "x"}).get_data(as_text=True)
    )
    pages.append(client.get("/review").get_data(as_text=True))
    # "Save and finish later" in another browser: the page after it, and that browser's steps.
    other = app.test_client()
    sign_in(other, invited)
    left = post_step(other, "general", {}, action="save").location
    pages.append(other.get(left).get_data(as_text=True))
    pages.append(other.get("/step/general").get_data(as_text=True))
    client.post("/submit", data={"confirm": "1"})
    pages.append(client.get("/done").get_data(as_text=True))
    pages.append(client.get(client.post("/sign-out").location).get_data(as_text=True))
    pages.append(app.test_client().get("/review").get_data(as_text=True))
    for page in pages:
        text = visible_text(page)
        assert len(text.split()) > 15
        assert violations(text, patient_form=True) == [], text[:300]


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _demo_html(
    app: Flask,
    patient_note: str | None = None,
    answers: dict[str, Any] | None = None,
    detail: frozenset[str] | None = None,
) -> str:
    catalog = get_catalog()
    answers = demo_answers(catalog) if answers is None else answers
    if patient_note:
        answers["closing.anything_else"] = patient_note
    opened = frozenset(demo_detail_sections(catalog)) if detail is None else detail
    summary = build_summary(catalog, answers, Visibility(opened))
    header = demo_pdf_header("ABCD-EFGH-JKMN", "UTC")
    with app.test_request_context():
        return pdf.summary_html(summary, header)


def _service_pdf_text(app: Flask, html: str, tmp_path: Path) -> str:
    """Render the summary with every patient-text element removed, and extract its text."""
    with app.test_request_context():
        data = render_html_pdf(PATIENT_TEXT.sub("", html))
    return _pdf_text(data, tmp_path)


def test_pdf_wording(app_without_database: Flask, tmp_path: Path) -> None:
    app = app_without_database  # renders only: never the database
    text = _service_pdf_text(app, _demo_html(app), tmp_path)
    assert "Pre-visit history" in text
    assert violations(text) == []


def test_canary_a_planted_phrase_in_service_text_is_caught(
    app_without_database: Flask, tmp_path: Path
) -> None:
    app = app_without_database  # renders only: never the database
    html = _demo_html(app).replace(
        "Pre-visit history", "We recommend a low-histamine diet. Pre-visit history", 1
    )
    assert r"\brecommend\w*" in violations(_service_pdf_text(app, html, tmp_path))
    for planted in (
        "Your PSS total: 12/16",
        "Screen positive for PTSD",
        "Findings consistent with MCAS",
        "High risk of sleep apnea",
        "recom-\nmended",
        "Patient likely has mast cell activation",
        "Grade 2 systemic reaction",
    ):
        assert violations(planted), planted


def test_canary_patient_words_are_printed_but_not_held_against_the_service(
    app_without_database: Flask, tmp_path: Path
) -> None:
    app = app_without_database  # renders only: never the database
    note = "My doctor said you should take X and it was consistent with a diagnosis."
    html = _demo_html(app, patient_note=note)
    with app.test_request_context():
        whole = _pdf_text(render_html_pdf(html), tmp_path)
    assert "you should take X" in " ".join(whole.split())  # printed verbatim ...
    assert violations(whole)  # ... so an unstripped scan would flag it
    assert violations(_service_pdf_text(app, html, tmp_path)) == []  # the service's words are clean


# --- issue 17: the article's category names never stand next to an answer -----------------------

APPENDIX = "Appendix: topics and the referral article"


@pytest.mark.parametrize("mixed", [False, True], ids=["demo", "mixed-with-a-no"])
def test_pdf_names_each_topic_by_what_was_asked(
    app_without_database: Flask, tmp_path: Path, mixed: bool
) -> None:
    """Page 1, every heading and every answer read without "Chronic pain", "Dental foci",
    "Toxins"...: those appear once, in the appendix. The mixed answers say "No" to ongoing pain,
    so its section is headed by what was asked ("Pain"), not by a condition."""
    app = app_without_database  # renders only: never the database
    catalog = get_catalog()
    answers = mixed_answers(catalog) if mixed else None
    html = _demo_html(app, answers=answers, detail=MIXED_DETAIL if mixed else None)
    text = _service_pdf_text(app, html, tmp_path)
    body, appendix = text.split(APPENDIX, 1)
    assert condition_words(body) == []
    assert len(condition_words(appendix)) == 9, "the appendix names the categories (canary)"
    if mixed:
        assert "Pain Not shown (did not apply to earlier answers)" in " ".join(body.split())


def test_a_category_name_next_to_an_answer_is_caught() -> None:
    for planted in (
        "Topic area: Mitochondrial dysfunction",
        "Dental foci Reported",
        "Hormonal imbalances",
        "Micronutrient deficiencies",
        "Chronic pain No",
        "Toxins (environmental exposures)",
        "Trauma (patient-reported exposure only)",
    ):
        assert condition_words(planted), planted
    assert condition_words("Teeth and gums (dental history) Reported") == []


@pytest.mark.usefixtures("shared_pdf")
def test_the_clinic_page_names_each_topic_by_what_was_asked(
    app: Flask, client: FlaskClient, submitted: Callable[..., str]
) -> None:
    make_user(app)
    assert login(client).status_code == 303
    html = client.get(f"/clinic/intakes/{submitted()}").get_data(as_text=True)
    body, appendix = html.split('id="topic-areas"')
    assert condition_words(visible_text(body)) == []
    assert len(condition_words(visible_text(appendix))) == 9  # canary: the appendix is there
