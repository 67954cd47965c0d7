"""intake: a pre-visit questionnaire that records what the patient reports and interprets nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake.assets import TEMPLATES

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, database, security, blueprints and CLI."""
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from intake import cli, db, edge, errors, health, logs, security
    from intake.api import bp as api_bp
    from intake.api import fhir_public
    from intake.clinician import bp as clinician_bp
    from intake.config import load_config
    from intake.patient import bp as patient_bp
    from intake.pdf import document as pdf

    app = Flask(__name__, template_folder=str(TEMPLATES), instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path), test_config))
    app.jinja_env.trim_blocks = True  # smaller pages on slow phone connections
    app.jinja_env.lstrip_blocks = True
    # Every client address checked (and bounded) before any view reads it, proxied or not.
    app.wsgi_app = edge.ClientAddress(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["PROXY_HOPS"]:
        # The client's address (sign-in limits, audit) from X-Forwarded-For, and the scheme from
        # X-Forwarded-Proto, as the proxy set them. Without the scheme, a request that reached the
        # proxy over HTTPS looks like plain HTTP, and Flask-WTF skips its HTTPS-only Referer check.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    logs.init_app(app)
    db.init_app(app)
    edge.init_app(app)  # before security's CSRF: unstorable text is refused first, alike everywhere
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(patient_bp)
    app.register_blueprint(clinician_bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(fhir_public)
    cli.init_app(app)
    pdf.warn_if_slow_subsetting(app)
    return app
