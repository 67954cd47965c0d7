"""List entries: numbered by their place on the page, whatever their names' numbers."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import Invited, post_step


def test_the_error_summary_numbers_an_entry_as_its_legend_does(
    client: FlaskClient, patient: Invited
) -> None:
    """After "Remove entry 1" the rows keep the names they were posted with (1 and 2), but the
    page calls them Entry 1 and Entry 2: so does the summary."""
    rows = {"med.takes_any": "yes", "med.current-0-name": "Cetirizine",
            "med.current-1-name": "Vitamin D", "med.current-2-name": "Iron",
            "med.current-2-since-year": "20"}  # fmt: skip
    assert post_step(client, "med", {"med.takes_any": "yes"}).status_code == 303
    html = post_step(client, "med", {**rows, "action": "remove:med.current:0"}).get_data(
        as_text=True
    )
    summary = html.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    assert 'href="#f-med.current-2-since-year"' in summary
    assert "Entry 2, " in summary and "Entry 3" not in summary
