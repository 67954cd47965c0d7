"""The clinic's home page: the worklist of every intake, by appointment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from intake import db
from intake.audit import log as audit
from intake.clinician import bp
from intake.clinician.access import signed_in
from intake.clinician.workspace import clinic_today, clinic_zone
from intake.clock import utcnow
from intake.intakes import states
from intake.reads.worklist import Filters, parse_filters, unreviewed_before, worklist_page


def _query_args(filters: Filters) -> dict[str, str]:
    """The filters as query arguments, for page links: "from" stays even when empty (all dates).

    Never the search text: it is often a patient's name or MRN, and a URL lands in the browser's
    history, a proxy's log and every page link. A search is posted, and its pages are posted
    again with the text in a hidden field (``search`` in the template).
    """
    args = {
        "state": filters.state or "",
        "from": filters.date_from.isoformat() if filters.date_from else "",
        "to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return {k: v for k, v in args.items() if v or k == "from"}


def day_before(filters: Filters) -> date:
    return (filters.date_from or clinic_today()) - timedelta(days=1)


@bp.route("/", methods=["GET", "POST"])
def home() -> ResponseReturnValue:
    """Every intake, sorted by appointment; upcoming ones first unless asked otherwise.

    The search text comes only from a posted form (a ``q`` in the query string is ignored, so
    no link can carry one). Each view is audited: the page shows patients' names and dates of
    birth. The row names who and from where, never the search text.
    """
    clinician = signed_in()
    today = clinic_today()
    source: Mapping[str, str] = request.form
    if request.method == "GET":
        source = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "q"])
    filters, problems = parse_filters(source, today)
    page = worklist_page(db.session(), filters, utcnow(), clinic_zone())
    hidden_to_review = 0
    if filters.date_from and filters.state in (None, "submitted"):
        hidden_to_review = unreviewed_before(db.session(), filters.date_from, clinic_zone())
    with db.transaction() as tx:
        audit.record(tx, clinician.actor, "worklist.view", address=request.remote_addr)
    return render_template(
        "clinician/home.html",
        clinician=clinician,
        page=page,
        filters=filters,
        problems=problems,
        args=_query_args(filters),
        all_dates_args={**_query_args(filters), "from": "", "to": ""},
        today=today,
        states=states.STATES,
        hidden_to_review=hidden_to_review,
        earlier_args={"state": "submitted", "from": "", "to": (day_before(filters)).isoformat()},
    )
