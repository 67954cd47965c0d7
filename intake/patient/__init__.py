"""The patient's side: private link, date-of-birth check, one step per section, review, submit."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patient", __name__)


@bp.app_template_filter("errors_under")
def errors_under(errors: list, name: str) -> list:  # type: ignore[type-arg]
    """The errors that belong to one input or its sub-inputs (a list row's fields)."""
    target = f"f-{name}"
    return [e for e in errors if e.target == target or e.target.startswith(target + "-")]


@bp.app_template_filter("filled")
def filled(data: object) -> bool:
    """Whether a list row holds anything typed or chosen (then it gets a "Remove" button; the
    empty row to type into does not). A row's data nests: a year field is {year, unknown}."""
    if isinstance(data, dict):
        return any(filled(value) for value in data.values())
    if isinstance(data, (list, tuple)):
        return any(filled(value) for value in data)
    return data not in (None, "", False)


from intake.patient import views  # noqa: E402,F401  (registers the routes)
