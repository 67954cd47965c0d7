"""Machine-readable exports: FHIR JSON and the PDF, for the clinic's browser or another system.

Two blueprints: ``fhir_public`` serves the Questionnaire to anyone (it holds no patient data and
receivers resolve its canonical URL); ``api`` serves one intake's exports under ``/clinic/api/v1``
to a signed-in clinician (the clinic cookie's path covers it) or a system holding an API token.
"""

from __future__ import annotations

from flask import Blueprint

fhir_public = Blueprint("fhir", __name__, url_prefix="/fhir")
bp = Blueprint("api", __name__, url_prefix="/clinic/api/v1")

from intake.api import access as access  # noqa: E402  (the guard)
from intake.api import views as views  # noqa: E402  (the routes)
