"""List entries with scripts on (issue 15, item 3): each list draws an empty entry in a
<template> for its script to add in place; a list full without scripts offers no new entry; and
what the page sends after entries were removed in place is saved to the right entries."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Invited, load_intake, post_step
from tests.step_pages import WithoutScripts, set_answers


def test_a_list_offers_an_empty_entry_to_add_in_place(
    client: FlaskClient, patient: Invited
) -> None:
    html = client.get("/step/general").get_data(as_text=True)
    listed = html.split('id="f-general.visit_priorities"', 1)[1].split(
        'id="q-general.main_concerns"'
    )[0]
    assert 'data-max-rows="3"' in listed
    template = listed.split('<template class="list-new">', 1)[1].split("</template>", 1)[0]
    assert 'id="q-general.visit_priorities-__n__"' in template
    assert 'name="general.visit_priorities-__n__-topic"' in template
    assert 'value="remove:general.visit_priorities:__n__"' in template
    page = WithoutScripts()
    page.feed(html)
    assert "general.visit_priorities-__n__-topic" in page.inert
    assert "general.visit_priorities-0-topic" in page.sent  # the empty entry to type into


def test_a_full_list_offers_no_entry_to_add_without_scripts(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    rows = [{"topic": "One"}, {"topic": "Two"}, {"topic": "Three"}]
    set_answers(app, patient.public_id, {"general.visit_priorities": rows})
    html = client.get("/step/general").get_data(as_text=True)
    assert 'value="add:general.visit_priorities" class="secondary" hidden>' in html


def test_entries_removed_in_place_leave_each_box_in_error_its_own_stored_value(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The page removed Cetirizine in place and numbered the rest on: Iron, now entry 2, has a
    year in error, so it keeps its stored year, not that of Vitamin D, stored second."""
    stored = [{"name": "Cetirizine", "since": 2010}, {"name": "Vitamin D", "since": 2015},
              {"name": "Iron", "since": 2020}]  # fmt: skip
    set_answers(app, patient.public_id, {"med.takes_any": "yes", "med.current": stored})
    posted = {"med.takes_any": "yes", "med.current-0-name": "Vitamin D",
              "med.current-0-since-year": "2015", "med.current-1-name": "Iron",
              "med.current-1-since-year": "20", "_removed": "med.current:0"}  # fmt: skip
    response = post_step(client, "med", posted)
    assert response.status_code == 422
    assert load_intake(app, patient.public_id).answers["med.current"] == [
        {"name": "Vitamin D", "since": 2015},
        {"name": "Iron", "since": 2020},
    ]
    summary = response.get_data(as_text=True).split('id="error-summary"', 1)[1]
    assert "Entry 2, " in summary.split("</ul>", 1)[0]


def test_the_error_summary_numbers_an_entry_as_its_legend_does(
    client: FlaskClient, patient: Invited
) -> None:
    """After "Remove entry 1" the rows keep the names they were posted with (1 and 2), but the
    page calls them Entry 1 and Entry 2: so does the summary."""
    rows = {"med.takes_any": "yes", "med.current-0-name": "Cetirizine",
            "med.current-1-name": "Vitamin D", "med.current-2-name": "Iron",
            "med.current-2-since-year": "20"}  # fmt: skip
    assert post_step(client, "med", {"med.takes_any": "yes"}).status_code == 303
    html = post_step(client, "med", {**rows, "action": "remove:med.current:0"}).get_data(
        as_text=True
    )
    summary = html.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert 'href="#f-med.current-2-since-year"' in summary
    assert "Entry 2, " in summary and "Entry 3" not in summary
