"""List entries added and removed in place, in a real browser (issue 15, item 3): no reload,
focus and words for each change, the list's size respected, and the entries stored exactly.

Runs the real app (CSRF on, real CSP) on a loopback port in Debian's Chromium, at 390 px.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.accessibility import check_now
from tests.chromium import documents, invite, patient_page, shot
from tests.conftest import load_intake

pytestmark = pytest.mark.browser


def test_list_entries_are_added_and_removed_in_place(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, public_id = invite(app)
    page = patient_page(browser, base, token)
    try:
        loads = documents(page)
        page.goto(f"{base}/step/general")
        listed = page.locator("#f-general\\.visit_priorities")
        entries = listed.locator(":scope > fieldset.list-row")
        add = listed.get_by_role("button", name="Add another entry")
        expect(entries).to_have_count(1)
        add.click()
        expect(entries).to_have_count(2)
        assert page.evaluate("document.activeElement.id") == "f-general.visit_priorities-1-topic"
        expect(page.locator("#step-status")).to_have_text("Entry 2 added.")
        add.click()
        expect(page.locator("#step-status")).to_have_text(
            "Entry 3 added. This list holds up to 3 entries."
        )
        expect(add).to_be_hidden()  # the list holds 3
        for n, words in enumerate(("First", "Second", "Third")):
            page.fill(f"#f-general\\.visit_priorities-{n}-topic", words)
        expect(page.locator("#f-general\\.visit_priorities-2-topic-count")).to_have_text(
            "195 of 200 characters left"
        )
        check_now(page, browser.findings)
        listed.scroll_into_view_if_needed()
        shot(page, "entries-added-390")

        listed.get_by_role("button", name="Remove entry 2").click()
        expect(entries).to_have_count(2)
        expect(entries.locator(":scope > legend")).to_have_text(["Entry 1", "Entry 2"])
        third = page.locator("#f-general\\.visit_priorities-2-topic")  # names keep numbers
        expect(third).to_have_value("Third")
        expect(third).to_be_focused()
        expect(page.locator("#step-status")).to_have_text("Entry 2 removed.")
        expect(add).to_be_visible()
        expect(listed.get_by_role("button", name="Remove entry 3")).to_have_count(0)
        check_now(page, browser.findings)
        shot(page, "entries-removed-390")
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert urlsplit(page.url).path == "/step/stress"
        assert loads.count("GET /step/general") == 1, loads
        stored = load_intake(app, public_id).answers["general.visit_priorities"]
        assert stored == [{"topic": "First"}, {"topic": "Third"}]

        # An entry the page was drawn with, removed in place: stored without it.
        page.goto(f"{base}/step/general")
        listed.get_by_role("button", name="Remove entry 1").click()
        first_box = listed.locator(":scope > fieldset.list-row textarea").first
        expect(first_box).to_have_value("Third")
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        stored = load_intake(app, public_id).answers["general.visit_priorities"]
        assert stored == [{"topic": "Third"}]
    finally:
        page.context.close()
