"""Each step's validation: clear messages tied to their fields, input kept, the rest saved."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms.builder import from_form_data, section_form_class, to_form_data
from forms.loader import get_catalog
from forms.schema import NOT_SURE, PREFER_NOT
from tests.conftest import Invited, load_intake, post_step
from tests.formdata import section_formdata


@pytest.mark.parametrize("section", [s.id for s in get_catalog().sections])
def test_every_step_renders_every_question_with_a_label_or_legend(
    client: FlaskClient, patient: Invited, section: str
) -> None:
    post_step(client, section, {}, action="more")
    page = client.get(f"/step/{section}").get_data(as_text=True)
    for item in get_catalog().section(section).items:
        if f'id="q-{item.id}"' not in page:
            continue  # a follow-up not shown yet
        block = page.split(f'id="q-{item.id}"', 1)[1].split('class="question', 1)[0]
        if item.type == "text":
            assert f'<label class="q" for="f-{item.id}">' in block
            assert f'id="f-{item.id}"' in block
        else:
            assert '<legend class="q">' in block
    # every visible input has a label: pointing at it, or wrapped around it
    for match in re.finditer(r"<(input|textarea)\b([^>]*)>", page):
        attrs = match.group(2)
        if 'type="hidden"' in attrs:
            continue
        input_id = re.search(r'id="([^"]+)"', attrs)
        wrapped = page[: match.start()].endswith('<label class="option">')
        assert wrapped or (input_id and f'for="{input_id.group(1)}"' in page), attrs


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"general.onset_year-year": "abc"}, "Enter a year as 4 digits"),
        ({"general.onset_year-year": "1850"}, "Enter a year as 4 digits"),
        ({"general.onset_year-year": "2010", "general.onset_year-unknown": NOT_SURE}, "not both"),
        ({"general.symptoms": ["hives", "none"]}, "cannot be chosen together"),
        ({"general.symptoms": ["hives", PREFER_NOT]}, "cannot be chosen together"),
        ({"general.course": "definitely"}, "Please choose from the answers shown"),
        ({"general.main_concerns": "x" * 501}, "1 character longer than the 500 that fit"),
        ({"general.main_concerns": "tired\x00"}, "hidden character (NUL)"),
    ],
)
def test_invalid_input_is_explained_kept_and_the_rest_is_saved(
    app: Flask, client: FlaskClient, patient: Invited, fields: dict[str, object], message: str
) -> None:
    answers = {"general.completed_by": "self", "general.course": "worse", **fields}
    response = post_step(client, "general", answers)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert message in summary
    target = re.search(r'<a href="#([^"]+)">', summary).group(1)  # type: ignore[union-attr]
    assert f'id="{target}"' in page  # the summary links to the input itself
    assert 'aria-describedby="' in page and f"{target}-error" in page
    stored = load_intake(app, patient.public_id).answers
    assert stored["general.completed_by"] == "self"  # the valid answers were saved
    bad_item = next(iter(fields)).split("-")[0]
    assert bad_item not in stored or bad_item == "general.course"
    if bad_item == "general.main_concerns" and "\x00" not in str(fields[bad_item]):
        assert "x" * 501 in page  # what was typed is still in the box


def test_a_list_row_s_none_of_these_stands_alone(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """As in a question of its own, a row's "None of these" cannot be ticked with an answer."""
    post_step(client, "general", {"general.severe_episode": "yes"})
    row = {
        "general.severe_list-0-what": "Throat closed",
        "general.severe_list-0-care": ["er", "none"],
    }
    response = post_step(client, "general", row)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“None of these” cannot be chosen together with other answers" in page
    assert "Throat closed" in page  # what was typed is kept
    # The row is saved around the box in error, which stays as it was (not answered).
    stored = load_intake(app, patient.public_id).answers
    assert stored["general.severe_list"] == [{"what": "Throat closed"}]


