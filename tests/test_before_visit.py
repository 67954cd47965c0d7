"""Issue 17: what a clinician with two minutes reads first. "Before the visit" at the top of page 1
and of the clinic's intake page, built from catalog flags alone (an item's ``before_visit``): the
patient's own words about the visit first, then each flagged question whenever answered. The tests
find the flagged questions through the catalog too, never by id."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from forms.logic import Visibility
from forms.schema import Catalog, Item
from intake.intakes.demo import demo_answers, demo_detail_sections, demo_pdf_header
from intake.pdf.document import render_summary_pdf
from intake.pdf.summary import Summary, build_summary
from tests.clinic_accounts import login, make_user
from tests.extracted_text import pdf_text, squash, visible_text

START = "Before the visit"
GLANCE = "At a glance: reactions the patient reported, by topic"


def flagged(catalog: Catalog, kind: str) -> list[Item]:
    return [item for item in catalog.items() if item.before_visit == kind]


def _opened(catalog: Catalog) -> Visibility:
    return Visibility(
        detail_sections=frozenset(demo_detail_sections(catalog)),
        clinic_opt_ins=frozenset(i.id for i in catalog.items() if i.clinic_opt_in),
    )


def _summary(catalog: Catalog, answers: dict[str, Any]) -> Summary:
    return build_summary(catalog, answers, _opened(catalog))


def _block(summary: Summary) -> list[tuple[str, str]]:
    """(part of the form, item id) of each row of the block, in the order printed."""
    return [(part.section_title, row.item_id) for part in summary.before_visit for row in part.rows]


@pytest.fixture
def page_one(app_without_database: Flask, tmp_path: Path) -> Callable[..., str]:
    """Render answers to the PDF and return page 1's text, squashed."""

    def render(answers: dict[str, Any], catalog: Catalog | None = None) -> str:
        catalog = catalog or get_catalog()
        with app_without_database.app_context():
            data = render_summary_pdf(_summary(catalog, answers), demo_pdf_header())
        return squash(pdf_text(data, tmp_path).split("\f")[0])

    return render


def _block_text(page: str) -> str:
    """Page 1 from "Before the visit" to the at-a-glance table."""
    return page[page.index(START) : page.index(GLANCE)]


# --- the builder ---------------------------------------------------------------------------------


def test_the_catalog_flags_the_patient_s_own_words_and_the_questions_brought_forward() -> None:
    """The flags say what the issue asks for; the builder itself knows no id."""
    catalog = get_catalog()
    assert [i.id for i in flagged(catalog, "own_words")] == [
        "general.visit_priorities",
        "general.main_concerns",
    ]
    assert [i.id for i in flagged(catalog, "answered")] == [
        "general.severe_episode",
        "general.severe_list",
        "trauma.discuss",
    ]
    source = Path("intake/pdf/before_visit.py").read_text(encoding="utf-8")
    assert not [i.id for i in catalog.items() if i.id in source]


def test_own_words_come_first_whatever_they_are_and_the_others_only_when_answered() -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    full = _block(_summary(catalog, answers))
    own = [i.id for i in flagged(catalog, "own_words")]
    answered = [i.id for i in flagged(catalog, "answered")]
    assert [item_id for _, item_id in full] == own + answered  # the form's order, own words first

    # Without any answer: the own words still lead, "Not answered"; nothing else is shown.
    summary = _summary(catalog, {})
    rows = [row for part in summary.before_visit for row in part.rows]
    assert [row.item_id for row in rows] == own
    assert {row.state_text for row in rows} == {"Not answered"}

    # Each question brought forward is there exactly when it was answered, any answer.
    for item in flagged(catalog, "answered"):
        without = {k: v for k, v in answers.items() if k != item.id}
        assert item.id not in [i for _, i in _block(_summary(catalog, without))], item.id
        for given in ("not_sure", "prefer_not"):
            if given in item.codes:
                shown = _block(_summary(catalog, {**answers, item.id: given}))
                assert item.id in [i for _, i in shown], (item.id, given)


def test_each_row_names_the_part_of_the_form_it_was_asked_in() -> None:
    catalog = get_catalog()
    block = _summary(catalog, demo_answers(catalog)).before_visit
    for part in block:
        for row in part.rows:
            section = catalog.section(catalog.item(row.item_id).section_id)
            assert part.section_title == section.title_pdf
    assert len({part.section_title for part in block}) == len(block)  # one name per run of rows


def test_an_older_version_brings_forward_its_own_questions() -> None:
    """Answers given under 1.0 and 1.1 (one free-text box each for concerns and goals) get the
    block too, from the reading keys added to their archived files."""
    for version in ("1.0", "1.1"):
        catalog = get_catalog(version)
        ids = [i for _, i in _block(_summary(catalog, demo_answers(catalog)))]
        assert ids == [
            "general.main_concerns",
            "closing.visit_goals",
            "general.severe_episode",
            "general.severe_list",
            "trauma.discuss",
        ], version


# --- page 1 of the PDF ---------------------------------------------------------------------------


