"""Settings from the environment, with safe defaults for a single-clinic install.

``INTAKE_ENV`` is ``production`` unless told otherwise: the safe choice is the default one.
"""

from __future__ import annotations

import os
from contextlib import suppress
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: The values INTAKE_ENV may take; anything else (a typo such as ``Production`` or ``prod``)
#: refuses to start, rather than quietly running without production's protections.
ENVIRONMENTS = ("production", "development", "testing")
#: The shortest SECRET_KEY production accepts, and how many different characters it must use:
#: ``secrets.token_hex(32)`` (what scripts/serve writes) gives 64 characters of 16 kinds.
SECRET_KEY_MIN_LENGTH = 32
SECRET_KEY_MIN_DISTINCT = 10
KEY_HINT = "python3 -c 'import secrets; print(secrets.token_hex(32))'"

#: Largest request body accepted; the longest possible step (30 medicine rows) is far below it.
MAX_CONTENT_LENGTH = 256 * 1024


class ConfigError(RuntimeError):
    """The service cannot start safely with these settings."""


def _secret_key_file(instance_path: Path, name: str = "secret_key") -> str | None:
    """A key ``scripts/serve`` generated into ``instance/`` (``secret_key``, ``audit_key``), so
    CLI commands in another terminal sign and verify with the same key as the server."""
    path = instance_path / name
    return path.read_text(encoding="utf-8").strip() or None if path.is_file() else None


