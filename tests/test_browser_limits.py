"""In Chromium (issue 15, items 4 and 5): the review page fits a phone at 200% text, "Send my
answers" shows it is working and sends once, and a text box counts as the server does and
keeps a paste over its limit whole."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from intake import db
from intake.intakes.invitations import create_invitation
from intake.models import Intake, Submission
from tests.chromium import DOB, TIMEOUT_MS, fill_with_demo_answers

pytestmark = pytest.mark.browser

#: Whether the page scrolls sideways, and every link, button or line of text that does not fit.
CUT_OFF = """() => {
    const width = document.documentElement.clientWidth;
    const cut = [...document.querySelectorAll('main a, main button, main h1, main h2, main p, main li, main dt, main dd')]
        .filter(e => e.checkVisibility() && !e.closest('.visually-hidden'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.left < -0.5 || r.right > width + 0.5); })
        .map(e => e.outerHTML.slice(0, 80));
    return {sideways: document.documentElement.scrollWidth > width, cut};
}"""


def _patient(live_app: tuple[Any, str], browser: Any, **options: Any) -> tuple[Any, Any, str]:
    """A patient with the demo's answers, signed in on a 390 px phone; (context, page, id)."""
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        invited = create_invitation(tx, "Ada Example", DOB)
        token, public_id = invited.token, invited.intake.public_id
    context = browser.new_context(viewport={"width": 390, "height": 844}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/start?t={token}")
    page.fill("#dob-day", str(DOB.day))
    page.fill("#dob-month", str(DOB.month))
    page.fill("#dob-year", str(DOB.year))
    with page.expect_navigation():
        page.click("button[type=submit]")
    fill_with_demo_answers(app, public_id)
    return context, page, public_id


@pytest.mark.parametrize("scripts", [True, False], ids=["scripts", "no-scripts"])
def test_the_review_fits_a_phone_at_200_percent_text(
    live_app: tuple[Any, str], browser: Any, scripts: bool
) -> None:
    """The text twice its size (the root font, as a browser's text-size setting does): nothing
    is cut off and nothing scrolls sideways; "Change" went past the edge beside long titles.
    Without the page's script (app.js not served: the browser still runs the accessibility
    check, which needs scripts) the page is laid out the same."""
    _, base = live_app
    context, page, _ = _patient(live_app, browser)
    if not scripts:
        page.route("**/static/app.js", lambda route: route.abort())
    try:
        page.goto(f"{base}/review")
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        layout = page.evaluate(CUT_OFF)
        assert not layout["sideways"] and not layout["cut"], layout
        changes = page.locator(".review-head a")
        assert changes.count() == 16
        for n in range(changes.count()):
            box = changes.nth(n).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()


def test_send_shows_it_is_working_and_a_second_press_sends_nothing(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    context, page, public_id = _patient(live_app, browser)
    try:
        page.goto(f"{base}/review")
        # The window hears each submit event after the forms: it notes whether the page let it
        # through, and holds every one, so that the page can be looked at mid-send.
        page.evaluate(
            "window.sent = [];"
            "window.addEventListener('submit', e => { sent.push(!e.defaultPrevented); e.preventDefault(); })"
        )
        page.click("#send-top")
        assert page.inner_text("#send-top") == "Sending…"
        for button in ("#send-top", "#send-bottom"):
            assert page.get_attribute(button, "aria-disabled") == "true"
        status = page.locator("form:has(#send-top) .sending")
        assert "Sending your answers" in status.inner_text() and status.is_visible()
        page.click("#send-bottom", force=True)  # pressed again anyway, below and above
        page.click("#send-top", force=True)
        assert page.evaluate("sent") == [True, False, False]  # the second and third held back
        with page.expect_navigation(url=f"{base}/done"):  # the first send, let go
            page.evaluate(
                "HTMLFormElement.prototype.submit.call(document.querySelector('form.send'))"
            )
        with app.app_context():
            tx = db.session()
            assert tx.scalar(select(func.count()).select_from(Submission)) == 1
            assert tx.scalars(select(Intake.public_id)).one() == public_id
    finally:
        context.close()


def test_a_box_counts_as_the_server_does_and_keeps_a_paste_over_its_limit(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    context, page, public_id = _patient(live_app, browser)
    box, counter = "#f-closing\\.anything_else", "#f-closing\\.anything_else-count"
    try:
        page.goto(f"{base}/step/closing")
        assert page.get_attribute(box, "maxlength") is None
        # A paste 100 characters over the limit: all of it stays, and the counter says so.
        page.fill(box, "")  # the demo's answer
        page.keyboard.insert_text("x" * 5100)
        assert len(page.input_value(box)) == 5100
        assert page.inner_text(counter) == "100 over the limit of 5000 characters"
        # 4,951 characters and 49 line breaks fill it exactly (an emoji counts one too).
        page.fill(box, "")
        page.keyboard.insert_text(("y" * 100 + "\n") * 49 + "y" * 50 + "\U0001f600")
        assert page.inner_text(counter) == "0 of 5000 characters left"
        with page.expect_navigation():
            page.click("main button.primary")  # not the idle notice's "Stay signed in"
        assert "/step/closing" not in page.url or "error" not in page.title().lower()
        with app.app_context():
            intake = db.session().scalars(select(Intake)).one()
            stored = intake.answers["closing.anything_else"]
        assert len(stored) == 5000 and stored.count("\n") == 49 and intake.public_id == public_id
    finally:
        context.close()
