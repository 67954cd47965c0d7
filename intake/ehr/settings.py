"""The EHR hand-off settings as one frozen value, so the client never reads the Flask config.

``ehr_settings`` returns None when no EHR is configured: the feature is off and nothing else
changes. ``settings_problems`` lists what would stop an upload, in words an IT person can act on,
so the CLI check and the clinic pages can say so before anyone presses "Send".

Nothing here imports the network or crypto libraries (the key is loaded only to check it): the
clinic pages read these settings on every intake page, and a worker that never sends to an EHR
should not carry httpx, PyJWT and cryptography (about 10 MB) in its memory.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from intake.ehr.keyspec import KEYGEN_HINT, KeyAlg

AuthMode = Literal["smart", "bearer"]


@dataclass(frozen=True)
class EhrSettings:
    """Everything the EHR client needs, read once from the app config."""

    base_url: str
    auth: AuthMode
    token_url: str | None
    client_id: str | None
    scope: str
    key_alg: KeyAlg
    key_path: Path
    # A secret: kept out of repr() so it cannot reach a log or a traceback by accident.
    bearer_token: str | None = field(repr=False)
    timeout_seconds: float
    retries: int
    backoff_seconds: float


def ehr_settings(config: Mapping[str, Any]) -> EhrSettings | None:
    """The EHR settings from the app config, or None when EHR_FHIR_BASE_URL is unset (feature off)."""
    base_url = (config.get("EHR_FHIR_BASE_URL") or "").strip().rstrip("/")
    if not base_url:
        return None
    return EhrSettings(
        base_url=base_url,
        auth=cast(AuthMode, config.get("EHR_AUTH", "smart")),
        token_url=(config.get("EHR_TOKEN_URL") or "").strip() or None,
        client_id=(config.get("EHR_CLIENT_ID") or "").strip() or None,
        scope=" ".join(str(config.get("EHR_SCOPE") or "").split()),
        key_alg=cast(KeyAlg, config.get("EHR_KEY_ALG", "ES384")),
        key_path=Path(config["EHR_KEY_PATH"]),
        bearer_token=config.get("EHR_BEARER_TOKEN") or None,
        timeout_seconds=float(config.get("EHR_TIMEOUT_SECONDS", 20)),
        retries=int(config.get("EHR_RETRIES", 3)),
        backoff_seconds=float(config.get("EHR_BACKOFF_SECONDS", 1.0)),
    )


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses, where plain http never leaves the host."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problems(name: str, url: str) -> list[str]:
    """Why ``url`` cannot carry patient data: not http(s), no host, or plain http off this host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name} must be an http(s) URL such as https://ehr.example.org/fhir, not {url!r}."]
    if parts.query or parts.fragment:
        return [f"{name} must not contain a query (?) or fragment (#)."]
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return [
            f"{name} uses plain http to {parts.hostname}: use https, so patient data and "
            "tokens are encrypted on the way."
        ]
    return []


def settings_problems(settings: EhrSettings) -> list[str]:
    """What would stop an upload with these settings; empty when they look usable."""
    problems = url_problems("EHR_FHIR_BASE_URL", settings.base_url)
    if settings.auth == "bearer":
        if not settings.bearer_token:
            problems.append("EHR_AUTH is bearer but EHR_BEARER_TOKEN is not set.")
    else:
        problems.extend(_smart_problems(settings))
    if settings.timeout_seconds <= 0:
        problems.append("EHR_TIMEOUT_SECONDS must be more than 0.")
    if settings.retries < 0:
        problems.append("EHR_RETRIES must be 0 or more.")
    if settings.backoff_seconds < 0:
        problems.append("EHR_BACKOFF_SECONDS must be 0 or more.")
    return problems


def _smart_problems(settings: EhrSettings) -> list[str]:
    problems = []
    if settings.token_url:
        problems.extend(url_problems("EHR_TOKEN_URL", settings.token_url))
    else:
        problems.append(
            "EHR_TOKEN_URL is not set (the EHR's OAuth token endpoint, from its "
            ".well-known/smart-configuration)."
        )
    if not settings.client_id:
        problems.append("EHR_CLIENT_ID is not set (the client id the EHR gave this service).")
    if not settings.scope:
        problems.append("EHR_SCOPE is empty (for example system/DocumentReference.write).")
    from intake.ehr.keys import KeyFileError, load_private_key

    if not settings.key_path.is_file():
        problems.append(f"No private key at {settings.key_path}: {KEYGEN_HINT}.")
    else:
        try:
            load_private_key(settings.key_path, settings.key_alg)
        except KeyFileError as error:
            problems.append(str(error))
    return problems
