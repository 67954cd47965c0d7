"""Clinic pages in a real browser (CSRF and CSP on): the idle-timeout notice and a form kept
through sign-in, and list answers laid out for the screen they are on.

Uses Playwright's fake clock to jump 14 minutes ahead instead of waiting for them.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from intake import db
from intake.auth import accounts
from intake.clock import utcnow
from intake.intakes.invitations import create_invitation
from intake.intakes.submissions import submit_intake
from intake.models import Intake, UserSession
from tests.chromium import (
    DOB,
    EMAIL,
    LIST_LAYOUT,
    PASSWORD,
    TIMEOUT_MS,
    fill_with_demo_answers,
    sign_in_clinician,
)

pytestmark = pytest.mark.browser


def clinician_browser(app: Any, chromium: Any) -> tuple[Any, Any]:
    """A clinician account, and a fresh browser context and page to sign it in with."""
    with app.app_context(), db.transaction() as tx:
        accounts.create_user(
            tx, EMAIL, "clinician", PASSWORD, accounts.Settings.from_config(app.config)
        )
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def test_idle_notice_keepalive_and_a_form_kept_through_sign_in(
    live_app: tuple[Any, str],
    browser: Any,
) -> None:
    app, base = live_app
    context, page = clinician_browser(app, browser)
    problems: list[str] = []
    # CSP violations and script errors; the 401 and 422 answers themselves are expected.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.clock.install()

    page.goto(f"{base}/clinic/account/two-factor")
    sign_in_clinician(page, base)
    assert page.url == f"{base}/clinic/account/two-factor"
    notice = page.locator("#idle-notice")
    assert notice.is_hidden()

    # 13.5 minutes without a request: the warning shows, with its button.
    page.clock.fast_forward("13:30")
    notice.wait_for(state="visible")
    assert "less than 2 minutes" in notice.inner_text()
    with app.app_context():
        before = db.session().scalars(select(UserSession)).one().last_seen_at
    with page.expect_response("**/clinic/session/keepalive") as answer:
        page.click("text=Stay signed in")
    assert answer.value.status == 200
    notice.wait_for(state="hidden")
    with app.app_context():
        assert db.session().scalars(select(UserSession)).one().last_seen_at > before

    # The session ends on the server (here: revoked) while the person types.
    page.fill("#code", "123456")
    with app.app_context(), db.transaction() as tx:
        for row in tx.scalars(select(UserSession)):
            row.revoked_at = utcnow()
    page.clock.fast_forward("16:00")
    page.locator("[data-idle-part=ended]").wait_for(state="visible")

    # Sending the form anyway: sign in again, then send what was typed on.
    with page.expect_navigation():
        page.click("form[action='/clinic/account/two-factor'] button")
    assert "What you typed is kept" in page.inner_text("main")
    sign_in_clinician(page, base)
    assert "You are signed in again" in page.inner_text("main")
    with page.expect_navigation():
        page.click("text=Send what I typed")
    assert page.url == f"{base}/clinic/account/two-factor"
    # The page's own answer to the code sent on: not lost, and no CSRF refusal.
    assert "This code is wrong" in page.inner_text("main")
    assert problems == []
    context.close()


def test_when_the_session_ends_an_untouched_page_goes_to_sign_in(
    live_app: tuple[Any, str],
    browser: Any,
) -> None:
    """Patient details must not stay on an unattended screen after the sign-out."""
    app, base = live_app
    context, page = clinician_browser(app, browser)
    page.clock.install()
    page.goto(f"{base}/clinic/invitations/new")
    sign_in_clinician(page, base)
    assert page.url == f"{base}/clinic/invitations/new"
    with app.app_context(), db.transaction() as tx:
        for row in tx.scalars(select(UserSession)):
            row.revoked_at = utcnow()
    with page.expect_navigation():
        page.clock.fast_forward("16:00")
    page.wait_for_url("**/clinic/login?**")
    assert "ended=1" in page.url and "next=/clinic/invitations/new" in page.url
    assert page.locator("#password").is_visible()
    context.close()


def test_the_clinic_page_keeps_list_tables_on_a_desktop_and_stacks_them_on_a_phone(
    live_app: tuple[Any, str],
    browser: Any,
) -> None:
    app, base = live_app
    with app.app_context(), db.transaction() as tx:
        public_id = create_invitation(tx, "Ada Example", DOB).intake.public_id
    fill_with_demo_answers(app, public_id)
    with app.app_context(), db.transaction() as tx:
        submit_intake(tx, tx.scalars(select(Intake).where(Intake.public_id == public_id)).one())
    context, page = clinician_browser(app, browser)
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/clinic/intakes/{public_id}")
        sign_in_clinician(page, base)
        reactions = page.locator(".answer-row", has_text="Tell us about each reaction you remember")
        desktop = reactions.evaluate(LIST_LAYOUT)
        assert desktop["headerShown"] and not desktop["tableOverflow"], desktop
        first, second = desktop["cells"][:2]
        assert first["label"] == "none" and first["top"] == second["top"], desktop

        page.set_viewport_size({"width": 320, "height": 640})
        phone = reactions.evaluate(LIST_LAYOUT)
        assert not phone["headerShown"] and not phone["tableOverflow"], phone
        first, second = phone["cells"][:2]
        assert first["label"] != "none" and second["top"] >= first["bottom"] - 1, phone
    finally:
        context.close()
