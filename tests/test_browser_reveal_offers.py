"""What comes with the questions a step shows in place, in a real browser (issue 15, item 3):
"Add more detail" where the answers open optional questions, and "Same as for <topic>" above a
reaction block that appears in place, filling it there (intake/static/same.js).

Runs the real app (CSRF on, real CSP) on a loopback port in Debian's Chromium, at 390 px.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from intake import db
from intake.intakes.invitations import find_by_public_id
from tests.accessibility import check_now
from tests.chromium import invite, patient_page
from tests.conftest import load_intake
from tests.formdata import STRESS

pytestmark = pytest.mark.browser


def test_add_more_detail_comes_and_goes_with_the_answers_that_open_optional_questions(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, _ = invite(app)
    page = patient_page(browser, base, token)
    try:
        page.goto(f"{base}/step/pain")
        more = page.get_by_role("button", name="Add more detail (optional)")
        expect(more).to_have_count(0)
        page.locator("input[name='pain.ongoing'][value=yes]").check()
        expect(more).to_be_visible()
        offer = "Want to tell us more? There are 3 optional questions for this part."
        expect(page.locator("#more p")).to_have_text(offer)
        status = page.locator("#step-status")
        expect(status).to_contain_text(offer)
        page.locator("input[name='pain.reaction.noticed'][value=hives]").check()
        expect(page.locator("#more p")).to_have_text(offer.replace("3", "4"))
        check_now(page, browser.findings)
        page.locator("input[name='pain.ongoing'][value=no]").check()
        expect(more).to_be_hidden()
        page.locator("input[name='pain.ongoing'][value=yes]").check()
        with page.expect_navigation():
            more.click()  # saves the page, and opens the optional questions
        expect(page.locator("#q-pain\\.worst_week")).to_be_visible()
        expect(page.locator("#q-pain\\.reaction\\.last_time")).to_be_visible()
    finally:
        page.context.close()


def test_same_as_comes_with_a_reaction_block_shown_in_place_and_fills_it_there(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """Pain's reactions are asked once "Do you have pain?" is answered yes: the block appears
    with its offer, one press fills it (and the follow-ups it opens) in place, and Save and
    continue stores it."""
    app, base = live_app
    token, public_id = invite(app)
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.answers = dict(STRESS)
    page = patient_page(browser, base, token)
    try:
        page.goto(f"{base}/step/pain")
        use = page.get_by_role("button", name="Use the same answers here")
        expect(use).to_be_hidden()
        page.locator("input[name='pain.ongoing'][value=yes]").check()
        expect(use).to_be_visible()
        check_now(page, browser.findings)
        use.click()
        expect(page.locator("#same-as")).to_contain_text("Your answers for “Stress” are filled in")
        expect(page.locator("input[name='pain.reaction.onset'][value=minutes]")).to_be_checked()
        expect(page.locator("#q-pain\\.reaction\\.how_often")).to_be_visible()
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert "/step/hormone" in page.url, page.url
    finally:
        page.context.close()
    answers = load_intake(app, public_id).answers
    assert answers["pain.reaction.noticed"] == STRESS["stress.reaction.noticed"]
    assert answers["pain.reaction.how_often"] == STRESS["stress.reaction.how_often"]
