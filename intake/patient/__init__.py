"""The patient's side: private link, date-of-birth check, one step per section, review, submit."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from forms.schema import NON_ANSWER_OPTIONS
from forms.types.repeating import filled

bp = Blueprint("patient", __name__)


@bp.app_template_filter("errors_under")
def errors_under(errors: list, name: str) -> list:  # type: ignore[type-arg]
    """The errors that belong to one input or its sub-inputs (a list row's fields)."""
    target = f"f-{name}"
    return [e for e in errors if e.target == target or e.target.startswith(target + "-")]


bp.add_app_template_filter(filled, "filled")


@bp.record_once
def _template_globals(state: BlueprintSetupState) -> None:
    """The two non-answers for the widgets that offer them themselves (year, scale)."""
    state.app.jinja_env.globals["non_answers"] = NON_ANSWER_OPTIONS


from intake.patient import copy_views, session_views, step_views, views  # noqa: E402,F401  (the routes)