def test_page_one_opens_with_the_block_the_patient_s_words_first_in_their_order(
    page_one: Callable[..., str],
) -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    page = page_one(answers)
    assert page.index(START) < page.index(GLANCE)
    block = _block_text(page)
    priorities = flagged(catalog, "own_words")[0]
    wishes = [row["topic"] for row in answers[priorities.id]]
    numbered = [f"{n}. “{wish}”" for n, wish in enumerate(wishes, start=1)]
    positions = [block.index(line) for line in numbered]
    assert positions == sorted(positions), "printed in the patient's order"
    concerns = flagged(catalog, "own_words")[1]
    assert f"“{squash(answers[concerns.id])}”" in block
    assert block.index(numbered[-1]) < block.index(concerns.text)
    for item in flagged(catalog, "answered"):
        assert squash(item.text) in block, item.id
    severe = flagged(catalog, "answered")[0]
    assert f"{squash(severe.text)} Yes" in block
    episodes = answers[flagged(catalog, "answered")[1].id]
    assert f"“{episodes[0]['what']}”" in block  # the episode rows, in the patient's words
    assert "Hard or frightening experiences" in block
    assert "Maybe later" in block
    for word in ("urgent", "priority", "score", "flag", "alert"):
        assert word not in block.lower(), word


def test_page_one_shows_a_question_brought_forward_only_when_answered(
    page_one: Callable[..., str],
) -> None:
    """An intake with and without each flagged answer: its question is on page 1 exactly when
    the patient answered it. A "No" is printed like a "Yes": no answer is picked by its value."""
    catalog = get_catalog()
    answers = demo_answers(catalog)
    kind = "answered"
    for item in flagged(catalog, kind):
        without = {k: v for k, v in answers.items() if k != item.id}
        assert squash(item.text) not in _block_text(page_one(without)), item.id
    severe = flagged(catalog, kind)[0]
    no = _block_text(page_one({**answers, severe.id: "no"}))
    assert f"{squash(severe.text)} No" in no
    episodes = flagged(catalog, kind)[1]
    assert squash(episodes.text) not in no  # not asked after "No"


def test_page_one_says_not_answered_for_own_words_left_blank(
    page_one: Callable[..., str],
) -> None:
    catalog = get_catalog()
    answers = {
        k: v
        for k, v in demo_answers(catalog).items()
        if k not in {i.id for i in flagged(catalog, "own_words")}
    }
    block = _block_text(page_one(answers))
    for item in flagged(catalog, "own_words"):
        assert f"{squash(item.text)} Not answered" in block, item.id


def test_page_one_names_the_foods_and_medicines_whole_and_in_order(
    app_without_database: Flask, tmp_path: Path
) -> None:
    """Every food and medicine a list names, as typed and whole, under its topic; many long
    names push the table on to page 2 rather than being cut."""
    catalog = get_catalog()
    answers = demo_answers(catalog)
    first = squash(_pages(app_without_database, tmp_path, answers)[0])
    for food in ("Aged cheese (Parmesan)", "Red wine"):
        assert f"“{food}”" in first
    for medicine in ("Ibuprofen 400 mg", "Contrast dye for a CT scan"):
        assert f"“{medicine}”" in first
    assert first.index("“Aged cheese (Parmesan)”") < first.index("“Red wine”")

    hosts = {
        s.id: catalog.item(s.reaction.embedded_in)
        for s in catalog.sections
        if s.reaction and s.reaction.embedded_in
    }
    long_names: dict[str, list[str]] = {}
    for section_id, host in hosts.items():
        subject = catalog.section(section_id).reaction.parts["subject"]  # type: ignore[union-attr]
        limit = next(f.max_length for f in host.fields if f.id == subject)
        # Words, as names have: a run of letters longer than the column wraps inside itself,
        # which the extracted text shows as a space.
        filler = " ".join(["long"] * ((limit - 20) // 5))
        names = [f"{section_id} entry {n:02d} {filler}" for n in range(host.max_rows)]
        answers[host.id] = [{subject: name} for name in names]
        long_names[section_id] = names
    pages = [squash(p) for p in _pages(app_without_database, tmp_path, answers)]
    glance = " ".join(pages[:2])
    glance = glance[glance.index(GLANCE) :]
    for names in long_names.values():
        positions = [glance.index(f"“{name}”") for name in names]  # whole, every one
        assert positions == sorted(positions)


def _pages(app: Flask, tmp_path: Path, answers: dict[str, Any]) -> list[str]:
    catalog = get_catalog()
    with app.app_context():
        data = render_summary_pdf(_summary(catalog, answers), demo_pdf_header())
    return pdf_text(data, tmp_path).split("\f")


# --- the clinic's intake page: the same block, above its overview --------------------------------


@pytest.fixture
def staff(app: Flask) -> Iterator[FlaskClient]:
    make_user(app)
    client = app.test_client()
    assert login(client).status_code == 303
    yield client


@pytest.mark.usefixtures("shared_pdf")
def test_the_intake_page_shows_the_same_block_above_its_overview(
    staff: FlaskClient, submitted: Callable[..., str]
) -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    html = staff.get(f"/clinic/intakes/{submitted(answers)}").get_data(as_text=True)
    assert html.index('id="before-visit"') < html.index('id="glance"')
    block = html[html.index('id="before-visit"') : html.index('id="glance"')]
    text = squash(visible_text(block))
    for item in (*flagged(catalog, "own_words"), *flagged(catalog, "answered")):
        assert squash(item.text) in text, item.id
    for wish in answers[flagged(catalog, "own_words")[0].id]:
        assert f'<li><span class="patient-text">“{wish["topic"]}”</span></li>' in block
    assert "Hard or frightening experiences" in text and "Maybe later" in text

    without = {
        k: v for k, v in answers.items() if k not in {i.id for i in flagged(catalog, "answered")}
    }
    html = staff.get(f"/clinic/intakes/{submitted(without, name='John Roe')}").get_data(
        as_text=True
    )
    block = squash(visible_text(html[html.index('id="before-visit"') : html.index('id="glance"')]))
    for item in flagged(catalog, "answered"):
        assert squash(item.text) not in block, item.id
    for item in flagged(catalog, "own_words"):
        assert squash(item.text) in block, item.id
