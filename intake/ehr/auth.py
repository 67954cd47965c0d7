"""Access tokens for the EHR: SMART Backend Services, or a static bearer token.

SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): the service
signs a short-lived JWT with its private key and trades it at the token endpoint for an access
token. Tokens are cached per (token URL, client id, scope) until 30 s before they expire, so a
burst of uploads costs one token request. Neither the assertion nor a token is ever logged or put
in an error message.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt

from intake.ehr.errors import EhrAuthError
from intake.ehr.keys import KeyFileError, PrivateKey, key_id, load_private_key
from intake.ehr.keyspec import KeyAlg
from intake.ehr.responses import json_body, user_agent
from intake.ehr.settings import EhrSettings, url_problems

__all__ = [
    "ASSERTION_TYPE",
    "EhrAuthError",
    "SmartTokenProvider",
    "StaticTokenProvider",
    "TokenCache",
    "TokenProvider",
    "client_assertion",
    "drop_cached_token",
    "token_provider",
]

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The SMART specification allows an assertion to live five minutes at most.
ASSERTION_LIFETIME_SECONDS = 300
#: A token this close to its expiry is not used: the upload it is for may take that long.
EXPIRY_MARGIN_SECONDS = 30
#: Used when the token endpoint omits expires_in (SMART requires it; be cautious if absent).
DEFAULT_EXPIRES_IN = 300

#: What to check for the token endpoint's standard error codes (RFC 6749 section 5.2).
_ERROR_HINTS = {
    "invalid_client": "check EHR_CLIENT_ID, and that the EHR has this service's current public "
    "key (`flask --app wsgi intake ehr-jwks` prints it) and the same EHR_KEY_ALG",
    "unauthorized_client": "ask the EHR administrators to allow client credentials for this client",
    "invalid_scope": "check EHR_SCOPE against the scopes the EHR granted this client",
    "invalid_grant": "check that this server's clock is correct (the assertion is time-limited)",
}


class TokenProvider(Protocol):
    """Where the FHIR client gets the Authorization value, and reports one the EHR refused."""

    @property
    def refreshable(self) -> bool:
        """True if a refused token can be replaced by asking again."""
        ...

    def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class StaticTokenProvider:
    """EHR_AUTH=bearer: the configured token, for EHRs that issue one by hand."""

    refreshable = False

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        """Nothing to drop: a refused static token needs a new EHR_BEARER_TOKEN."""


CacheKey = tuple[str, str, str]


@dataclass(frozen=True)
class _Cached:
    token: str
    usable_until: float  # time.monotonic()


class TokenCache:
    """Access tokens by (token URL, client id, scope), shared by every client in the process.

    One lock per key makes concurrent uploads wait for a single token request instead of each
    sending their own.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._key_locks: dict[CacheKey, threading.Lock] = {}
        self._entries: dict[CacheKey, _Cached] = {}

    def lock_for(self, key: CacheKey) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def get(self, key: CacheKey) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry.token if entry and self.clock() < entry.usable_until else None

    def put(self, key: CacheKey, token: str, expires_in: float) -> None:
        usable_until = self.clock() + expires_in - EXPIRY_MARGIN_SECONDS
        with self._lock:
            self._entries[key] = _Cached(token, usable_until)

    def drop(self, key: CacheKey, token: str | None = None) -> None:
        """Forget the token for ``key``; with ``token``, only if it is still that one (a newer
        token another thread just fetched stays)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry and (token is None or secrets.compare_digest(entry.token, token)):
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE = TokenCache()


def client_assertion(
    *,
    client_id: str,
    token_url: str,
    private_key: PrivateKey,
    alg: KeyAlg,
    now: float | None = None,
) -> str:
    """The signed JWT that proves to the token endpoint that this is the registered client."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_SECONDS,
        "jti": secrets.token_urlsafe(32),  # 256 random bits: the server refuses a replay
    }
    headers = {"kid": key_id(private_key, alg), "typ": "JWT"}
    return jwt.encode(claims, private_key, algorithm=alg, headers=headers)


