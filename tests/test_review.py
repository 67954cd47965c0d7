"""The review rows shared by the review page and the PDF: states, overview, declined sections."""

from __future__ import annotations

from forms.loader import get_catalog
from forms.logic import Visibility
from intake.review import build_summary


def _summary(answers: dict[str, object], detail: frozenset[str] = frozenset()):  # type: ignore[no-untyped-def]
    return build_summary(get_catalog(), answers, Visibility(detail))


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
    assert rows["stress"].status == "reported" and rows["stress"].reactions == (
        "Hives",
        "Flushing / hot flushes",
    )
    assert rows["stress"].onset == "Minutes"
    assert rows["sleep"].status == "none"
    assert rows["energy"].status == "not_sure"
    assert rows["diet"].reactions == ("Hives",)  # "None of these" is not a reaction
    assert rows["pain"].status == "not_shown"  # gate not opened
    assert rows["infection"].status == "skipped"


def test_a_declined_section_says_so_once() -> None:
    summary = _summary({"trauma.consent": "skip"})
    trauma = next(s for s in summary.sections if s.id == "trauma")
    assert trauma.declined
    assert [r.item_id for r in trauma.rows] == ["trauma.consent"]


def test_optional_items_not_opened_are_counted_not_listed() -> None:
    closed = next(s for s in _summary({}).sections if s.id == "stress")
    opened = next(s for s in _summary({}, frozenset({"stress"})).sections if s.id == "stress")
    assert closed.optional_not_opened > 0 and opened.optional_not_opened == 0
    assert len(opened.rows) > len(closed.rows)
