"""A shared phone, in a real browser (issue 15, items 1, 2 and 6): "Save and finish later",
then a new tab, asks for the date of birth again; each refused save says why, with the typing
kept on the page or shown back; a double click saves once; the idle warning's "Stay signed in";
an error-summary link keeps its question in view.

Runs the real app (CSRF on, real CSP) on a loopback port in Debian's Chromium, at 390 px.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from intake import db
from intake.clock import utcnow
from intake.intakes.invitations import reissue_invitation, revoke_invitation
from intake.models import Intake, PatientSession
from tests.chromium import invite, new_context, open_link, shot, watch

pytestmark = pytest.mark.browser

TYPED = "Hives after hot showers, <b>and</b> tiredness"


def act(app: Any, public_id: str, what: str) -> None:
    """What happens to the intake while its page is open in the browser."""
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == public_id)).one()
        if what in ("idle", "expired"):
            long_ago = utcnow() - timedelta(minutes=31)
            tx.execute(
                update(PatientSession)
                .where(PatientSession.intake_id == intake.id)
                .values(last_seen_at=long_ago)
            )
        if what == "expired":
            intake.token_expires_at = utcnow() - timedelta(minutes=1)
        elif what == "reissued":
            reissue_invitation(intake, 14)
        elif what == "revoked":
            revoke_invitation(intake)
        elif what == "locked":
            intake.locked_at = utcnow()
        elif what == "second tab":
            intake.answers = {**intake.answers, "general.course": "better"}


def test_save_and_finish_later_then_a_new_tab_asks_for_the_date_of_birth(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    problems: list[str] = []
    try:
        page = context.new_page()
        watch(page, "patient", problems)
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        page.fill("#f-general\\.main_concerns", TYPED)
        with page.expect_navigation():
            page.click(".actions button[value=save]")
        assert page.url.startswith(f"{base}/saved?s=")
        assert "Your answers are saved" in page.inner_text("main")
        assert "Your link works until" in page.inner_text("main")
        shot(page, "saved")
        assert context.cookies() == [] or all(
            c["name"] != "intake_session" for c in context.cookies()
        )

        # A new tab in the same browser: nothing shown, the link and the date of birth needed.
        second = context.new_page()
        watch(second, "second tab", problems)
        for path in ("/review", "/step/general", "/welcome"):
            second.goto(f"{base}{path}")
            text = second.inner_text("main")
            assert "Please open your link again" in text or "You are signed out" in text, path
            assert TYPED not in second.content() and "Ada" not in text
        shot(second, "signed-out")
        open_link(second, base, token)
        assert second.url == f"{base}/step/general"
        assert second.input_value("#f-general\\.main_concerns") == TYPED

        # A new browser sharing nothing: the same.
        other = new_context(browser)
        try:
            stranger = other.new_page()
            stranger.goto(f"{base}/review")
            assert "Please open your link again" in stranger.inner_text("main")
        finally:
            other.close()
    finally:
        context.close()
    # The signed-out pages answer 401, which the browser logs; nothing else may appear.
    assert not [p for p in problems if "status of 401" not in p], problems


REASONS = [
    ("idle", "You were signed out after 30 minutes without saving", "form"),
    ("signed out", "You signed out", "form"),
    ("reissued", "Your clinic sent you a new link", "shown"),
    ("revoked", "The clinic has stopped this link", "shown"),
    ("expired", "This link has expired", "shown"),
    ("locked", "This link is locked for now", "shown"),
    ("second tab", "This part was changed in another window", "form"),
    ("submitted", "Your answers were already sent", "shown"),
]


@pytest.mark.parametrize(("what", "heading", "typing"), REASONS, ids=[r[0] for r in REASONS])
def test_each_refused_save_says_why_and_keeps_or_shows_the_typing(
    live_app: tuple[Any, str], browser: Any, what: str, heading: str, typing: str
) -> None:
    app, base = live_app
    token, public_id = invite(app)
    context = new_context(browser)
    problems: list[str] = []
    try:
        page = context.new_page()
        watch(page, "patient", problems)
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        page.fill("#f-general\\.main_concerns", TYPED)
        page.check("input[name='general.course'][value='worse']")
        if what == "signed out":
            other = context.new_page()
            other.goto(f"{base}/review")
            with other.expect_navigation():
                other.click("header .sign-out button")
            other.close()
        elif what == "submitted":
            other = context.new_page()
            other.goto(f"{base}/review")
            with other.expect_navigation():
                other.click("form[action='/submit'] button[type=submit]")
            other.close()
        else:
            act(app, public_id, what)
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        main = page.inner_text("main")
        assert heading in main, main[:400]
        assert "long pause" not in main and "We could not find this link" not in main
        if typing == "form":  # kept in its box, to save with a button (and a date of birth)
            assert page.input_value("#f-general\\.main_concerns") == TYPED
            assert page.is_checked("input[name='general.course'][value='worse']")
        else:  # shown back as text to copy: nothing can store it now
            typed = page.locator("section.typed").inner_text()
            assert TYPED in typed and "Got worse" in typed
            assert page.locator("#step-form").count() == 0
        shot(page, f"refused-{what.replace(' ', '-')}")
    finally:
        context.close()
    # A closed link's page is a 4xx page: the browser logs its status; nothing else may appear.
    assert not [p for p in problems if "status of 4" not in p], problems


def test_a_double_click_on_save_and_continue_saves_once_and_moves_on(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, public_id = invite(app)
    context = new_context(browser)
    try:
        page = context.new_page()
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        page.fill("#f-general\\.main_concerns", TYPED)
        with page.expect_navigation(url=f"{base}/step/stress", wait_until="load"):
            page.dblclick(".actions button[value=next]")
        page.wait_for_load_state("load")
        assert page.url == f"{base}/step/stress"
        assert "changed in another window" not in page.inner_text("main")
    finally:
        context.close()
    with app.app_context():
        intake = db.session().scalars(select(Intake).where(Intake.public_id == public_id)).one()
        assert intake.answers["general.main_concerns"] == TYPED
        assert intake.answers_version == 1


def test_the_idle_warning_offers_to_stay_signed_in(live_app: tuple[Any, str], browser: Any) -> None:
    """26 minutes on one page without a request (the page's clock run forward): the warning
    shows, "Stay signed in" restarts the clock on the server, and the warning goes."""
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.clock.install()
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        notice = page.locator("#idle-notice")
        assert notice.is_hidden()
        page.clock.fast_forward("24:00")
        assert notice.is_hidden()
        with app.app_context(), db.transaction() as tx:  # the server's clock, as 26 minutes on
            tx.execute(update(PatientSession).values(last_seen_at=utcnow() - timedelta(minutes=26)))
        page.clock.fast_forward("02:00")
        notice.wait_for(state="visible")
        assert "signed out in less than 5 minutes" in notice.inner_text()
        shot(page, "idle-warning")
        page.click("#idle-notice button")
        notice.wait_for(state="hidden")
        with app.app_context():
            row = db.session().scalars(select(PatientSession)).one()
            assert utcnow() - row.last_seen_at.replace(tzinfo=utcnow().tzinfo) < timedelta(
                minutes=1
            )
    finally:
        context.close()


def test_signing_out_in_one_tab_clears_the_others(live_app: tuple[Any, str], browser: Any) -> None:
    """A tab left open on the review page of a shared computer stops showing the answers."""
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    try:
        page = context.new_page()
        open_link(page, base, token)
        page.goto(f"{base}/review")
        other = context.new_page()
        other.goto(f"{base}/welcome")
        with other.expect_navigation():
            other.click("header .sign-out button")
        page.wait_for_url(f"{base}/review")  # reloaded by the storage event: signed out now
        page.wait_for_function("() => !document.querySelector('form[action=\"/submit\"]')")
        assert "Please open your link again" in page.inner_text(
            "main"
        ) or "signed out" in page.inner_text("main")
    finally:
        context.close()


def test_an_error_summary_link_keeps_its_question_and_message_in_view(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    try:
        page = context.new_page()
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        page.fill("#f-general\\.onset_year-year", "19")
        with page.expect_navigation():
            page.click(".actions button[value=next]")
        link = page.locator("#error-summary a[href='#f-general.onset_year-year']")
        assert "About what year did these health problems start?" in link.inner_text()
        shot(page, "error-summary")
        link.click()
        box = page.evaluate(
            """() => {
              const input = document.getElementById('f-general.onset_year-year');
              const legend = input.closest('fieldset').querySelector('legend');
              const message = document.getElementById('f-general.onset_year-year-error');
              const r = el => el.getBoundingClientRect();
              return {focused: document.activeElement === input, legend: r(legend).top,
                      message: r(message).bottom, input: r(input).bottom, height: innerHeight};
            }"""
        )
        assert box["focused"], box
        assert box["legend"] >= 0 and box["message"] <= box["height"], box
        assert box["input"] <= box["height"], box
    finally:
        context.close()


def test_the_urgent_help_notice_on_welcome_trauma_and_done(
    live_app: tuple[Any, str], browser: Any
) -> None:
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    notice = "This form is not watched. If you need urgent help, call your local emergency number or your clinic."
    try:
        page = context.new_page()
        open_link(page, base, token)
        page.goto(f"{base}/welcome")
        assert notice in page.inner_text("main")
        shot(page, "welcome")
        page.goto(f"{base}/step/trauma")
        assert notice in page.inner_text("main")
        shot(page, "trauma")
        page.goto(f"{base}/step/sleep")
        assert notice not in page.inner_text("main")
        page.goto(f"{base}/review")
        with page.expect_navigation():
            page.click("form[action='/submit'] button[type=submit]")
        assert notice in page.inner_text("main")
        shot(page, "done")
    finally:
        context.close()


def test_typing_keeps_the_session_alive_without_a_request_per_key(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """40 minutes writing one long answer (the page's clock run forward a minute at a time, the
    server's session aged with it): no warning, the session still open at the end, and a
    keep-alive a few minutes apart, not one per key."""
    app, base = live_app
    token, _ = invite(app)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.clock.install()
        open_link(page, base, token)
        page.goto(f"{base}/step/general")
        pings: list[str] = []
        page.on("request", lambda r: pings.append(r.url) if "keepalive" in r.url else None)
        notice = page.locator("#idle-notice")
        box = page.locator("#f-general\\.main_concerns")
        keys = 0
        for _minute in range(40):
            box.press_sequentially("and more ")
            keys += len("and more ")
            with app.app_context(), db.transaction() as tx:  # the server's clock, a minute on
                for row in tx.scalars(select(PatientSession)):
                    row.last_seen_at = row.last_seen_at - timedelta(minutes=1)
            page.clock.fast_forward("01:00")
            assert notice.is_hidden(), f"warned after {_minute + 1} minutes of typing"
        assert 10 <= len(pings) <= 14, (len(pings), keys)  # every 3 minutes, of 360 keys
        assert box.input_value().count("and more") == 40
        with page.expect_navigation():  # still signed in: the typing is saved
            page.click(".actions button[value=next]")
        assert page.url == f"{base}/step/stress", page.inner_text("main")[:300]
    finally:
        context.close()
    with app.app_context():
        intake = db.session().scalars(select(Intake)).one()
        assert intake.answers["general.main_concerns"].count("and more") == 40
