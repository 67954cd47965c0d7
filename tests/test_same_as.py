"""“Same as for <an earlier topic>” above a reaction block (issue 15, item 3): one press copies an
earlier topic's reaction answers, which are then stored exactly as if ticked one by one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import db
from intake.intakes.invitations import create_invitation
from tests.chromium import DOB, TIMEOUT_MS, open_link
from tests.conftest import Invited, load_intake, post_step
from tests.formdata import STRESS


def _stress_with_reactions(client: FlaskClient) -> None:
    """Answer Stress's block in two saves, as a page without scripts asks it: the follow-ups
    appear after the first."""
    post_step(client, "stress", {"stress.reaction.noticed": STRESS["stress.reaction.noticed"]})
    assert post_step(client, "stress", STRESS).status_code == 303


def _same(client: FlaskClient, section_id: str) -> str:
    """The value of the step's "Use the same answers here" button, as the page draws it."""
    html = client.get(f"/step/{section_id}").get_data(as_text=True)
    match = re.search(r'name="action" value="(same:[^"]+)"', html)
    assert match, "no offer"
    return match.group(1)


def _offer(html: str) -> str | None:
    match = re.search(
        r'<div class="same-as" id="same-as"[^>]*>(.*?)</div>\s*<div class="question', html, re.S
    )
    return match.group(1) if match else None


def test_a_later_topic_offers_the_earlier_answers_in_words(
    client: FlaskClient, patient: Invited
) -> None:
    _stress_with_reactions(client)
    offer = _offer(client.get("/step/sleep").get_data(as_text=True))
    assert offer is not None
    assert "The same as for “Stress”?" in offer
    assert "Hives (itchy, raised bumps or welts on the skin); Flushing or hot flashes" in offer
    assert "Within minutes (less than 1 hour)" in offer and "Most times" in offer
    assert 'value="same:stress:' in offer


def test_no_offer_before_any_topic_reports_a_reaction(
    client: FlaskClient, patient: Invited
) -> None:
    assert _offer(client.get("/step/sleep").get_data(as_text=True)) is None
    post_step(client, "stress", {"stress.reaction.noticed": ["none"]})
    assert _offer(client.get("/step/sleep").get_data(as_text=True)) is None


