"""One real patient, in a real browser, with the keyboard only: link, date of birth, a step, review, send.

Runs the real app (CSRF on, real CSP headers) on a free loopback port and drives Debian's Chromium
through Playwright. Skipped where Chromium is missing; a failure in CI (CI=true), where it must run.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from intake import db
from intake.intakes.invitations import create_invitation
from intake.models import Intake
from tests.chromium import DOB, LIST_LAYOUT, TIMEOUT_MS, fill_with_demo_answers, open_link
from tests.conftest import stored_submission

CONCERNS = "Hives after hot showers,\nand tiredness since 2019 – «ça va»."

pytestmark = pytest.mark.browser


def _focused(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )
    )


def tab_to(page: Any, selector: str, *, limit: int = 60, back: bool = False) -> int:
    """Press Tab (or Shift+Tab) until ``selector`` has focus; fail if it is not reached."""
    key = "Shift+Tab" if back else "Tab"
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if _focused(page, selector):
            return presses
    active = page.evaluate(
        "document.activeElement && document.activeElement.outerHTML.slice(0, 120)"
    )
    raise AssertionError(f"{selector!r} not reached with {limit} x {key}; focus is on {active}")


def press_enter_on(page: Any, selector: str) -> None:
    """Enter on the focused button, and wait for the page it leads to."""
    assert _focused(page, selector)
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")


def test_patient_completes_the_form_with_the_keyboard_only(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        token = create_invitation(tx, "Ada Example", DOB).token

    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    def on_console(message: Any) -> None:  # CSP violations are reported here as errors
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    try:
        # The private link moves to a token-free URL that asks for the date of birth.
        page.goto(f"{base}/start?t={token}")
        assert page.url == f"{base}/verify"
        assert "t=" not in page.url

        tab_to(page, "#dob-day")
        page.keyboard.type(str(DOB.day))
        page.keyboard.press("Tab")
        assert _focused(page, "#dob-month")
        page.keyboard.type(str(DOB.month))
        page.keyboard.press("Tab")
        assert _focused(page, "#dob-year")
        page.keyboard.press("Shift+Tab")  # back and forth keeps what was typed
        assert _focused(page, "#dob-month")
        page.keyboard.press("Tab")
        page.keyboard.type(str(DOB.year))
        tab_to(page, "button[type=submit]", limit=3)
        press_enter_on(page, "button[type=submit]")

        # Welcome page, then the first step.
        assert page.url == f"{base}/welcome", page.inner_text("main")[:300]
        tab_to(page, "button.primary", limit=10)
        press_enter_on(page, "button.primary")
        assert page.url == f"{base}/step/general"
        assert page.locator("h1").inner_text() == "About your health"

        # "Who is filling in this form?": Tab into the radio group, Space ticks the focused option.
        tab_to(page, "input[name='general.completed_by']", limit=10)
        assert _focused(page, "#f-general\\.completed_by")  # the first option: "The patient (me)"
        page.keyboard.press("Space")
        assert page.is_checked("#f-general\\.completed_by")

        tab_to(page, "#f-general\\.main_concerns", limit=5)
        page.keyboard.type(CONCERNS)
        assert page.input_value("#f-general\\.main_concerns") == CONCERNS

        # Enter in a box saves and continues (not "Add more detail", the first button below).
        tab_to(page, "#f-general\\.onset_year-year", limit=60)
        page.keyboard.type("2019")
        with page.expect_navigation(wait_until="load"):
            page.keyboard.press("Enter")
        assert page.url == f"{base}/step/stress", page.inner_text("main")[:300]
        assert "Step 2 of 16" in page.inner_text("main")

        # On to the buttons at the end of the page (past the other questions), then Enter.
        tab_to(page, ".actions button[value=next]", limit=80)
        press_enter_on(page, ".actions button[value=next]")
        assert page.url == f"{base}/step/sleep", page.inner_text("main")[:300]

        # Jump to the review: the typed answers are there.
        page.goto(f"{base}/review")
        review = page.inner_text("main")
        assert "Check your answers" in review
        assert "The patient (me)" in review
        assert "Hives after hot showers" in review
        assert "2019" in review

        send = "form[action='/submit'] button[type=submit]"
        tab_to(page, send, limit=120)
        press_enter_on(page, send)
        assert page.url == f"{base}/done"
        assert "Thank you" in page.locator("h1").inner_text()
    finally:
        context.close()

    # Nothing left the app's own host, and nothing broke or was blocked (a CSP violation is an error).
    foreign = [u for u in requests if not (u == base or u.startswith(base + "/"))]
    assert not foreign, foreign
    assert not problems, problems

    with app.app_context():
        intake = db.session().scalars(select(Intake)).one()
        submission = intake.submission
        assert submission is not None
        assert submission.answers["general.completed_by"] == "self"
        assert submission.answers["general.main_concerns"] == CONCERNS
    submission = stored_submission(app, intake.public_id)  # once the background worker made it
    with app.app_context():
        assert submission.pdf is not None and submission.pdf.startswith(b"%PDF")
        assert submission.pdf_error is None


def test_list_answers_stack_in_the_patient_s_column_at_every_width(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """The patient's column is never wider than 40rem, too narrow for a 7-column table: each list
    row is one block, each answer under its column's label, on a phone and on a desktop."""
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        invited = create_invitation(tx, "Ada Example", DOB)
        token, public_id = invited.token, invited.intake.public_id
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        open_link(page, base, token)
        fill_with_demo_answers(app, public_id)

        page.goto(f"{base}/review")
        foods = page.locator(".answer-row", has_text="List the foods or drinks")
        reactions = page.locator(".answer-row", has_text="Tell us about each reaction you remember")
        for width in (320, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            for row in (foods, reactions):
                layout = row.evaluate(LIST_LAYOUT)
                assert not layout["pageOverflow"] and not layout["tableOverflow"], (width, layout)
                assert not layout["headerShown"], "the header row is for screen readers only"
                first, second = layout["cells"][:2]
                assert first["label"] != "none", (width, first)
                assert second["top"] >= first["bottom"] - 1, "cells are stacked, not side by side"
            first = foods.evaluate(LIST_LAYOUT)["cells"][0]
            assert first["label"] == '"Food or drink"' and "Aged cheese" in first["text"], first
    finally:
        context.close()


#: Each 0 to 10 choice's box on the page, and whether the page scrolls sideways.
SCALE_LAYOUT = """(fieldset) => ({
  pageOverflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
  boxes: [...fieldset.querySelectorAll('.scale-numbers .option')].map(o => {
    const r = o.getBoundingClientRect();
    return {width: r.width, height: r.height, top: r.top};
  }),
})"""


def test_a_0_to_10_scale_has_thumb_sized_choices_on_a_phone(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """At 320 px the eleven circles touched, each 26 px wide: a tired patient's thumb hits the
    neighbour. Every choice is at least 44 px wide, in two rows if need be, never scrolled."""
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        invited = create_invitation(tx, "Ada Example", DOB)
        token = invited.token
        invited.intake.answers = {"pain.ongoing": "yes"}
    context = browser.new_context(viewport={"width": 320, "height": 640})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        open_link(page, base, token)
        page.goto(f"{base}/step/pain")
        scale = page.locator("fieldset.scale").first
        for width in (320, 390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            layout = scale.evaluate(SCALE_LAYOUT)
            assert not layout["pageOverflow"], width
            assert len(layout["boxes"]) == 11
            assert min(b["width"] for b in layout["boxes"]) >= 44, (width, layout["boxes"])
            rows = {round(b["top"]) for b in layout["boxes"]}
            assert len(rows) == (1 if width == 1280 else 2), (width, rows)
    finally:
        context.close()


def test_leaving_a_page_with_unsaved_typing_asks_first(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """A reload or a closed tab lost everything typed since the last button; a press of the
    page's own buttons saves, and asks nothing."""
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        token = create_invitation(tx, "Ada Example", DOB).token
    context = browser.new_context(viewport={"width": 390, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    asked: list[str] = []

    def on_dialog(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", on_dialog)
    try:
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        page.reload()
        assert asked == []  # nothing typed: nothing to ask
        page.fill("textarea[name='general.main_concerns']", "Hives after hot showers")
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        assert asked == []  # saved by the page's own button
        page.goto(f"{base}/step/general")
        page.fill("textarea[name='general.main_concerns']", "Hives after hot showers, and cold")
        page.close(run_before_unload=True)
        page.wait_for_event("close")
        assert asked == ["beforeunload"]
    finally:
        context.close()
