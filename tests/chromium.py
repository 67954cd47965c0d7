"""Chromium through Playwright, for the browser tests: where it is, how it starts, and the small
steps several of them take (the fixtures ``live_app`` and ``browser`` are in conftest.py)."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from forms.loader import get_catalog
from intake import db
from intake.intakes.demo import demo_answers, demo_detail_sections
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
    page.fill("#dob-day", str(DOB.day))
    page.fill("#dob-month", str(DOB.month))
    page.fill("#dob-year", str(DOB.year))
    with page.expect_navigation():
        page.click("button[type=submit]")


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
