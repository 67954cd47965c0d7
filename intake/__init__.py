"""intake: a pre-visit questionnaire that records what the patient reports and interprets nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, database, security, blueprints and CLI."""
    from intake import cli, db, health, logs, pdf, security
    from intake.config import load_config
    from intake.patient import bp as patient_bp

    app = Flask(__name__, template_folder=str(TEMPLATES), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path), test_config))
    app.jinja_env.trim_blocks = True  # smaller pages on slow phone connections
    app.jinja_env.lstrip_blocks = True

    logs.init_app(app)
    db.init_app(app)
    security.init_app(app)
    app.register_blueprint(patient_bp)
    app.register_blueprint(health.bp)
    cli.init_app(app)
    pdf.warn_if_slow_subsetting(app)
    return app
