"""Where the service's own files are: the templates, in a checkout or inside an installed wheel.

A module of its own, with no imports of the application, so that the PDF renderer process
(``intake.pdf.engine``) finds its stylesheet without loading the web stack or the blueprints.
"""

from __future__ import annotations

from pathlib import Path


def _templates_folder() -> Path:
    """``intake/templates`` in an installed wheel, else the checkout's top-level ``templates/``
    (an editable install, or tests run in the checkout: see pyproject's wheel sources)."""
    package = Path(__file__).resolve().parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


TEMPLATES = _templates_folder()
