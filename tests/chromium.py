"""Chromium through Playwright, for the browser tests: where it is, how it starts, and the small
steps several of them take (the fixtures ``live_app`` and ``browser`` are in conftest.py)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from forms.loader import get_catalog
from intake import db
from intake.intakes.demo import demo_answers, demo_detail_sections
from intake.intakes.invitations import create_invitation
from intake.models import Intake

CHROMIUM = "/usr/bin/chromium"
NOT_AVAILABLE = (
    "Chromium not available: install Debian's chromium package (scripts/setup --test does this) "
    "to run the browser test"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOB = date(1980, 3, 27)
TIMEOUT_MS = 10_000


def unavailable(detail: str = "") -> None:
    reason = NOT_AVAILABLE + (f" ({detail})" if detail else "")
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


# Where each cell of a list answer's table sits, what its ::before shows, and whether the page or
# the table's scroll box is wider than the screen.
LIST_LAYOUT = """row => {
    const wrap = row.querySelector('.table-wrap');
    const head = row.querySelector('thead').getBoundingClientRect();
    const cells = [...row.querySelectorAll('tbody tr:first-child td')].map(td => {
        const box = td.getBoundingClientRect();
        const label = getComputedStyle(td, '::before').content;
        return {top: box.top, bottom: box.bottom, label, text: td.innerText};
    });
    const html = document.documentElement;
    return {
        pageOverflow: html.scrollWidth > html.clientWidth,
        tableOverflow: wrap.scrollWidth > wrap.clientWidth,
        headerShown: head.width > 1 && head.height > 1,
        cells,
    };
}"""


def fill_with_demo_answers(app: Any, public_id: str) -> None:
    """Give an intake the demo's answers, every section saved (as if the patient had typed them)."""
    catalog = get_catalog()
    with app.app_context(), db.transaction() as tx:
        intake = tx.scalars(select(Intake).where(Intake.public_id == public_id)).one()
        intake.answers = demo_answers(catalog)
        intake.detail_sections = demo_detail_sections(catalog)
        intake.sections_saved = [s.id for s in catalog.sections]


def open_link(page: Any, base: str, token: str) -> None:
    """Open the patient's link and confirm the date of birth, as the patient does."""
    page.goto(f"{base}/start?t={token}")
    assert page.url == f"{base}/verify"
    page.fill("#dob-day", str(DOB.day))
    page.fill("#dob-month", str(DOB.month))
    page.fill("#dob-year", str(DOB.year))
    with page.expect_navigation():
        page.click("button[type=submit]")


def invite(app: Any) -> tuple[str, str]:
    """A new patient's link token and intake id (born on ``DOB``)."""
    with app.app_context(), db.transaction() as tx:
        new = create_invitation(tx, "Ada Example", DOB)
        return new.token, new.intake.public_id


def new_context(browser: Any, width: int = 390, **options: Any) -> Any:
    """A browser context the size of a phone (or ``width``), with the tests' timeout."""
    context = browser.new_context(viewport={"width": width, "height": 844}, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def patient_page(browser: Any, base: str, token: str, width: int = 390, **options: Any) -> Any:
    """A page of a new context, signed in with the link and the date of birth."""
    page = new_context(browser, width, **options).new_page()
    open_link(page, base, token)
    return page


def documents(page: Any) -> list[str]:
    """The pages the browser requests from now on (a reload of the step is one more)."""
    loads: list[str] = []
    page.on(
        "request",
        lambda r: (
            loads.append(f"{r.method} {urlsplit(r.url).path}")
            if r.resource_type == "document"
            else None
        ),
    )
    return loads


#: Screenshots of the pages the tests reach, to look at (not compared): SCREENSHOTS=/some/folder.
SHOTS = os.environ.get("SCREENSHOTS")


def shot(page: Any, name: str, widths: tuple[int, ...] = ()) -> None:
    """Save a full-page screenshot as ``name``.png, or one per width as ``name``-WIDTH.png (the
    page is left at the first width); nothing unless SCREENSHOTS is set."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    if not widths:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)
        return
    for width in widths:
        page.set_viewport_size({"width": width, "height": 844})
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": widths[0], "height": 844})


EMAIL = "dr.ada@example.org"
PASSWORD = "plum tractor violin 42"


def sign_in_clinician(page: Any, base: str) -> None:
    """Sign in on the clinic's sign-in page with the account of EMAIL and PASSWORD."""
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button.primary")


def watch(page: Any, who: str, problems: list[str]) -> None:
    """Collect console errors and warnings (CSP violations are reported there) and page errors."""

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{who} console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(f"{who} page error: {e}"))
