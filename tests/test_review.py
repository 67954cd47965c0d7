"""The review rows shared by the review page and the PDF: states, overview, declined sections."""

from __future__ import annotations

from typing import Any, get_args

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.pdf.summary import (
    HIDDEN_TEXT,
    NO_SUCH_QUESTION,
    OVERVIEW_TEXT,
    Mark,
    OverviewStatus,
    build_summary,
)
from tests.mixed import MIXED_DETAIL, MIXED_GLANCE, mixed_answers


def _summary(answers: dict[str, object], detail: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return build_summary(get_catalog(), answers, Visibility(detail))


def _texts(marks: tuple[Mark, ...]) -> str:
    return "; ".join(m.text for m in marks)


def _row(summary, item_id: str):  # type: ignore[no-untyped-def]
    return next(r for s in summary.sections for r in s.rows if r.item_id == item_id)


def test_five_states_are_kept_apart() -> None:
    summary = _summary(
        {
            "general.course": "not_sure",
            "general.symptoms": ["prefer_not"],
            "general.severe_episode": "no",
            "general.main_concerns": "Tired",
        }
    )
    assert _row(summary, "general.course").state == "not_sure"
    assert _row(summary, "general.symptoms").state == "prefer_not"
    assert _row(summary, "general.onset_year").state == "not_answered"
    assert _row(summary, "general.severe_list").state == "not_shown"
    assert _row(summary, "general.severe_list").hidden == "branch"
    assert _row(summary, "general.main_concerns").patient_text == "Tired"
    texts = {
        _row(summary, i).state_text
        for i in ("general.course", "general.symptoms", "general.onset_year", "general.severe_list")
    }
    assert len(texts) == 4 and "" not in texts


def test_overview_has_one_row_per_category_in_catalog_order() -> None:
    summary = _summary(
        {
            "stress.reaction.noticed": ["hives", "flushing"],
            "stress.reaction.onset": "minutes",
            "sleep.reaction.noticed": ["none"],
            "energy.reaction.noticed": ["not_sure"],
            "diet.reacts_food": "yes",
            "diet.food_list": [{"food": "Cheese", "symptoms": ["hives", "none"], "onset": "hours"}],
        }
    )
    rows = {r.section_id: r for r in summary.overview}
    assert [r.section_id for r in summary.overview] == [
        s.id for s in get_catalog().sections if s.overview_row
    ]
    assert rows["stress"].status == "reported"
    assert _texts(rows["stress"].reactions) == "Hives; Flushing / hot flashes"
    assert rows["stress"].onset == (Mark("Minutes"),)
    assert rows["sleep"].status == "none"
    assert rows["energy"].status == "not_sure"
    assert _texts(rows["diet"].reactions) == "Hives"  # "None of these" is not a reaction
    assert rows["infection"].status == "skipped"


def test_a_declined_section_says_so_once() -> None:
    summary = _summary({"trauma.consent": "skip"})
    trauma = next(s for s in summary.sections if s.id == "trauma")
    assert trauma.declined
    assert [r.item_id for r in trauma.rows] == ["trauma.consent"]


def test_a_skipped_section_does_not_also_count_its_closed_detail() -> None:
    sections = {s.id: s for s in _summary({"stress.level_month": "never"}).sections}
    assert sections["sleep"].skipped and sections["sleep"].optional_not_opened == 0
    assert not sections["stress"].skipped and sections["stress"].optional_not_opened > 0


def test_reactions_on_page_1_keep_the_question_s_order() -> None:
    ticked = {"stress.reaction.noticed": ["nausea", "hives", "tachycardia"]}
    row = next(r for r in _summary(ticked).overview if r.section_id == "stress")
    noticed = get_catalog().item("stress.reaction.noticed")
    order = [o.code for o in noticed.options]
    assert (
        sorted(ticked["stress.reaction.noticed"], key=order.index)
        != ticked["stress.reaction.noticed"]
    )
    expected = [
        next(o.short_label for o in noticed.options if o.code == code)
        for code in sorted(ticked["stress.reaction.noticed"], key=order.index)
    ]
    assert [m.text for m in row.reactions] == expected


def test_optional_items_not_opened_are_counted_not_listed() -> None:
    answered = {"stress.level_month": "never"}
    closed = next(s for s in _summary(answered).sections if s.id == "stress")
    opened = next(s for s in _summary(answered, frozenset({"stress"})).sections if s.id == "stress")
    assert closed.optional_not_opened > 0 and opened.optional_not_opened == 0
    assert len(opened.rows) > len(closed.rows)


def test_the_overview_status_follows_the_reactions_question_and_the_section() -> None:
    summary = _summary(mixed_answers(get_catalog()), MIXED_DETAIL)
    rows = {r.section_id: r for r in summary.overview}
    for section_id, (status_text, *follow_ups) in MIXED_GLANCE.items():
        row = rows[section_id]
        assert row.status_text == status_text, section_id
        assert row.detailed == bool(follow_ups), section_id
        cells = (row.onset, row.how_often, row.last_time) if follow_ups else ()
        assert [_texts(cell) for cell in cells] == follow_ups, section_id
    assert rows["sleep"].status == "not_answered"  # eight answers: not skipped
    assert rows["pain"].status == "not_shown" and rows["pain"].hidden == "branch"
    assert rows["nutrient"].hidden == "optional"


def test_an_optional_question_ruled_out_by_a_shown_answer_is_not_called_unopened() -> None:
    """Supplements "No": the optional reactions question would not show with the detail open
    either, so page 1 must not say the detail was not opened."""
    ruled_out = _summary(
        {"nutrient.supplements": "no", "trauma.consent": "yes", "trauma.ever": "prefer_not"}
    )
    rows = {r.section_id: r for r in ruled_out.overview}
    assert rows["nutrient"].status_text == HIDDEN_TEXT["branch"]
    assert rows["trauma"].status_text == HIDDEN_TEXT["branch"]
    # The body lists them as not applying, and no longer counts them as detail not opened.
    nutrient = next(s for s in ruled_out.sections if s.id == "nutrient")
    assert _row(ruled_out, "nutrient.reaction.noticed").hidden == "branch"
    assert _row(ruled_out, "nutrient.reaction.onset").hidden == "branch"

    unopened = _summary({"nutrient.supplements": "yes"})
    assert {r.section_id: r for r in unopened.overview}["nutrient"].status_text == HIDDEN_TEXT[
        "optional"
    ]
    still_closed = next(s for s in unopened.sections if s.id == "nutrient")
    assert nutrient.optional_not_opened < still_closed.optional_not_opened
    # A follow-up whose gate is itself behind the closed detail could still be shown.
    assert not any(r.item_id == "nutrient.reaction.onset" for r in still_closed.rows)


def test_a_topic_is_skipped_exactly_when_its_section_has_no_answers() -> None:
    catalog = get_catalog()
    demo = demo_answers(catalog)
    cases: list[dict[str, Any]] = [{}, demo, mixed_answers(catalog)]
    for section in catalog.sections:  # each section alone, and each without its reactions
        cases.append({k: v for k, v in demo.items() if k.startswith(f"{section.id}.")})
        cases.append({k: v for k, v in demo.items() if not k.startswith(f"{section.id}.reaction")})
    for answers in cases:
        summary = _summary(answers, frozenset(demo_detail_sections(catalog)))
        views = {s.id: s for s in summary.sections}
        for row in summary.overview:
            view = views[row.section_id]
            assert (row.status == "skipped") == (view.skipped and not view.declined), row
            assert (row.status == "declined") == view.declined, row


def test_a_declined_section_reads_the_same_at_a_glance_and_in_the_body() -> None:
    summary = _summary({"general.main_concerns": "Tired", "trauma.consent": "skip"})
    glance = next(r for r in summary.overview if r.section_id == "trauma")
    body = next(s for s in summary.sections if s.id == "trauma")
    assert glance.status == "declined" and not glance.status_is_answer
    assert body.note == glance.status_text + "." == "Patient chose not to answer this section."
    skipped = next(s for s in summary.sections if s.id == "dental")
    assert skipped.note == "Skipped: no answers in this section."


def test_the_key_has_every_status_in_the_words_and_style_the_table_uses() -> None:
    key = _summary({}).overview_key
    assert [entry.term.text for entry in key] == [
        OVERVIEW_TEXT[status] for status in get_args(OverviewStatus)
    ]
    assert {e.term.text for e in key if not e.term.state} == {"Reported", "None noticed"}
    # The PDF names those a question can show too once, for both (its other key sentence).
    assert {e.term.text for e in key if e.question_state} == {
        "Not sure",
        "Prefer not to say",
        "Not shown",
    }
    # Every text a status cell can show starts with a term of the key.
    shown = {*OVERVIEW_TEXT.values(), *HIDDEN_TEXT.values()}
    assert all(any(t.startswith(e.term.text) for e in key) for t in shown)


def test_follow_up_cells_name_their_state() -> None:
    summary = _summary(mixed_answers(get_catalog()), MIXED_DETAIL)
    rows = {r.section_id: r for r in summary.overview}
    assert rows["stress"].onset == (Mark("Not sure", state=True),)
    assert rows["stress"].last_time == (Mark("Not answered", state=True),)
    assert rows["med"].reactions == (Mark("Not answered", state=True),)
    assert rows["med"].how_often == (Mark(NO_SUCH_QUESTION, state=True),)
    assert rows["diet"].onset == (Mark("Prefer not to say", state=True), Mark("Minutes"))
    for row in summary.overview:
        for cell in (row.reactions, row.onset, row.how_often, row.last_time):
            assert all(m.text for m in cell)
            assert all(m.state == (m.text not in _answer_labels()) for m in cell), row


def test_a_list_row_left_blank_is_counted_on_page_1_not_dropped() -> None:
    """Three foods, one "Every time" and two blank: page 1 must not say "Every time" alone."""
    foods = [
        {"food": "Cheese", "symptoms": ["hives"], "how_often": "every_time"},
        {"food": "Wine", "symptoms": ["flushing"]},
        {"food": "Bread", "symptoms": ["hives"], "how_often": ""},
    ]
    rows = {
        r.section_id: r
        for r in _summary({"diet.reacts_food": "yes", "diet.food_list": foods}).overview
    }
    assert rows["diet"].how_often == (Mark("Every time"), Mark("Not answered", state=True))
    assert rows["diet"].onset == (Mark("Not answered", state=True),)


def test_non_answers_in_grids_lists_and_the_header_are_marked() -> None:
    summary = _summary(mixed_answers(get_catalog()), MIXED_DETAIL)
    trouble = _row(summary, "sleep.trouble").lines
    assert trouble == (
        Mark("Not sure", state=True, prefix="Falling asleep"),
        Mark("Quite a bit", prefix="Staying asleep"),
        Mark("Not answered", state=True, prefix="Waking up too early"),
    )
    med_list = _row(summary, "med.reaction_list").table
    assert med_list is not None
    onset = med_list.columns.index("How soon after taking it?")
    assert med_list.rows[0][onset].text == "Not sure" and med_list.rows[0][onset].state
    assert summary.completed_by == "Not answered" and not summary.completed_by_given


def _answer_labels() -> set[str]:
    """Every short label of a real answer (not a non-answer) in the catalog."""
    catalog = get_catalog()
    labels = set()
    for item in catalog.items():
        for options in (item.options, *(f.options for f in item.fields)):
            labels |= {o.short_label for o in options if o.code not in ("not_sure", "prefer_not")}
    return labels