def test_pressing_it_stores_the_copy_and_the_rest_of_the_page(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    _stress_with_reactions(client)
    response = post_step(client, "sleep", {"sleep.hours": "h7_8"}, action=_same(client, "sleep"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/step/sleep?notice=same&copied=stress#same-as")
    answers = load_intake(app, patient.public_id).answers
    assert answers["sleep.hours"] == "h7_8"
    assert answers["sleep.reaction.noticed"] == ["hives", "flushing"]
    assert answers["sleep.reaction.onset"] == "minutes"
    assert answers["sleep.reaction.how_often"] == "most_times"
    assert "sleep.reaction.last_time" not in answers  # asked only with "more detail" open

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your answers for “Stress” are filled in below." in page
    assert _offer(page) is None  # nothing left to copy
    assert re.search(r'name="sleep.reaction.onset" value="minutes"[^>]*checked', page)


def test_the_copy_replaces_what_the_block_held(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    _stress_with_reactions(client)
    own: dict[str, Any] = {
        "sleep.reaction.noticed": ["nausea", "something_else"],
        "sleep.reaction.other": "Tingling",
    }
    post_step(client, "sleep", own)
    post_step(client, "sleep", {**own, "sleep.reaction.onset": "days"})
    assert _offer(client.get("/step/sleep").get_data(as_text=True)) is not None
    response = post_step(client, "sleep", own, action=_same(client, "sleep"))
    answers = load_intake(app, patient.public_id).answers
    assert answers["sleep.reaction.noticed"] == ["hives", "flushing"]
    assert answers["sleep.reaction.onset"] == "minutes"
    # No "Something else" now, so its box is not asked (its words stay in the draft, as any
    # hidden follow-up's do, and come back if it is ticked again).
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="_shown" value="sleep.reaction.other"' not in page


def test_the_nearest_earlier_topic_is_offered(client: FlaskClient, patient: Invited) -> None:
    _stress_with_reactions(client)
    post_step(client, "sleep", {"sleep.reaction.noticed": ["nausea"]})
    assert (
        post_step(
            client, "sleep", {"sleep.reaction.noticed": ["nausea"], "sleep.reaction.onset": "hours"}
        ).status_code
        == 303
    )
    offer = _offer(client.get("/step/energy").get_data(as_text=True))
    assert offer is not None and "“Sleep”" in offer and "Nausea" in offer


def test_a_page_with_a_mistake_copies_nothing(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Shown again as typed, the block would post its empty boxes over the copy."""
    _stress_with_reactions(client)
    bad = {"sleep.hours": "h7_8", "sleep.reaction.noticed": ["hives", "none"]}
    response = post_step(client, "sleep", bad, action=_same(client, "sleep"))
    assert response.status_code == 422
    answers = load_intake(app, patient.public_id).answers
    assert "sleep.reaction.onset" not in answers
    assert _offer(response.get_data(as_text=True)) is not None


def test_an_unknown_topic_copies_nothing(app: Flask, client: FlaskClient, patient: Invited) -> None:
    _stress_with_reactions(client)
    version = _same(client, "sleep").rsplit(":", 1)[1]
    for action in (
        "same:nowhere",
        "same:sleep",
        "same:",
        "same:general",
        f"same:general:{version}",
    ):
        response = post_step(client, "sleep", {}, action=action)
        assert response.status_code == 303
        assert "notice=same" not in response.headers["Location"]  # nothing was copied
    answers = load_intake(app, patient.public_id).answers
    assert "sleep.reaction.noticed" not in answers


def test_a_button_drawn_before_another_window_changed_the_topic_copies_nothing(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """It named answers that are no longer the patient's: the page shows them anew instead."""
    _stress_with_reactions(client)
    post_step(client, "sleep", {"sleep.reaction.noticed": ["nausea"]})
    stale = _same(client, "sleep")
    post_step(client, "stress", {**STRESS, "stress.reaction.noticed": ["brain_fog"]})
    response = post_step(client, "sleep", {"sleep.reaction.noticed": ["nausea"]}, action=stale)
    assert response.headers["Location"].endswith(
        "/step/sleep?notice=same_changed&copied=stress#same-as"
    )
    assert load_intake(app, patient.public_id).answers["sleep.reaction.noticed"] == ["nausea"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "were changed in another window after this page was opened" in page
    assert "Brain fog" in (_offer(page) or "")


def test_the_copy_never_touches_the_patient_s_own_words(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """ "What else did you notice?" is this topic's, in the patient's words: the "Something
    else" tick is copied, the box keeps what it holds (the earlier topic's box left empty, or
    holding words of its own)."""
    ticks = ["hives", "something_else"]
    post_step(client, "stress", {"stress.reaction.noticed": ticks})
    post_step(client, "stress", {"stress.reaction.noticed": ticks, "stress.reaction.onset": "days"})
    own = {
        "sleep.reaction.noticed": ["nausea", "something_else"],
        "sleep.reaction.other": "Tingling",
    }
    post_step(client, "sleep", own)
    post_step(client, "sleep", own, action=_same(client, "sleep"))
    answers = load_intake(app, patient.public_id).answers
    assert answers["sleep.reaction.noticed"] == ticks
    assert answers["sleep.reaction.other"] == "Tingling"


def test_an_answer_the_earlier_topic_no_longer_shows_is_not_copied(
    app: Flask, client: FlaskClient, patient: Invited
) -> None:
    """Stress's "When did this last happen?", answered with its detail open and then hidden,
    is not part of what Stress sends: it is not copied, nor offered."""
    _stress_with_reactions(client)
    post_step(client, "stress", STRESS, action="more")
    post_step(client, "stress", {**STRESS, "stress.reaction.last_time": "week"}, action="less")
    post_step(client, "sleep", {}, action="more")
    offer = _offer(client.get("/step/sleep").get_data(as_text=True)) or ""
    assert "In the last week" not in offer
    post_step(client, "sleep", {}, action=_same(client, "sleep"))
    assert "sleep.reaction.last_time" not in load_intake(app, patient.public_id).answers


def _patient_with_stress(app: Flask, sleep: dict[str, Any] | None = None) -> tuple[str, str]:
    """An invitation whose patient answered Stress's reactions (and, given, Sleep's)."""
    with app.app_context(), db.transaction() as tx:
        new = create_invitation(tx, "Ada Example", DOB)
        new.intake.answers = {**STRESS, **(sleep or {})}
        new.intake.sections_saved = ["general", "stress", *(["sleep"] if sleep else [])]
        return new.token, new.intake.public_id


@pytest.mark.browser
def test_without_scripts_the_button_saves_and_the_server_copies(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """On a phone with scripts off: Sleep offers Stress's reactions; one press fills and keeps
    them, and what the patient changes afterwards is what is stored."""
    app, base = live_app
    token, public_id = _patient_with_stress(app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        open_link(page, base, token)
        page.goto(f"{base}/step/sleep")
        offer = page.locator("#same-as")
        assert "The same as for “Stress”?" in offer.inner_text()
        with page.expect_navigation():
            offer.get_by_role("button", name="Use the same answers here").click()
        assert page.url.endswith("/step/sleep?notice=same&copied=stress#same-as")
        notice = page.locator("#same-as").inner_text()
        assert "Your answers for “Stress” are filled in below." in notice
        assert page.locator("input[name='sleep.reaction.noticed'][value=hives]").is_checked()
        assert page.locator("input[name='sleep.reaction.onset'][value=minutes]").is_checked()
        page.locator("input[name='sleep.reaction.how_often'][value=sometimes]").check()
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert "/step/diet" in page.url
    finally:
        context.close()
    answers = load_intake(app, public_id).answers
    assert answers["sleep.reaction.noticed"] == ["hives", "flushing"]
    assert answers["sleep.reaction.how_often"] == "sometimes"  # changed after the copy


@pytest.mark.browser
def test_with_scripts_the_copy_is_filled_in_place(live_app: tuple[Any, str], browser: Any) -> None:
    """Scripts on: the boxes change where they are, no page is loaded, the change is announced
    and takes focus, and "Save and continue" stores the copy."""
    app, base = live_app
    own = {
        "sleep.reaction.noticed": ["nausea"],
        "sleep.reaction.onset": "hours",
        "sleep.reaction.how_often": "rarely",
    }
    token, public_id = _patient_with_stress(app, own)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    try:
        open_link(page, base, token)
        page.goto(f"{base}/step/sleep")
        before = len(loads)
        page.locator("#same-as").get_by_role("button", name="Use the same answers here").click()
        notice = page.locator("#same-as[role=status]")
        assert "Your answers for “Stress” are filled in below." in notice.inner_text()
        assert page.evaluate("document.activeElement.id") == "same-as"
        assert len(loads) == before  # filled in place
        assert page.locator("input[name='sleep.reaction.noticed'][value=hives]").is_checked()
        assert not page.locator("input[name='sleep.reaction.noticed'][value=nausea]").is_checked()
        assert page.locator("input[name='sleep.reaction.onset'][value=minutes]").is_checked()
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert "/step/diet" in page.url
        # The page the server path shows after its copy, loaded here so that axe checks it.
        page.goto(f"{base}/step/sleep?notice=same&copied=stress")
        assert "are filled in below" in page.locator("#same-as[role=status]").inner_text()
    finally:
        context.close()
    answers = load_intake(app, public_id).answers
    assert answers["sleep.reaction.noticed"] == ["hives", "flushing"]
    assert answers["sleep.reaction.onset"] == "minutes"
    assert answers["sleep.reaction.how_often"] == "most_times"
