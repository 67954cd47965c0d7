"""Issue 15, item 8: the catalog 1.2 wording batch from the reviews, each point checked where the
patient meets it (the form, the review page, the header) or in the catalog itself."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from forms.loader import get_catalog
from forms.schema import Catalog
from intake import db
from intake.models import Intake
from tests.conftest import Invited, load_intake, post_step
from tests.extracted_text import squash, visible_text

#: British spellings of words the catalog uses in their US form (mold, color, diarrhea...).
UK_SPELLINGS = (
    r"\bhot flush",
    r"\bmould",
    r"\bcolour",
    r"anaesth",
    r"\bhaem",
    r"\bdiarrhoea",
    r"\banaemi",
    r"\boedema",
    r"\bcentre",
    r"\bfibre",
    r"\bbehaviour",
    r"\bjewellery",
    r"\bpaediatr",
    r"\bgrey\b",
)


def catalog_texts(catalog: Catalog) -> list[str]:
    """Every word of the catalog a patient or clinician reads."""
    texts = []
    for section in catalog.sections:
        texts += [section.title, section.title_pdf, section.intro]
        for item in section.items:
            texts += [item.text, item.help or "", *item.anchors]
            texts += [o.label for o in (*item.options, *item.rows)]
            texts += [o.short for o in item.options if o.short]
            texts += [f.label for f in item.fields]
            texts += [o.label for f in item.fields for o in f.options]
            texts += [o.short for f in item.fields for o in f.options if o.short]
    return texts


def test_the_review_page_shows_a_list_row_s_choices_as_the_patient_saw_them(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The review printed the clinician's short labels ("Fast/pounding heartbeat") in the food
    and medicine rows, where the patient had ticked "Fast or pounding heartbeat"."""
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == patient.public_id)).one()
        intake.answers = {
            "diet.reacts_food": "yes",
            "diet.food_list": [
                {"food": "Red wine", "symptoms": ["tachycardia", "flushing"], "onset": "minutes"}
            ],
        }
    review = squash(visible_text(client.get("/review").get_data(as_text=True)))
    catalog = get_catalog()
    symptoms = next(f for f in catalog.item("diet.food_list").fields if f.id == "symptoms")
    onset = next(f for f in catalog.item("diet.food_list").fields if f.id == "onset")
    for field, code in ((symptoms, "tachycardia"), (symptoms, "flushing"), (onset, "minutes")):
        option = next(o for o in field.options if o.code == code)
        assert option.short and option.short != option.label  # the case in point
        assert option.label in review, code
        assert option.short not in review, code


def test_the_header_names_no_clinic_when_none_is_set(app: Flask, client: FlaskClient) -> None:
    """Without CLINIC_NAME the patient pages' header said "your clinic", in lower case."""
    for name in ("", "Eastside Clinic"):
        app.config["CLINIC_NAME"] = name
        page = client.get("/start?t=unknown").get_data(as_text=True)
        header = page[page.index('<header class="site">') : page.index("</header>")]
        assert "your clinic" not in header.lower()
        assert ('<p class="clinic">' in header) == bool(name)
        assert name in header


def test_pregnant_and_breastfeeding_can_both_be_chosen(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    question = next(i for i in get_catalog().section("hormone").items if "breastfeeding" in i.text)
    assert post_step(client, "hormone", {"hormone.periods": "have"}).status_code == 303
    both = {"hormone.periods": "have", question.id: ["pregnant", "breastfeeding"]}
    assert post_step(client, "hormone", both).status_code == 303
    answers = load_intake(app, patient.public_id).answers
    assert answers[question.id] == ["pregnant", "breastfeeding"]


def test_a_pregnancy_can_be_said_to_have_made_things_better_afterwards() -> None:
    changes = next(
        i for i in get_catalog().section("hormone").items if "during or after pregnancy" in i.text
    )
    labels = [o.label for o in changes.options]
    assert "Better after the pregnancy ended" in labels
    assert "Started or got worse after the pregnancy ended" in labels
    assert changes.kind.name == "multi"  # better during and worse after, say


def test_the_stress_frequencies_all_run_the_same_way() -> None:
    """Never ... Very often means more strain in each: "could handle your personal problems" ran
    the other way from its neighbours."""
    frequencies = [
        i for i in get_catalog().section("stress").items if i.options and "how often" in i.text
    ]
    assert len(frequencies) == 3
    assert not [i.id for i in frequencies if "could handle" in i.text]
    assert any("could not cope" in i.text for i in frequencies)


def test_supplements_are_asked_about_once() -> None:
    """The vitamins page asked "Do you take any ... supplements?", and the medicines page asked
    "Do you take any medicines, vitamins or supplements?" again."""
    catalog = get_catalog()
    yes_no = [
        i.id
        for i in catalog.items()
        if i.kind.one_code and re.search(r"\bsupplements?\b", i.text, re.I)
    ]
    assert yes_no == ["nutrient.supplements"]
    medicines = catalog.item("med.current")
    gates = {c.item for c in medicines.enable_when.conditions}  # type: ignore[union-attr]
    assert gates == {"med.takes_any", "nutrient.supplements"}  # listed with the medicines


def test_catalog_words_are_us_spelling_and_match_their_pages() -> None:
    texts = " ".join(catalog_texts(get_catalog()))
    assert [w for w in UK_SPELLINGS if re.search(w, texts, re.I)] == []
    assert "per row" not in texts  # the list's page says "Entry 1", "Entry 2"
    pain = get_catalog().section("pain").intro
    assert "under 0" not in pain and "what 0 and 10 mean" in pain
    when = next(i for i in get_catalog().section("trauma").items if i.id == "trauma.when")
    assert "It is still going on" in [o.label for o in when.options]


def test_the_two_questions_that_leaned_towards_a_cause_are_neutral() -> None:
    catalog = get_catalog()
    foods = catalog.item("diet.food_groups")
    assert foods.text.startswith("Some people notice symptoms after eating certain foods. Others")
    assert "None of these" in (foods.help or "")
    started = catalog.item("general.started_around")
    assert "something that happened" not in started.text
    assert started.text.startswith("Around the time your symptoms began, were there other changes")
