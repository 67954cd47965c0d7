"""A small FHIR client for the EHR: conditional create, read and search over ``httpx``.

Redirects are never followed: a client that follows a 307 re-sends the patient's document to
whatever host the redirect names. A redirect is reported as a failure, so IT fixes the base URL.

Creates are retried after network errors, timeouts, 408, 429 and 5xx, with exponential backoff.
That is safe because each create is conditional (If-None-Exist): if a response was lost, the retry
finds the first copy and answers 200 instead of storing a second one.

Logs say only the method, resource type, status and attempt: never a body, URL query, token or
anything about the patient.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from intake.ehr.auth import TokenProvider, token_provider
from intake.ehr.errors import EhrAuthError, EhrError, EhrNotFoundError
from intake.ehr.responses import json_body, retry_after_seconds, user_agent
from intake.ehr.results import CreateResult, Exchange, create_result, problem, tries
from intake.ehr.settings import EhrSettings, url_problems
from intake.fhir.site import FHIR_JSON

log = logging.getLogger(__name__)

#: No single wait between attempts is longer than this, whatever Retry-After asks for.
MAX_DELAY_SECONDS = 30.0
#: Jitter adds up to this fraction of the delay, so clients that failed together retry apart.
JITTER_FRACTION = 0.1

_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_RESOURCE_ID = re.compile(r"(?!\.+$)[A-Za-z0-9.\-]{1,64}")  # FHIR id; "." and ".." would walk up


class _HideQueryStrings(logging.Filter):
    """httpx logs each request URL at INFO; a search URL carries the patient's identifier."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _without_query(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _without_query(url: httpx.URL) -> str:
    return str(url.copy_with(query=None)) + ("?[redacted]" if url.query else "")


logging.getLogger("httpx").addFilter(_HideQueryStrings())


def _is_retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