class SmartTokenProvider:
    """EHR_AUTH=smart: access tokens from the token endpoint, cached until shortly before expiry."""

    refreshable = True

    def __init__(
        self,
        settings: EhrSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        cache: TokenCache | None = None,
    ) -> None:
        if not (settings.token_url and settings.client_id):
            raise EhrAuthError(
                "EHR_AUTH is smart but EHR_TOKEN_URL or EHR_CLIENT_ID is not set: "
                "run `flask --app wsgi intake ehr-check`."
            )
        if problems := url_problems("EHR_TOKEN_URL", settings.token_url):
            raise EhrAuthError(problems[0])  # the assertion must not travel in clear
        self.settings = settings
        self.token_url: str = settings.token_url
        self.client_id: str = settings.client_id
        self._transport = transport
        self._cache = cache or _CACHE
        self._key: CacheKey = (self.token_url, self.client_id, settings.scope)

    def token(self) -> str:
        """A current access token: the cached one, or a new one from the token endpoint."""
        token = self._cache.get(self._key)
        if token is not None:
            return token
        with self._cache.lock_for(self._key):
            token = self._cache.get(self._key)  # another thread may have fetched it meanwhile
            if token is None:
                token, expires_in = self._fetch()
                self._cache.put(self._key, token, expires_in)
            return token

    def invalidate(self, token: str) -> None:
        """The EHR refused ``token``: the next call to ``token()`` asks for a new one."""
        self._cache.drop(self._key, token)

    def _fetch(self) -> tuple[str, float]:
        try:
            key = load_private_key(self.settings.key_path, self.settings.key_alg)
        except KeyFileError as error:
            raise EhrAuthError(str(error)) from None
        form = {
            "grant_type": "client_credentials",
            "scope": self.settings.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(
                client_id=self.client_id,
                token_url=self.token_url,
                private_key=key,
                alg=self.settings.key_alg,
            ),
        }
        http = httpx.Client(
            transport=self._transport,
            timeout=httpx.Timeout(self.settings.timeout_seconds),
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": user_agent()},
        )
        try:
            response = http.post(self.token_url, data=form)
        except httpx.TimeoutException:
            raise EhrAuthError(
                f"The EHR token endpoint {self.token_url} did not answer within "
                f"{self.settings.timeout_seconds:g} s; try again later.",
                transient=True,
            ) from None
        except httpx.RequestError as error:
            raise EhrAuthError(
                f"Could not reach the EHR token endpoint {self.token_url} "
                f"({type(error).__name__}); check EHR_TOKEN_URL and the network.",
                transient=True,
            ) from None
        finally:
            if self._transport is None:  # closing the client closes its transport: not ours
                http.close()
        log.info("EHR token request: HTTP %d", response.status_code)
        return _parse_token_response(response, self.token_url)


def _parse_token_response(response: httpx.Response, token_url: str) -> tuple[str, float]:
    status = response.status_code
    if 300 <= status < 400:
        raise EhrAuthError(
            f"The EHR token endpoint {token_url} tried to redirect (HTTP {status}); redirects are "
            "not followed: set EHR_TOKEN_URL to the token endpoint's final address.",
            status=status,
        )
    body = json_body(response) or {}
    if status != 200:
        raise EhrAuthError(
            _refusal_message(status, body, token_url),
            status=status,
            transient=status >= 500 or status in (408, 429),
        )
    token = body.get("access_token")
    token_type = str(body.get("token_type", "bearer"))
    if not isinstance(token, str) or not token:
        raise EhrAuthError(
            f"The EHR token endpoint {token_url} answered HTTP 200 without an access token.",
            status=status,
        )
    if token_type.lower() != "bearer":
        raise EhrAuthError(
            f"The EHR token endpoint issued a {token_type!r} token; this service uses bearer "
            "tokens only.",
            status=status,
        )
    expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN)
    if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
        expires_in = DEFAULT_EXPIRES_IN
    return token, float(expires_in)


def _refusal_message(status: int, body: dict[str, Any], token_url: str) -> str:
    """The token endpoint's own reason (RFC 6749 error and error_description) and what to check."""
    if status >= 500 or status in (408, 429):
        return (
            f"The EHR token endpoint {token_url} is unavailable (HTTP {status}); try again later."
        )
    error = str(body.get("error") or "")[:100]
    description = str(body.get("error_description") or "")[:300]
    reason = ": ".join(part for part in (error, description) if part) or "no reason given"
    message = f"The EHR token endpoint refused this service (HTTP {status}, {reason})."
    hint = _ERROR_HINTS.get(error)
    return f"{message} To fix: {hint}." if hint else message


def token_provider(
    settings: EhrSettings, *, transport: httpx.BaseTransport | None = None
) -> TokenProvider:
    """The token source EHR_AUTH asks for."""
    if settings.auth == "bearer":
        if not settings.bearer_token:
            raise EhrAuthError("EHR_AUTH is bearer but EHR_BEARER_TOKEN is not set.")
        return StaticTokenProvider(settings.bearer_token)
    return SmartTokenProvider(settings, transport=transport)


def drop_cached_token(settings: EhrSettings) -> None:
    """Forget the cached token for these settings (after rotating the key or the scope)."""
    if settings.token_url and settings.client_id:
        _CACHE.drop((settings.token_url, settings.client_id, settings.scope))