def _flag(name: str, default: bool) -> bool:
    """An on/off setting: refuse anything unclear rather than guess which way it was meant."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if not value:
        return default
    raise ConfigError(f"{name} must be true or false, not {value!r}.")


def _unreachable_from_outside(config: dict[str, Any]) -> bool:
    """Whether, in production, patient links would name this machine's own loopback address or
    plain http: a patient's phone cannot open the first, and the second sends the link token in
    the clear. ``scripts/serve`` fills in http://127.0.0.1:PORT for a local run, so a production
    install that forgot PUBLIC_BASE_URL hands out links that cannot work."""
    if config["INTAKE_ENV"] != "production":
        return False
    url = urlsplit(config["PUBLIC_BASE_URL"])
    host = (url.hostname or "").lower()
    loopback = host == "localhost" or host.endswith(".localhost")
    with suppress(ValueError):
        loopback = loopback or ip_address(host).is_loopback
    return loopback or url.scheme != "https"


def _check_production_key(key: str | None, name: str = "SECRET_KEY") -> None:
    """Production signs sessions and encrypts two-factor secrets with SECRET_KEY, and signs the
    audit log with AUDIT_KEY: refuse one that is missing or could be guessed."""
    if not key:
        raise ConfigError(
            f"{name} is not set. In production the service refuses to start without one: "
            f"set {name} to a long random value, or put one in instance/{name.lower()} "
            f"(scripts/serve generates it; or make one with {KEY_HINT})."
        )
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        raise ConfigError(
            f"{name} is too short or too plain for production: use at least "
            f"{SECRET_KEY_MIN_LENGTH} random characters, for example from {KEY_HINT}."
        )


#: Settings an older version read and this one does not, each with what to set instead: an
#: install that still sets one would otherwise run, silently, on the defaults that replaced it.
RETIRED = {
    "PATIENT_SESSION_SECONDS": (
        "a patient's session now ends after PATIENT_IDLE_MINUTES without a request (default 30)"
        " and in any case PATIENT_SESSION_HOURS after the date of birth was entered (default 4):"
        " set those instead, and remove PATIENT_SESSION_SECONDS"
    ),
}


def _refuse_retired(config: dict[str, Any]) -> None:
    """Refuse to start while a retired setting is set (in the environment, or by the caller)."""
    for name, instead in RETIRED.items():
        if name in os.environ or name in config:
            raise ConfigError(f"{name} is no longer read: {instead}.")


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment; ``overrides`` win (tests use them)."""
    env = os.environ.get("INTAKE_ENV", "production")
    production = env == "production"
    sqlite_path = instance_path / "intake.sqlite3"
    config: dict[str, Any] = {
        "INTAKE_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key_file(instance_path),
        # Signs every audit row (intake.audit.log): kept apart from SECRET_KEY, and never in the
        # database, so that whoever can write to the database cannot add a row that verifies.
        "AUDIT_KEY": os.environ.get("AUDIT_KEY") or _secret_key_file(instance_path, "audit_key"),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{sqlite_path}"),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "intake_session",
        # A patient may sit on one step for a long time: the session, not a clock, bounds the
        # CSRF token; an expired session still keeps what was typed (see patient.refusals).
        "WTF_CSRF_TIME_LIMIT": None,
        # Patient sessions (intake.intakes.patient_sessions) end after this long without a
        # request (the page warns first and offers to stay signed in), and in any case this long
        # after the date of birth was entered. The cookie itself ends with the browser.
        "PATIENT_IDLE_MINUTES": int(os.environ.get("PATIENT_IDLE_MINUTES", 30)),
        "PATIENT_SESSION_HOURS": int(os.environ.get("PATIENT_SESSION_HOURS", 4)),
        "WTF_CSRF_SSL_STRICT": production,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("INTAKE_TIMEZONE", "UTC"),
        "INTAKE_TIMEZONE": os.environ.get("INTAKE_TIMEZONE", "UTC"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        # Unset: pages name no clinic (the header printed "your clinic" in lower case).
        "CLINIC_NAME": os.environ.get("CLINIC_NAME", "").strip(),
        "CLINIC_CONTACT": os.environ.get(
            "CLINIC_CONTACT",
            "the clinic that sent you this link (the phone number is on your appointment letter)",
        ),
        # Shown on the welcome page, the trauma step and the done page (never in the PDF): the
        # form is not watched. Unset: the service's own wording, translated.
        "URGENT_HELP_NOTICE": os.environ.get("URGENT_HELP_NOTICE", "").strip() or None,
        "INVITE_DAYS": int(os.environ.get("INVITE_DAYS", 14)),
        "DOB_ATTEMPTS": int(os.environ.get("DOB_ATTEMPTS", 5)),
        "PDF_PAGE_SIZE": os.environ.get("PDF_PAGE_SIZE", "A4"),
        # One PDF render may take this long before its renderer process is stopped (the
        # submission stands; the background worker tries again).
        "PDF_RENDER_TIMEOUT_SECONDS": float(os.environ.get("PDF_RENDER_TIMEOUT_SECONDS", 60)),
        # A renderer process with no render for this long ends and gives its memory (about
        # 90 MB) back; the next render starts one again, about 0.5 s slower. 0: keep it.
        "PDF_RENDERER_IDLE_SECONDS": float(os.environ.get("PDF_RENDERER_IDLE_SECONDS", 600)),
        # Questions a clinic must switch on deliberately (trauma.safe_now needs a same-day response).
        "CLINIC_OPT_INS": frozenset(filter(None, os.environ.get("CLINIC_OPT_INS", "").split(","))),
        # Clinician accounts (intake.auth.accounts): sessions end after this long without a request,
        # and in any case this long after sign-in.
        "CLINICIAN_IDLE_MINUTES": int(os.environ.get("CLINICIAN_IDLE_MINUTES", 15)),
        "CLINICIAN_SESSION_HOURS": int(os.environ.get("CLINICIAN_SESSION_HOURS", 12)),
        # Sign-in limits (intake.auth.throttle): failures in a streak before a lock, per account and
        # per client address (a clinic behind one NAT address shares the second).
        "LOGIN_ACCOUNT_FAILURES": int(os.environ.get("LOGIN_ACCOUNT_FAILURES", 5)),
        "LOGIN_ADDRESS_FAILURES": int(os.environ.get("LOGIN_ADDRESS_FAILURES", 20)),
        "LOGIN_WINDOW_MINUTES": int(os.environ.get("LOGIN_WINDOW_MINUTES", 15)),
        "LOGIN_MAX_LOCK_MINUTES": int(os.environ.get("LOGIN_MAX_LOCK_MINUTES", 60)),
        # An argon2.profiles name; tests use CHEAPEST. Stored hashes are upgraded at sign-in.
        "ARGON2_PROFILE": os.environ.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY"),
        # Two-factor sign-in (intake.auth.totp): when true, an account without it must enrol right
        # after its password is accepted, before any other clinic page.
        "REQUIRE_TOTP": _flag("REQUIRE_TOTP", default=False),
        # Encrypts the stored TOTP secrets; derived from SECRET_KEY when unset. Set it to rotate
        # SECRET_KEY without making every enrolled account enrol again.
        "TOTP_ENCRYPTION_KEY": os.environ.get("TOTP_ENCRYPTION_KEY") or None,
        # Reverse proxies in front of the service that set X-Forwarded-For: without this, every
        # client has the proxy's address and the per-address sign-in limit locks out everyone.
        "PROXY_HOPS": int(os.environ.get("PROXY_HOPS", 0)),
        # --- FHIR (intake.fhir) -------------------------------------------------------------------
        # Base of the canonical URLs (Questionnaire, code system, identifiers). Set it once and
        # keep it: receiving systems match answers to questions by these URLs.
        "FHIR_CANONICAL_BASE": os.environ.get("FHIR_CANONICAL_BASE", "").rstrip("/") or None,
        # The identifier system of the clinic's medical record numbers, as the EHR knows them
        # (the EHR finds the patient by it). Defaults to a local URI under the canonical base.
        "FHIR_MRN_SYSTEM": os.environ.get("FHIR_MRN_SYSTEM") or None,
        # DocumentReference.type as "system|code|display"; LOINC 51855-5 Patient Note by default.
        "FHIR_DOCUMENT_TYPE": os.environ.get(
            "FHIR_DOCUMENT_TYPE", "http://loinc.org|51855-5|Patient Note"
        ),
        # --- EHR upload (intake.ehr) --------------------------------------------------------------
        # No base URL: no "Send to EHR"; clinicians download the PDF and nothing else changes.
        "EHR_FHIR_BASE_URL": os.environ.get("EHR_FHIR_BASE_URL", "").rstrip("/") or None,
        # "smart" (SMART Backend Services, signed JWT assertion) or "bearer" (static token).
        "EHR_AUTH": os.environ.get("EHR_AUTH", "smart"),
        "EHR_TOKEN_URL": os.environ.get("EHR_TOKEN_URL") or None,
        "EHR_CLIENT_ID": os.environ.get("EHR_CLIENT_ID") or None,
        "EHR_SCOPE": os.environ.get(
            "EHR_SCOPE", "system/DocumentReference.write system/Patient.read"
        ),
        # RS384 or ES384; the key pair lives in this file (made by `intake ehr-keygen`).
        "EHR_KEY_ALG": os.environ.get("EHR_KEY_ALG", "ES384"),
        "EHR_KEY_PATH": os.environ.get("EHR_KEY_PATH")
        or str(instance_path / "ehr_private_key.pem"),
        "EHR_BEARER_TOKEN": os.environ.get("EHR_BEARER_TOKEN") or None,
        "EHR_TIMEOUT_SECONDS": float(os.environ.get("EHR_TIMEOUT_SECONDS", 20)),
        "EHR_RETRIES": int(os.environ.get("EHR_RETRIES", 3)),
        "EHR_BACKOFF_SECONDS": float(os.environ.get("EHR_BACKOFF_SECONDS", 1.0)),
        # The most one send may take, retries included: below gunicorn's timeout (120 s), so a
        # slow EHR ends in a recorded "not sent", never in a killed worker.
        "EHR_SEND_BUDGET_SECONDS": float(os.environ.get("EHR_SEND_BUDGET_SECONDS", 90)),
        # The background worker (intake.worker): how often an idle worker looks for a job (the
        # most a submitted PDF waits before its render starts), and how much lower its CPU
        # priority is than the web workers' (os.nice; 0 to 19).
        "WORKER_POLL_SECONDS": float(os.environ.get("WORKER_POLL_SECONDS", 0.5)),
        "WORKER_NICE": int(os.environ.get("WORKER_NICE", 10)),
        "WORKER_SWEEP_MINUTES": float(os.environ.get("WORKER_SWEEP_MINUTES", 10)),
    }
    config.update(overrides or {})
    _refuse_retired(config)
    if config["INTAKE_ENV"] not in ENVIRONMENTS:
        raise ConfigError(
            f"INTAKE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {config['INTAKE_ENV']!r} "
            "(unset, it is production)."
        )
    if config["INTAKE_ENV"] == "production":
        _check_production_key(config["SECRET_KEY"])
        _check_production_key(config["AUDIT_KEY"], "AUDIT_KEY")
        if config["AUDIT_KEY"] == config["SECRET_KEY"]:
            raise ConfigError("AUDIT_KEY must differ from SECRET_KEY: each protects other things.")
        # Whatever FLASK_DEBUG says: debug mode shows tracebacks, with patient data, to anyone.
        config["DEBUG"] = False
    if config["PATIENT_IDLE_MINUTES"] < 10 or config["PATIENT_SESSION_HOURS"] < 1:
        # The page warns 5 minutes before the end: a shorter session would open with the warning.
        raise ConfigError(
            "PATIENT_IDLE_MINUTES must be 10 or more, PATIENT_SESSION_HOURS 1 or more"
        )
    if config["PDF_PAGE_SIZE"] not in ("A4", "Letter"):
        raise ConfigError("PDF_PAGE_SIZE must be A4 or Letter")
    if not config["PDF_RENDER_TIMEOUT_SECONDS"] > 0:
        raise ConfigError("PDF_RENDER_TIMEOUT_SECONDS must be a number of seconds above 0")
    if not config["WORKER_POLL_SECONDS"] > 0:
        raise ConfigError("WORKER_POLL_SECONDS must be a number of seconds above 0")
    if not config["WORKER_SWEEP_MINUTES"] > 0:
        raise ConfigError("WORKER_SWEEP_MINUTES must be a number of minutes above 0")
    if not 0 <= config["WORKER_NICE"] <= 19:
        raise ConfigError("WORKER_NICE must be from 0 (same priority as the web) to 19 (lowest)")
    if config["PDF_RENDERER_IDLE_SECONDS"] < 0:
        raise ConfigError("PDF_RENDERER_IDLE_SECONDS must be 0 (keep the renderer) or more")
    config["PUBLIC_BASE_URL_UNREACHABLE"] = _unreachable_from_outside(config)
    if config["FHIR_CANONICAL_BASE"] is None:
        config["FHIR_CANONICAL_BASE"] = config["PUBLIC_BASE_URL"].rstrip("/") + "/fhir"
    if config["FHIR_MRN_SYSTEM"] is None:
        config["FHIR_MRN_SYSTEM"] = config["FHIR_CANONICAL_BASE"] + "/mrn"
    if config["EHR_AUTH"] not in ("smart", "bearer"):
        raise ConfigError("EHR_AUTH must be smart or bearer")
    if config["EHR_KEY_ALG"] not in ("RS384", "ES384"):
        raise ConfigError("EHR_KEY_ALG must be RS384 or ES384")
    if len(config["FHIR_DOCUMENT_TYPE"].split("|")) != 3:
        raise ConfigError("FHIR_DOCUMENT_TYPE must be system|code|display")
    return config
