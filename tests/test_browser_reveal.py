"""Follow-ups revealed in place and list entries added and removed without a reload, in a real
browser (issue 15, item 3); and the same pages with scripts off, where the server's path stays.

Runs the real app (CSRF on, real CSP) on a loopback port in Debian's Chromium. Screenshots at
390 and 1280 px before and after revealing: set SCREENSHOTS=/some/folder.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from forms.loader import get_catalog
from forms.logic import visible_items
from intake import db
from intake.intakes.drafts import visibility_for
from intake.intakes.invitations import find_by_public_id
from tests.accessibility import check_now
from tests.chromium import documents, invite, patient_page, shot
from tests.conftest import load_intake

pytestmark = pytest.mark.browser

#: Click the ``n``-th answer of a question (as a click does: the change event and all), unless
#: it is not shown; then the page as its script leaves it: the answers ticked, the questions
#: shown, and what a post sends. Null once the question has no ``n``-th answer shown.
TICK = """([name, n]) => {
  const option = [...document.getElementsByName(name)][n];
  if (!option || !option.checkVisibility()) { return null; }
  option.click();
  return new Promise(done => setTimeout(() => {
    const form = document.getElementById('step-form');
    const answers = {};
    form.querySelectorAll('input[type=radio]:checked, input[type=checkbox]:checked')
      .forEach(i => { (answers[i.name] = answers[i.name] || []).push(i.value); });
    const shown = [...form.querySelectorAll('.question')].filter(q => !q.closest('[hidden]'))
      .map(q => q.id.slice(2));
    const sent = new FormData(form);
    done({answers, shown, posted: sent.getAll('_shown'), names: [...new Set(sent.keys())]});
  }, 0));
}"""


def test_a_follow_up_appears_in_place_is_answered_and_saved_without_a_reload(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, public_id = invite(app)
    page = patient_page(browser, base, token)
    try:
        loads = documents(page)
        page.goto(f"{base}/step/general")
        follow_up = page.locator("#q-general\\.severe_list")
        expect(follow_up).to_be_hidden()
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 844})
            shot(page, f"reveal-before-{width}")
        page.set_viewport_size({"width": 390, "height": 844})
        gate = page.locator("input[name='general.severe_episode'][value=yes]")
        gate.check()
        expect(follow_up).to_be_visible()
        expect(page.locator("#step-status")).to_have_text("1 more question appeared below.")
        # Focus stays on the answer just chosen; the new question is next in the tab order.
        assert page.evaluate("document.activeElement.name") == "general.severe_episode"
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('#q-general\\\\.severe_list')")
        check_now(page, browser.findings)
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 844})
            shot(page, f"reveal-after-{width}")

        what = page.locator("#f-general\\.severe_list-0-what")
        what.fill("Throat felt tight")
        expect(page.locator("#f-general\\.severe_list-0-what-count")).to_have_text(
            "183 of 200 characters left"
        )
        care = "input[name='general.severe_list-0-care']"
        page.locator(f"{care}[value=er]").check()
        page.locator(f"{care}[value=none]").check()  # "None of these" stands alone
        assert not page.locator(f"{care}[value=er]").is_checked()
        page.locator(f"{care}[value=none]").uncheck()
        page.locator(f"{care}[value=er]").check()

        # Un-answered, it goes, and keeps what was typed; answered again, it is back as it was.
        page.locator("input[name='general.severe_episode'][value=no]").check()
        expect(follow_up).to_be_hidden()
        expect(page.locator("#step-status")).to_have_text("1 question below was hidden.")
        page.locator("input[name='general.severe_episode'][value=yes]").check()
        expect(what).to_have_value("Throat felt tight")

        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert urlsplit(page.url).path == "/step/stress", page.inner_text("main")[:300]
        assert loads.count("GET /step/general") == 1, loads
        answers = load_intake(app, public_id).answers
        assert answers["general.severe_episode"] == "yes"
        assert answers["general.severe_list"] == [{"what": "Throat felt tight", "care": ["er"]}]
    finally:
        page.context.close()


def test_without_scripts_the_follow_up_comes_after_a_reload(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, public_id = invite(app)
    page = patient_page(browser, base, token, java_script_enabled=False)
    try:
        page.goto(f"{base}/step/general")
        follow_up = page.locator("#q-general\\.severe_list")
        assert follow_up.count() == 1 and follow_up.is_hidden()
        drawn = page.content()
        page.locator("input[name='general.severe_episode'][value=yes]").check()
        assert follow_up.is_hidden()  # nothing happens until the page is saved
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert "/step/general?notice=more" in page.url
        assert "Some more questions appeared" in page.inner_text("main")
        assert follow_up.is_visible()
        again = page.content()
        page.fill("#f-general\\.severe_list-0-what", "Throat felt tight")
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert urlsplit(page.url).path == "/step/stress"
        answers = load_intake(app, public_id).answers
        assert answers["general.severe_list"] == [{"what": "Throat felt tight"}]
    finally:
        page.context.close()
    # axe-core needs scripts: it checks these two states as they were drawn, in a page whose
    # own scripts are not served.
    for path, html in (("/step/general", drawn), ("/step/general-again", again)):
        checked = browser.new_context(viewport={"width": 390, "height": 844})
        try:
            view = checked.new_page()
            view.route("**/static/*.js", lambda route: route.abort())
            view.route(f"{base}{path}", serve(html))
            view.goto(f"{base}{path}")
            check_now(view, browser.findings)
        finally:
            checked.close()


def test_every_step_shows_in_place_what_the_server_would_show(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """Each answer of each gate on every step, the optional detail open: the questions the
    page shows are those the server's evaluator shows for the answers ticked, and a post sends
    just those (their _shown and their answers, none of a hidden one's)."""
    app, base = live_app
    token, public_id = invite(app)
    catalog = get_catalog()
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, public_id)
        assert intake is not None
        intake.detail_sections = [s.id for s in catalog.sections]
    with app.app_context():
        visibility = visibility_for(load_intake(app, public_id))
    page = patient_page(browser, base, token)
    try:
        for section in catalog.sections:
            page.goto(f"{base}/step/{section.id}")
            gates = [
                c.item for i in section.items if i.enable_when for c in i.enable_when.conditions
            ]
            here = [g for g in dict.fromkeys(gates) if catalog.item(g).section_id == section.id]
            # Twice: the second time, the follow-ups' own gates hold answers as their gate closes.
            for gate in here + here:
                opened: list[tuple[int, int]] = []  # (questions shown, -answer), for each answer
                for n in range(len(catalog.item(gate).options)):
                    state = page.evaluate(TICK, [gate, n])
                    if state is not None:
                        opened.append((compare(state, catalog, section, visibility, gate), -n))
                if opened:  # the answer that opens the most, for the gates that follow
                    state = page.evaluate(TICK, [gate, -max(opened)[1]])
                    compare(state, catalog, section, visibility, gate)
            check_now(page, browser.findings)
    finally:
        page.context.close()


def compare(state: dict[str, Any], catalog: Any, section: Any, visibility: Any, gate: str) -> int:
    """The page as its script left it against the server's evaluator for the answers ticked;
    how many questions it shows."""
    ticked = {k: v if catalog.item(k).type == "multi" else v[0]
              for k, v in state["answers"].items() if catalog.has_item(k)}  # fmt: skip
    expected = [i.id for i in visible_items(catalog, section, ticked, visibility)]
    assert state["shown"] == expected, (section.id, gate, ticked)
    assert sorted(state["posted"]) == sorted(expected), (section.id, gate)
    hidden = [i.id for i in section.items if i.id not in expected]
    sent = [n for n in state["names"] if n.split("-")[0] in hidden]
    assert not sent, (section.id, gate, sent)
    return len(expected)


def serve(html: str) -> Any:
    """A route handler that answers with ``html``."""

    def fulfill(route: Any) -> None:
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    return fulfill
