"""Follow-ups drawn hidden for the page's script to show in place, list entries' templates, and
the server's side of both (issue 15, item 3): what a page without scripts shows is what it
showed before, and what a page with scripts posts saves and moves on."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from forms.logic import visible_items
from intake.intakes.drafts import visibility_for
from tests.conftest import Invited, load_intake, page_version, post_step
from tests.step_pages import drawn, set_answers


def conditions(item_id: str, on_page: set[str]) -> list[dict[str, Any]]:
    enable_when = get_catalog().item(item_id).enable_when
    assert enable_when is not None
    return [
        {"item": c.item, "op": c.op, "answers": list(c.answers)}
        for c in enable_when.conditions
        if c.item in on_page
    ]


def test_a_follow_up_is_drawn_hidden_with_its_catalog_conditions(
    client: FlaskClient, patient: Invited
) -> None:
    page = drawn(client, "general")
    block = page.blocks["general.severe_list"]
    assert block["hidden"] and block["tag"] == "fieldset"
    assert block["when"] == conditions("general.severe_list", {"general.severe_episode"})
    assert "general.severe_list" not in page.shown
    assert any(name.startswith("general.severe_list-0-") for name in page.inert)
    # "Something else" opens "What else?" on the core form, in place too.
    assert page.blocks["general.symptoms_other"]["when"] == [
        {"item": "general.symptoms", "op": "=", "answers": ["something_else"]}
    ]
    # Optional follow-ups only once the optional detail is open (a question it would not show).
    assert "general.started_around_text" not in page.blocks


def test_without_scripts_the_page_shows_and_sends_what_the_server_shows(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Every input a page without scripts shows and sends belongs to a question the server's
    evaluator shows; the hidden ones and the list templates are neither shown nor sent."""
    catalog = get_catalog()
    set_answers(app, patient.public_id, {"pain.ongoing": "yes"}, detail=True)
    intake = load_intake(app, patient.public_id)
    for section in catalog.sections:
        page = drawn(client, section.id)
        expected = {
            i.id for i in visible_items(catalog, section, intake.answers, visibility_for(intake))
        }
        assert set(page.shown) == expected, section.id
        for name in page.sent:
            assert re.sub(r"-.*", "", name) in expected, (section.id, name)
        for item_id, block in page.blocks.items():
            assert block["hidden"] == (item_id not in expected), (section.id, item_id)
        assert not [n for n in page.sent if "__n__" in n]


def test_a_gate_on_another_page_is_read_when_the_page_is_drawn(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """The medicines list follows "Do you take medicines?" here, or supplements in another
    part: that one is the server's, read from the stored answers."""
    page = drawn(client, "med")
    assert page.blocks["med.current"]["when"] == conditions("med.current", {"med.takes_any"})
    set_answers(app, patient.public_id, {"nutrient.supplements": "yes"})
    page = drawn(client, "med")
    assert "med.current" not in page.blocks  # shown whatever this page says
    assert "med.current" in page.shown


def test_a_follow_up_of_a_follow_up_waits_for_both(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    set_answers(app, patient.public_id, {}, detail=True)
    page = drawn(client, "nutrient")
    assert page.blocks["nutrient.reaction.noticed"]["hidden"]
    onset = page.blocks["nutrient.reaction.onset"]
    assert onset["hidden"] and onset["when"][0]["item"] == "nutrient.reaction.noticed"
    # Shown now (its gate stored "yes"): drawn with its conditions, to hide it again in place.
    set_answers(app, patient.public_id, {"nutrient.supplements": "yes"}, detail=True)
    page = drawn(client, "nutrient")
    block = page.blocks["nutrient.reaction.noticed"]
    assert not block["hidden"] and "nutrient.reaction.noticed" in page.shown
    assert page.blocks["nutrient.reaction.onset"]["hidden"]


def test_a_follow_up_the_page_showed_is_saved_and_the_step_moves_on(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """With scripts on, the page posts the follow-up it showed among its _shown: no reload
    with "Some more questions appeared", and the answer is stored."""
    page = client.get("/step/general").get_data(as_text=True)
    shown = [*re.findall(r'name="_shown" value="([^"]+)"', page), "general.severe_list"]
    data = {"_version": page_version(page), "_shown": shown, "action": "next",
            "general.severe_episode": "yes", "general.severe_list-0-what": "Throat felt tight"}  # fmt: skip
    response = client.post("/step/general", data=data)
    assert response.status_code == 303 and response.location.endswith("/step/stress")
    answers = load_intake(app, patient.public_id).answers
    assert answers["general.severe_list"] == [{"what": "Throat felt tight"}]
    # Without it (scripts off), the same answers reload the step to point the question out.
    response = post_step(client, "med", {"med.takes_any": "yes"})
    assert response.location.endswith("/step/med?notice=more&new=med.current")


def test_a_follow_up_hidden_again_is_not_saved_and_what_is_stored_stays(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Un-answered, the page hides the follow-up and leaves it out of _shown; even if its
    boxes were sent, the stored answer is neither changed nor reported."""
    stored = {"general.severe_episode": "yes", "general.severe_list": [{"what": "Hives"}]}
    set_answers(app, patient.public_id, stored)
    page = client.get("/step/general").get_data(as_text=True)
    assert 'name="_shown" value="general.severe_list"' in page
    shown = [
        s for s in re.findall(r'name="_shown" value="([^"]+)"', page) if s != "general.severe_list"
    ]
    data = {"_version": page_version(page), "_shown": shown, "action": "next",
            "general.severe_episode": "no", "general.severe_list-0-what": "Changed"}  # fmt: skip
    response = client.post("/step/general", data=data)
    assert response.status_code == 303 and response.location.endswith("/step/stress")
    answers = load_intake(app, patient.public_id).answers
    assert answers["general.severe_episode"] == "no"
    assert answers["general.severe_list"] == [{"what": "Hives"}]
    # Drawn hidden again, holding what is stored (shown as it was if the gate opens again).
    page = client.get("/step/general").get_data(as_text=True)
    block = page.split('id="q-general.severe_list"', 1)[1].split('id="q-general.told_conditions"')[
        0
    ]
    assert ">Hives</textarea>" in block and "hidden disabled>" in block.split("\n", 1)[0]


def test_add_more_detail_waits_in_a_template_for_an_answer_that_opens_optional_questions(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Nothing optional applies to Pain before "Do you have pain?" is answered: no offer is
    drawn, but its template counts the four optional questions the answers may open, each with
    the conditions on this page that show it (as the server counts them once saved)."""
    html = client.get("/step/pain").get_data(as_text=True)
    template = html.split('<template id="more-offer">', 1)[1].split("</template>", 1)[0]
    offer = json.loads(re.search(r"data-offer='([^']*)'", template).group(1))  # type: ignore[union-attr]
    assert [o["when"] for o in offer] == [
        conditions("pain.worst_week", {"pain.ongoing"}),
        conditions("pain.enjoy_week", {"pain.ongoing"}),
        conditions("pain.changes_with", {"pain.ongoing"}),
        conditions("pain.reaction.last_time", {"pain.reaction.noticed"}),
    ]
    outside = html.replace(template, "")
    assert 'value="more"' in template and 'value="more"' not in outside  # drawn only there
    set_answers(app, patient.public_id, {"pain.ongoing": "yes"})
    html = client.get("/step/pain").get_data(as_text=True)
    assert '<template id="more-offer">' not in html
    drawn = html.split('<div class="detail" id="more" data-offer=', 1)[1]
    assert "There are 3 optional questions for this part." in drawn.split("</div>", 1)[0]