class FhirClient:
    """FHIR over HTTP to ``settings.base_url``; use it as a context manager to close the pool.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``); ``sleep`` and
    ``jitter`` (a number in [0, 1)) let tests check the backoff without waiting. Raises
    ``EhrError`` for a base URL that would send patient data unencrypted (or is no URL at all).
    """

    def __init__(
        self,
        settings: EhrSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token_provider: TokenProvider | None = None,
        jitter: Callable[[], float] = random.random,
        budget_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if problems := url_problems("EHR_FHIR_BASE_URL", settings.base_url):
            raise EhrError(problems[0])
        self.settings = settings
        # One deadline for everything this client does (search, create, their retries): a send
        # from the intake page must end before the web server gives up on the request.
        self._clock = clock
        self._budget = budget_seconds
        self._deadline = None if budget_seconds is None else clock() + budget_seconds
        self._sleep = sleep
        self._jitter = jitter
        self._transport = transport
        self._tokens = token_provider
        self._http = httpx.Client(
            base_url=settings.base_url + "/",
            transport=transport,
            timeout=httpx.Timeout(settings.timeout_seconds),
            follow_redirects=False,
            headers={"Accept": FHIR_JSON, "User-Agent": user_agent()},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- the three operations -----------------------------------------------------------------

    def create(
        self, resource_type: str, resource: Mapping[str, Any], if_none_exist: str | None = None
    ) -> CreateResult:
        """POST ``resource`` to ``[base]/resource_type``; conditional when ``if_none_exist`` is
        given (a FHIR search query such as ``identifier=system|value``, sent as is)."""
        _check_type(resource_type)
        if resource.get("resourceType") != resource_type:
            raise ValueError(f"resource is a {resource.get('resourceType')}, not {resource_type}")
        headers = {"Content-Type": FHIR_JSON}
        if if_none_exist is not None:
            headers["If-None-Exist"] = if_none_exist
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        exchange = self._exchange(
            "POST", resource_type, resource_type, content=body, headers=headers
        )
        return create_result(
            exchange, resource_type, conditional=if_none_exist is not None, auth=self.settings.auth
        )

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """GET ``[base]/resource_type/id``; ``EhrNotFoundError`` if the EHR has no such resource."""
        _check_type(resource_type)
        if not _RESOURCE_ID.fullmatch(resource_id):
            raise ValueError(f"{resource_id!r} is not a FHIR resource id")
        return self._get_resource(resource_type, f"{resource_type}/{resource_id}", resource_type)

    def search(self, resource_type: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """GET ``[base]/resource_type?params``: the matching resources of the first page."""
        _check_type(resource_type)
        bundle = self._get_resource(resource_type, resource_type, "Bundle", params=params)
        return [
            entry["resource"]
            for entry in bundle.get("entry") or []
            if isinstance(entry, dict)
            and isinstance(entry.get("resource"), dict)
            # "include" entries are referenced resources, "outcome" ones are warnings: not matches.
            and (entry.get("search") or {}).get("mode", "match") == "match"
        ]

    def capabilities(self) -> dict[str, Any]:
        """GET ``[base]/metadata``: the server's CapabilityStatement (``ehr-check`` uses it)."""
        return self._get_resource("metadata", "metadata", "CapabilityStatement")

    # --- one request, with retries and one token refresh --------------------------------------

    def _exchange(
        self,
        method: str,
        resource_type: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Exchange:
        attempts = retries = 0
        refreshed = False
        response: httpx.Response | None = None
        while True:
            left = self._time_left()
            if left is not None and left <= 0:
                return Exchange(response, self._out_of_time(), attempts)
            attempts += 1
            response = None
            retry_after: float | None = None
            timeout = (
                self.settings.timeout_seconds
                if left is None
                else min(left, self.settings.timeout_seconds)
            )
            try:
                token = self._token()
                response = self._http.request(
                    method,
                    path,
                    content=content,
                    params=params,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                    timeout=timeout,
                )
            except EhrAuthError as error:
                log.warning(
                    "EHR %s %s: no access token (attempt %d)", method, resource_type, attempts
                )
                if not error.transient:
                    return Exchange(None, str(error), attempts)
                failure = str(error)
            except httpx.RequestError as error:  # network errors and timeouts
                name = type(error).__name__
                log.warning("EHR %s %s: %s (attempt %d)", method, resource_type, name, attempts)
                failure = (
                    f"The EHR did not answer within {self.settings.timeout_seconds:g} s."
                    if isinstance(error, httpx.TimeoutException)
                    else f"Could not reach the EHR at {self.settings.base_url} ({name})."
                )
            else:
                status = response.status_code
                log.info("EHR %s %s: HTTP %d (attempt %d)", method, resource_type, status, attempts)
                if status == 401 and not refreshed and self._refreshable():
                    refreshed = True  # the token may have been revoked early: one fresh try
                    self._invalidate(token)
                    continue
                if not _is_retryable(status):
                    return Exchange(response, "", attempts)
                failure = f"The EHR answered HTTP {status} {response.reason_phrase}."
                retry_after = retry_after_seconds(response)
            if retries >= self.settings.retries:
                return Exchange(response, failure, attempts)
            delay = self._delay(retries, retry_after)
            left = self._time_left()
            if left is not None and delay >= left:
                return Exchange(response, f"{failure} {self._out_of_time()}", attempts)
            self._sleep(delay)
            retries += 1

    def _time_left(self) -> float | None:
        return None if self._deadline is None else self._deadline - self._clock()

    def _out_of_time(self) -> str:
        return f"Stopped trying after {self._budget:g} s (EHR_SEND_BUDGET_SECONDS)."

    def _delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds before retry number ``retry`` (from 0): the server's Retry-After if it sent
        one, else exponential backoff with a little jitter; never more than MAX_DELAY_SECONDS."""
        if retry_after is not None:
            return min(retry_after, MAX_DELAY_SECONDS)
        base = self.settings.backoff_seconds * 2.0**retry
        return min(base * (1 + JITTER_FRACTION * self._jitter()), MAX_DELAY_SECONDS)

    def _provider(self) -> TokenProvider:
        if self._tokens is None:
            self._tokens = token_provider(self.settings, transport=self._transport)
        return self._tokens

    def _token(self) -> str:
        return self._provider().token()

    def _refreshable(self) -> bool:
        return self._provider().refreshable

    def _invalidate(self, token: str) -> None:
        self._provider().invalidate(token)

    def _get_resource(
        self,
        resource_type: str,
        path: str,
        expected: str,
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """GET one resource of type ``expected``, or raise ``EhrError`` saying why not."""
        exchange = self._exchange("GET", resource_type, path, params=params)
        response = exchange.response
        if response is None:
            raise EhrError(f"{exchange.failure} {tries(exchange.attempts)}")
        status = response.status_code
        body = json_body(response)
        if exchange.failure:
            raise EhrError(f"{exchange.failure} {tries(exchange.attempts)}", status=status)
        if status in (404, 410):
            raise EhrNotFoundError(f"The EHR has no {path} (HTTP {status}).", status=status)
        if status != 200:
            what = f"the {resource_type} {'search' if params is not None else 'read'}"
            message = problem(response, body, what, self.settings.auth)
            error = EhrAuthError if status == 401 else EhrError
            raise error(message, status=status)
        if body is None or body.get("resourceType") != expected:
            raise EhrError(
                f"The EHR answered {path} with something other than a FHIR {expected}; check "
                "EHR_FHIR_BASE_URL points at the FHIR endpoint.",
                status=status,
            )
        return body


def _check_type(resource_type: str) -> None:
    """Refuse anything but a FHIR type name: it becomes part of the URL path."""
    if not _RESOURCE_TYPE.fullmatch(resource_type):
        raise ValueError(f"{resource_type!r} is not a FHIR resource type")