def test_an_error_in_one_list_row_does_not_cost_the_rest_of_the_list(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """A half-typed year in a new medicine, then "Save and finish later": the page says the rest
    was saved, so the new medicine and the edit to another entry must be, and a year in error
    on a stored entry keeps the year it had."""
    post_step(client, "general", {"general.severe_episode": "yes"})
    stored_rows = {
        "general.severe_episode": "yes",
        "general.severe_list-0-what": "Throat closed",
        "general.severe_list-0-year-year": "2019",
        "general.severe_list-1-what": "Hives all over",
        "general.severe_list-1-year-year": "2021",
    }
    assert post_step(client, "general", stored_rows, action="more").status_code == 303
    edited = {
        "general.severe_episode": "yes",
        "general.severe_list-0-what": "Throat closed, at a wedding",
        "general.severe_list-0-year-year": "201",
        "general.severe_list-1-what": "Hives all over",
        "general.severe_list-1-year-year": "2021",
        "general.severe_list-2-what": "Fainted after a hot bath",
        "general.severe_list-2-year-year": "202",
    }
    response = post_step(client, "general", edited, action="save")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="201"' in page and 'value="202"' in page  # still there to be corrected
    assert load_intake(app, patient.public_id).answers["general.severe_list"] == [
        {"what": "Throat closed, at a wedding", "year": 2019},
        {"what": "Hives all over", "year": 2021},
        {"what": "Fainted after a hot bath"},
    ]


def test_questions_that_appear_on_an_error_page_are_pointed_out(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The next post lists them as shown: only this page can say they are new."""
    response = post_step(
        client,
        "general",
        {"general.severe_episode": "yes", "general.onset_year-year": "19"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    notice = page.split('<div class="notice" role="status">', 1)[1].split("</div>", 1)[0]
    assert '<a href="#q-general.severe_list">' in notice


@pytest.mark.parametrize(
    ("action", "extra", "leave_to", "link"),
    [
        ("save", {}, "/sign-out", "Finish later and sign out"),
        ("back", {}, "/welcome", "Go back"),
        ("back", {"_return": "review"}, "/review", "Go back"),
    ],
)
def test_a_half_typed_year_does_not_keep_the_patient_from_leaving(
    app: Flask,
    client: FlaskClient,
    patient: Invited,
    action: str,
    extra: dict[str, str],
    leave_to: str,
    link: str,
) -> None:
    """A tired patient who typed "19" and presses "Save and finish later" or "Back" is told
    what is wrong, and can still go: everything else on the page is saved."""
    fields = {"general.onset_year-year": "19", "general.course": "worse", **extra}
    response = post_step(client, "general", fields, action=action)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a year as 4 digits" in page and 'value="19"' in page
    assert load_intake(app, patient.public_id).answers["general.course"] == "worse"
    if action == "back":
        assert f'<a href="{leave_to}">{link}</a>' in page
        assert client.get(leave_to).status_code == 200
        return
    # Finishing later signs out, as "Save and finish later" does: a button, not a link.
    leave = page.split(f'<form method="post" action="{leave_to}">', 1)[1].split("</form>")[0]
    assert f'<button type="submit" class="link">{link}</button>' in leave
    left = client.post(leave_to)
    assert left.status_code == 303 and left.location.startswith("/saved?s=")
    assert "Your answers are saved" in client.get(left.location).get_data(as_text=True)
    assert client.get("/step/general").status_code == 401


def test_other_buttons_on_an_error_offer_no_way_round_it(
    client: FlaskClient, patient: Invited
) -> None:
    response = post_step(client, "general", {"general.onset_year-year": "19"}, action="next")
    assert response.status_code == 422
    assert "leave these answers for now" not in response.get_data(as_text=True)


def test_text_is_trimmed_and_blank_rows_are_dropped(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    post_step(client, "med", {"med.takes_any": "yes"})
    response = post_step(
        client,
        "med",
        {
            "med.takes_any": "yes",
            "med.current-0-name": "  Cetirizine ",
            "med.current-0-kind": "otc",
            "med.current-0-since-year": "2019",
            "med.current-1-name": "",
            "med.current-2-name": "Vitamin D",
        },
        action="add",
    )
    assert response.status_code == 303
    stored = load_intake(app, patient.public_id).answers["med.current"]
    assert stored == [
        {"name": "Cetirizine", "kind": "otc", "since": 2019},
        {"name": "Vitamin D"},
    ]
    page = client.get("/step/med").get_data(as_text=True)
    assert 'name="med.current-2-name"' in page  # a fresh empty row after the saved ones


def test_scale_grid_and_year_round_trip() -> None:
    catalog = get_catalog()
    values = {
        "pain.average_week": 7,
        "general.impact": PREFER_NOT,
        "sleep.trouble": {"falling": "quite_a_bit", "early": NOT_SURE},
        "general.onset_year": 2015,
        "hormone.menopause_year": NOT_SURE,
    }
    for item_id, value in values.items():
        item = catalog.item(item_id)
        assert from_form_data(item, to_form_data(item, value)) == value


def test_section_forms_are_built_once_per_process() -> None:
    catalog = get_catalog()
    assert section_form_class(catalog, "sleep") is section_form_class(catalog, "sleep")


def test_posted_fields_for_hidden_items_are_ignored(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    data = section_formdata(
        get_catalog().section("general").items,
        {"general.course": "worse", "general.severe_list": [{"what": "smuggled"}]},
    )
    post_step(client, "general", data)
    assert "general.severe_list" not in load_intake(app, patient.public_id).answers


def _invalid_value(item_id: str) -> dict[str, object]:
    item = get_catalog().item(item_id)
    if item.type == "text":
        return {item.id: "x" * ((item.max_length or 0) + 1)}
    if item.type == "year":
        return {f"{item.id}-year": "20155"}
    if item.type == "grid":
        return {f"{item.id}-{item.rows[0].code}": "bogus"}
    if item.type == "list":
        text_field = next((f for f in item.fields if f.type == "text"), None)
        if text_field:
            return {f"{item.id}-0-{text_field.id}": "y" * ((text_field.max_length or 0) + 1)}
        return {f"{item.id}-0-{item.fields[0].id}": "bogus"}
    return {item.id: "bogus"}


@pytest.mark.parametrize("section", [s.id for s in get_catalog().sections])
def test_every_question_on_every_step_rejects_what_cannot_be_stored(
    app: Flask, client: FlaskClient, patient: Invited, section: str
) -> None:
    post_step(client, section, {}, action="more")
    page = client.get(f"/step/{section}").get_data(as_text=True)
    shown = re.findall(r'name="_shown" value="([^"]+)"', page)
    bad: dict[str, object] = {}
    for item_id in shown:
        bad.update(_invalid_value(item_id))
    response = post_step(client, section, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    for item_id in shown:
        assert f'href="#f-{item_id}' in summary, item_id  # one linked error per question
    assert load_intake(app, patient.public_id).answers == {}  # nothing invalid was stored
