"""Reading a FHIR server's answers: OperationOutcome text, ids from Location, Retry-After.

Plain functions over ``httpx.Response`` so the client's retry loop stays short and these stay
testable one by one.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import httpx

#: The longest message kept from a server: enough for a few issues, never a page of HTML.
MAX_MESSAGE_CHARS = 1000


def user_agent() -> str:
    """Names this service in the EHR's logs, so its administrators know who is calling."""
    try:
        version = metadata.version("intake")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"intake/{version} (pre-visit intake; EHR hand-off)"


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object; None when it is empty or anything else (HTML error pages)."""
    if not response.content.strip():
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def outcome_text(body: dict[str, Any] | None) -> str:
    """An OperationOutcome's issues as one line: "error invalid: why; warning ...: why"."""
    if not body or body.get("resourceType") != "OperationOutcome":
        return ""
    parts = []
    for issue in body.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        label = " ".join(str(issue[k]) for k in ("severity", "code") if issue.get(k))
        details = issue.get("details")
        details = details if isinstance(details, dict) else {}
        text = issue.get("diagnostics") or details.get("text") or _first_display(details)
        parts.append(f"{label}: {text}" if label and text else str(label or text or ""))
    return truncate("; ".join(p for p in parts if p))


def _first_display(concept: dict[str, Any]) -> str:
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    return ""


def id_from_location(location: str | None, resource_type: str) -> str | None:
    """The logical id in ``[base]/Type/id/_history/vid`` (absolute or relative), if there."""
    if not location:
        return None
    segments = [s for s in urlsplit(location).path.split("/") if s]
    for index in range(len(segments) - 2, -1, -1):
        if segments[index] == resource_type:
            return segments[index + 1]
    return None


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """Retry-After as seconds to wait: a number of seconds or an HTTP date; None if absent."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def redirect_target(response: httpx.Response) -> str:
    """Where a redirect pointed, as scheme and host only: enough to fix the setting, no data."""
    location = response.headers.get("Location", "")
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "another address"
