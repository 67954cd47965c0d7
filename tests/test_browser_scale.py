"""The 0 to 10 scale on a phone, in real Chromium (issue 15, item 8): when it wraps to two rows,
each number of the second row sits under one of the first, the same width."""

from __future__ import annotations

from typing import Any

from intake import db
from intake.intakes.invitations import create_invitation
from tests.chromium import DOB, TIMEOUT_MS, open_link

#: Each 0 to 10 choice's box on the page.
BOXES = """(fieldset) => [...fieldset.querySelectorAll('.scale-numbers .option')].map(o => {
  const r = o.getBoundingClientRect();
  return {left: Math.round(r.left), width: Math.round(r.width), top: Math.round(r.top)};
})"""


def test_the_second_row_of_a_scale_lines_up_with_the_first(
    live_app: tuple[Any, str], browser: Any
) -> None:
    """At 320 px, 6 to 10 stretched across the whole width under 0 to 5: each number stood
    between two of the row above."""
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
        for width in (320, 390):
            page.set_viewport_size({"width": width, "height": 900})
            boxes = scale.evaluate(BOXES)
            rows = sorted({b["top"] for b in boxes})
            assert len(rows) == 2, (width, boxes)
            first = [b for b in boxes if b["top"] == rows[0]]
            second = [b for b in boxes if b["top"] == rows[1]]
            for n, box in enumerate(second):
                above = first[n]
                assert abs(box["left"] - above["left"]) <= 1, (width, n, box, above)
                assert abs(box["width"] - above["width"]) <= 1, (width, n, box, above)
    finally:
        context.close()
