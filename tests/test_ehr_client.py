"""The FHIR client against ``httpx.MockTransport``: outcomes, retries, redirects, tokens, logs."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from intake.ehr.auth import SmartTokenProvider, TokenCache
from intake.ehr.client import FhirClient
from intake.ehr.errors import EhrAuthError, EhrError, EhrNotFoundError
from intake.ehr.keys import generate_key_file, load_private_key, public_jwks
from intake.ehr.settings import EhrSettings, ehr_settings, settings_problems

BASE = "https://ehr.example.org/fhir"
TOKEN_URL = "https://auth.example.org/oauth2/token"
STATIC_TOKEN = "static-secret-token-1234"
MRN = "MRN-99887766"
CONDITION = f"identifier=urn:oid:1.2.3.4|{MRN}-doc&status=current"
DOCUMENT: dict[str, Any] = {
    "resourceType": "DocumentReference",
    "status": "current",
    "identifier": [{"system": "urn:oid:1.2.3.4", "value": f"{MRN}-doc"}],
    "description": "Jane Doe's history",
}

Answer = httpx.Response | type[Exception] | Callable[[httpx.Request], httpx.Response]


def make_settings(**overrides: Any) -> EhrSettings:
    config: dict[str, Any] = {
        "EHR_FHIR_BASE_URL": BASE,
        "EHR_AUTH": "bearer",
        "EHR_BEARER_TOKEN": STATIC_TOKEN,
        "EHR_SCOPE": "system/DocumentReference.write system/Patient.read",
        "EHR_KEY_ALG": "ES384",
        "EHR_KEY_PATH": "/nonexistent/ehr_private_key.pem",
        "EHR_TIMEOUT_SECONDS": 5.0,
        "EHR_RETRIES": 3,
        "EHR_BACKOFF_SECONDS": 1.0,
    }
    config.update(overrides)
    settings = ehr_settings(config)
    assert settings is not None
    return settings


class Server:
    """A scripted EHR: answers requests in order and keeps every request it saw."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        return answer if isinstance(answer, httpx.Response) else answer(request)


def fhir(status: int, body: dict[str, Any] | None = None, /, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json=body,
        headers={"Content-Type": "application/fhir+json", **headers},
    )


def outcome(diagnostics: str, code: str = "invalid") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": code, "diagnostics": diagnostics},
            {"severity": "warning", "code": "business-rule", "details": {"text": "second issue"}},
        ],
    }


CREATED = fhir(
    201,
    {**DOCUMENT, "id": "doc-42"},
    Location=f"{BASE}/DocumentReference/doc-42/_history/1",
)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(sleeps: list[float]) -> Iterator[Callable[..., FhirClient]]:
    """Factory: a FhirClient on a scripted server; every client made is closed afterwards."""
    made: list[FhirClient] = []

    def make(server: Server, settings: EhrSettings | None = None, **kwargs: Any) -> FhirClient:
        kwargs.setdefault("jitter", lambda: 0.0)
        client = FhirClient(
            settings or make_settings(),
            transport=httpx.MockTransport(server),
            sleep=sleeps.append,
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# --- outcomes of a create -------------------------------------------------------------------------


def test_201_is_created_with_the_id_and_the_request_is_what_fhir_expects(
    connect: Callable[..., FhirClient],
) -> None:
    server = Server(CREATED)
    result = connect(server).create("DocumentReference", DOCUMENT, if_none_exist=CONDITION)
    assert (result.outcome, result.status, result.resource_id, result.attempts) == (
        "created", 201, "doc-42", 1,
    )  # fmt: skip
    assert result.ok and result.location == f"{BASE}/DocumentReference/doc-42/_history/1"
    [request] = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/DocumentReference"
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert request.headers["Accept"] == "application/fhir+json"
    assert request.headers["User-Agent"].startswith("intake/")
    assert request.headers["Authorization"] == f"Bearer {STATIC_TOKEN}"
    assert request.headers["If-None-Exist"] == CONDITION  # exactly as given
    assert json.loads(request.content) == DOCUMENT


def test_no_condition_sends_no_if_none_exist(connect: Callable[..., FhirClient]) -> None:
    server = Server(CREATED)
    connect(server).create("DocumentReference", DOCUMENT)
    assert "If-None-Exist" not in server.requests[0].headers


def test_the_id_comes_from_location_when_the_body_is_empty(
    connect: Callable[..., FhirClient],
) -> None:
    minimal = httpx.Response(201, headers={"Location": "DocumentReference/7/_history/2"})
    result = connect(Server(minimal)).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.resource_id) == ("created", "7")


def test_200_to_a_conditional_create_means_the_ehr_already_has_it(
    connect: Callable[..., FhirClient],
) -> None:
    server = Server(fhir(200, {**DOCUMENT, "id": "doc-1"}))
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.resource_id) == ("exists", 200, "doc-1")
    assert result.ok and "already had" in result.message


@pytest.mark.parametrize("status", [400, 412, 422])
def test_a_4xx_is_rejected_with_the_ehrs_reasons_and_never_retried(
    connect: Callable[..., FhirClient], sleeps: list[float], status: int
) -> None:
    server = Server(fhir(status, outcome("DocumentReference.subject: patient unknown")))
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.attempts) == ("rejected", status, 1)
    assert not result.ok
    assert "error invalid: DocumentReference.subject: patient unknown" in result.message
    assert "warning business-rule: second issue" in result.message
    assert len(server.requests) == 1 and sleeps == []


def test_a_long_operation_outcome_is_cut_short(connect: Callable[..., FhirClient]) -> None:
    server = Server(fhir(422, outcome("x" * 5000)))
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert result.outcome == "rejected" and len(result.message) <= 1000


def test_an_unexpected_body_is_a_failure(connect: Callable[..., FhirClient]) -> None:
    html = httpx.Response(201, text="<html>Welcome to the portal</html>")
    result = connect(Server(html)).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status) == ("failed", 201)
    assert "not FHIR JSON" in result.message


# --- retries --------------------------------------------------------------------------------------


def test_503s_are_retried_with_exponential_backoff(
    connect: Callable[..., FhirClient], sleeps: list[float]
) -> None:
    server = Server(fhir(503), fhir(503), CREATED)
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.resource_id, result.attempts) == ("created", "doc-42", 3)
    assert sleeps == [1.0, 2.0]
    # Each retry is the same conditional create: a lost first response cannot make a duplicate.
    assert {r.headers["If-None-Exist"] for r in server.requests} == {CONDITION}
    assert {r.content for r in server.requests} == {server.requests[0].content}


def test_only_so_many_retries_then_failed(
    connect: Callable[..., FhirClient], sleeps: list[float]
) -> None:
    server = Server(*[fhir(503, outcome("database down", "transient"))] * 4)
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.attempts) == ("failed", 503, 4)
    assert sleeps == [1.0, 2.0, 4.0]
    assert "Tried 4 times." in result.message and "database down" in result.message
    assert "safe" in result.message


def test_jitter_stays_small_and_the_delay_is_capped(
    connect: Callable[..., FhirClient], sleeps: list[float]
) -> None:
    settings = make_settings(EHR_RETRIES=6, EHR_BACKOFF_SECONDS=1.0)
    server = Server(*[fhir(500)] * 7)
    connect(server, settings, jitter=lambda: 0.999).create("DocumentReference", DOCUMENT)
    assert sleeps[:3] == pytest.approx([1.0999, 2.1998, 4.3996], abs=1e-3)
    assert sleeps[-1] == 30.0  # 32 s and more are capped


def test_timeouts_are_retried_then_failed(
    connect: Callable[..., FhirClient], sleeps: list[float]
) -> None:
    server = Server(*[httpx.ReadTimeout] * 4)
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.attempts) == ("failed", None, 4)
    assert "did not answer within 5 s" in result.message
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_dropped_connection_then_success(connect: Callable[..., FhirClient]) -> None:
    server = Server(httpx.ConnectError, httpx.ReadTimeout, fhir(200, {**DOCUMENT, "id": "a"}))
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.resource_id, result.attempts) == ("exists", "a", 3)


@pytest.mark.parametrize(("retry_after", "expected"), [("7", 7.0), ("120", 30.0)])
def test_429_honours_retry_after_within_the_cap(
    connect: Callable[..., FhirClient], sleeps: list[float], retry_after: str, expected: float
) -> None:
    server = Server(fhir(429, **{"Retry-After": retry_after}), CREATED)
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.attempts) == ("created", 2)
    assert sleeps == [expected]


def test_408_is_retried(connect: Callable[..., FhirClient], sleeps: list[float]) -> None:
    result = connect(Server(fhir(408), CREATED)).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.attempts, sleeps) == ("created", 2, [1.0])


# --- redirects are never followed -----------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failure_and_is_not_followed(
    connect: Callable[..., FhirClient], sleeps: list[float], status: int
) -> None:
    elsewhere = "https://elsewhere.example.net/collect/DocumentReference"
    server = Server(httpx.Response(status, headers={"Location": elsewhere}), CREATED)
    result = connect(server).create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.attempts) == ("failed", status, 1)
    assert "tried to redirect" in result.message and "not followed" in result.message
    assert "https://elsewhere.example.net" in result.message
    assert len(server.requests) == 1 and sleeps == []
    assert {r.url.host for r in server.requests} == {"ehr.example.org"}


# --- tokens ---------------------------------------------------------------------------------------


class TokenEndpoint:
    """A scripted SMART token endpoint: hands out token-1, token-2, ... and keeps the forms."""

    def __init__(self, expires_in: int = 300) -> None:
        self.forms: list[dict[str, list[str]]] = []
        self.expires_in = expires_in

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.forms.append(parse_qs(request.content.decode()))
        token = f"token-{len(self.forms)}"
        body = {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        return httpx.Response(200, json=body)


@pytest.fixture
def smart_settings(tmp_path: Path) -> EhrSettings:
    key_path = tmp_path / "ehr_private_key.pem"
    generate_key_file(key_path, "ES384")
    return make_settings(
        EHR_AUTH="smart",
        EHR_BEARER_TOKEN=None,
        EHR_TOKEN_URL=TOKEN_URL,
        EHR_CLIENT_ID="intake-client",
        EHR_KEY_PATH=str(key_path),
    )


def routed(tokens: Callable[[httpx.Request], httpx.Response], ehr: Server) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return tokens(request) if str(request.url) == TOKEN_URL else ehr(request)

    return httpx.MockTransport(handle)


def smart_client(
    settings: EhrSettings,
    transport: httpx.MockTransport,
    sleeps: list[float],
    cache: TokenCache | None = None,
) -> FhirClient:
    provider = SmartTokenProvider(settings, transport=transport, cache=cache or TokenCache())
    return FhirClient(
        settings,
        transport=transport,
        sleep=sleeps.append,
        token_provider=provider,
        jitter=lambda: 0.0,
    )


def test_smart_token_request_and_401_refresh(
    smart_settings: EhrSettings, sleeps: list[float]
) -> None:
    tokens = TokenEndpoint()
    ehr = Server(fhir(401, outcome("token revoked", "login")), CREATED)
    with smart_client(smart_settings, routed(tokens, ehr), sleeps) as client:
        result = client.create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.resource_id, result.attempts) == ("created", "doc-42", 2)
    assert [r.headers["Authorization"] for r in ehr.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert sleeps == []  # a refresh is not a backoff
    form = tokens.forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["system/DocumentReference.write system/Patient.read"]
    assert form["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    jwks = public_jwks(load_private_key(smart_settings.key_path), "ES384")
    [assertion] = form["client_assertion"]
    public = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(assertion)["kid"]]
    claims = jwt.decode(assertion, public, algorithms=["ES384"], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "intake-client"


def test_a_token_refused_twice_fails_without_looping(
    smart_settings: EhrSettings, sleeps: list[float]
) -> None:
    tokens = TokenEndpoint()
    ehr = Server(fhir(401), fhir(401), CREATED)
    with smart_client(smart_settings, routed(tokens, ehr), sleeps) as client:
        result = client.create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.status, result.attempts) == ("failed", 401, 2)
    assert "even after a fresh one" in result.message
    assert len(tokens.forms) == 2 and len(ehr.requests) == 2


def test_a_static_token_refused_is_a_failure(connect: Callable[..., FhirClient]) -> None:
    result = connect(Server(fhir(401), CREATED)).create("DocumentReference", DOCUMENT)
    assert (result.outcome, result.attempts) == ("failed", 1)
    assert "EHR_BEARER_TOKEN" in result.message


def test_tokens_are_cached_until_30_seconds_before_expiry(
    smart_settings: EhrSettings, sleeps: list[float]
) -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0])
    tokens = TokenEndpoint(expires_in=300)
    ehr = Server(CREATED, CREATED, CREATED)
    with smart_client(smart_settings, routed(tokens, ehr), sleeps, cache) as client:
        client.create("DocumentReference", DOCUMENT, CONDITION)
        now[0] += 269
        client.create("DocumentReference", DOCUMENT, CONDITION)
        assert len(tokens.forms) == 1
        now[0] += 1  # 270 s: within 30 s of expiry
        client.create("DocumentReference", DOCUMENT, CONDITION)
    assert len(tokens.forms) == 2
    assert ehr.requests[-1].headers["Authorization"] == "Bearer token-2"


def test_a_token_endpoint_refusal_says_why_and_never_shows_the_assertion(
    smart_settings: EhrSettings, sleeps: list[float]
) -> None:
    forms: list[bytes] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        forms.append(request.content)
        error = {"error": "invalid_client", "error_description": "unknown key id"}
        return httpx.Response(401, json=error)

    ehr = Server(CREATED)
    with smart_client(smart_settings, routed(refuse, ehr), sleeps) as client:
        result = client.create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.attempts) == ("failed", 1)  # a settings problem: no retry
    assert "invalid_client: unknown key id" in result.message
    assert "ehr-jwks" in result.message
    assert ehr.requests == []
    [assertion] = parse_qs(forms[0].decode())["client_assertion"]
    assert assertion not in result.message


def test_a_token_endpoint_outage_is_retried(
    smart_settings: EhrSettings, sleeps: list[float]
) -> None:
    answers = [httpx.Response(503), httpx.Response(200, json={"access_token": "t"})]
    ehr = Server(CREATED)
    with smart_client(smart_settings, routed(lambda _: answers.pop(0), ehr), sleeps) as client:
        result = client.create("DocumentReference", DOCUMENT, CONDITION)
    assert (result.outcome, result.attempts, sleeps) == ("created", 2, [1.0])


def test_a_missing_key_is_an_auth_error_naming_the_fix(smart_settings: EhrSettings) -> None:
    smart_settings.key_path.unlink()
    transport = routed(TokenEndpoint(), Server())
    provider = SmartTokenProvider(smart_settings, transport=transport, cache=TokenCache())
    with pytest.raises(EhrAuthError, match="ehr-keygen"):
        provider.token()


def test_concurrent_uploads_share_one_token_request(smart_settings: EhrSettings) -> None:
    tokens = TokenEndpoint()
    started = threading.Barrier(8)

    def slow_tokens(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)  # long enough for every thread to arrive while the first one asks
        return tokens(request)

    provider = SmartTokenProvider(
        smart_settings, transport=routed(slow_tokens, Server()), cache=TokenCache()
    )

    def get_token() -> str:
        started.wait()
        return provider.token()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: get_token(), range(8)))
    assert results == ["token-1"] * 8
    assert len(tokens.forms) == 1


def test_no_token_or_patient_data_reaches_the_log(
    smart_settings: EhrSettings, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = TokenEndpoint()
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    ehr = Server(fhir(401), fhir(503), CREATED, fhir(200, bundle))
    with smart_client(smart_settings, routed(tokens, ehr), sleeps) as client:
        assert client.create("DocumentReference", DOCUMENT, CONDITION).outcome == "created"
        assert client.search("Patient", {"identifier": f"urn:oid:1.2.3.4|{MRN}"}) == []
    assert MRN in str(ehr.requests[-1].url)  # the search did carry it
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "EHR POST DocumentReference: HTTP 201 (attempt 3)" in logged
    assert "/fhir/Patient?[redacted]" in logged  # httpx's own request line, query hidden
    for secret in (
        "Authorization",
        "Bearer",
        "token-1",
        "token-2",
        "client_assertion",
        MRN,
        "Jane",
    ):
        assert secret not in logged


# --- read and search ------------------------------------------------------------------------------


def test_read_returns_the_resource(connect: Callable[..., FhirClient]) -> None:
    server = Server(fhir(200, {"resourceType": "Patient", "id": "p1"}))
    assert connect(server).read("Patient", "p1") == {"resourceType": "Patient", "id": "p1"}
    assert str(server.requests[0].url) == f"{BASE}/Patient/p1"


def test_read_of_a_missing_resource_raises_not_found(connect: Callable[..., FhirClient]) -> None:
    with pytest.raises(EhrNotFoundError) as caught:
        connect(Server(fhir(404, outcome("gone", "not-found")))).read("Patient", "p1")
    assert caught.value.status == 404


def test_read_failures_raise_with_the_reason(connect: Callable[..., FhirClient]) -> None:
    with pytest.raises(EhrError, match="forbidden: scope"):
        connect(Server(fhir(403, outcome("scope", "forbidden")))).read("Patient", "p1")
    with pytest.raises(EhrError, match="Tried 4 times"):
        connect(Server(*[fhir(502)] * 4)).read("Patient", "p1")
    with pytest.raises(EhrError, match="not followed"):
        connect(Server(httpx.Response(302, headers={"Location": "/x"}))).read("Patient", "p1")
    with pytest.raises(EhrError, match="other than a FHIR Patient"):
        connect(Server(fhir(200, {"resourceType": "Bundle"}))).read("Patient", "p1")


@pytest.mark.parametrize("bad", ["../metadata", "..", "a/b", "", "x" * 65])
def test_read_refuses_ids_that_would_change_the_path(
    connect: Callable[..., FhirClient], bad: str
) -> None:
    server = Server()
    with pytest.raises(ValueError, match="not a FHIR resource id"):
        connect(server).read("Patient", bad)
    with pytest.raises(ValueError, match="not a FHIR resource type"):
        connect(server).search("../Patient", {})
    assert server.requests == []


def test_search_returns_the_matches_of_the_first_page(connect: Callable[..., FhirClient]) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "match"}},
            {
                "resource": {"resourceType": "Organization", "id": "o"},
                "search": {"mode": "include"},
            },
            {"resource": {"resourceType": "Patient", "id": "p2"}},
        ],
        "link": [{"relation": "next", "url": f"{BASE}/Patient?page=2"}],
    }
    server = Server(fhir(200, bundle))
    found = connect(server).search("Patient", {"identifier": f"urn:oid:1.2.3.4|{MRN}"})
    assert [p["id"] for p in found] == ["p1", "p2"]
    [request] = server.requests
    assert request.url.path == "/fhir/Patient"
    assert request.url.params["identifier"] == f"urn:oid:1.2.3.4|{MRN}"


def test_the_client_refuses_plain_http_off_this_machine(smart_settings: EhrSettings) -> None:
    with pytest.raises(EhrError, match="use https"):
        FhirClient(make_settings(EHR_FHIR_BASE_URL="http://ehr.example.org/fhir"))
    insecure = make_settings(
        EHR_AUTH="smart",
        EHR_TOKEN_URL="http://auth.example.org/token",
        EHR_CLIENT_ID="c",
        EHR_KEY_PATH=str(smart_settings.key_path),
    )
    with pytest.raises(EhrAuthError, match="use https"):
        SmartTokenProvider(insecure)


# --- settings -------------------------------------------------------------------------------------


def test_no_base_url_means_the_feature_is_off() -> None:
    assert ehr_settings({"EHR_FHIR_BASE_URL": None, "EHR_KEY_PATH": "k"}) is None


def test_the_bearer_token_stays_out_of_repr() -> None:
    assert STATIC_TOKEN not in repr(make_settings())


def test_usable_settings_have_no_problems(smart_settings: EhrSettings) -> None:
    assert settings_problems(smart_settings) == []
    assert settings_problems(make_settings()) == []
    assert settings_problems(make_settings(EHR_FHIR_BASE_URL="http://127.0.0.1:8103/fhir")) == []
    assert settings_problems(make_settings(EHR_FHIR_BASE_URL="http://localhost/fhir")) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"EHR_FHIR_BASE_URL": "http://ehr.example.org/fhir"}, "use https"),
        ({"EHR_FHIR_BASE_URL": "ftp://ehr.example.org/fhir"}, "must be an http(s) URL"),
        ({"EHR_FHIR_BASE_URL": "https://ehr.example.org/fhir?x=1"}, "must not contain a query"),
        ({"EHR_BEARER_TOKEN": None}, "EHR_BEARER_TOKEN is not set"),
        ({"EHR_AUTH": "smart", "EHR_TOKEN_URL": None}, "EHR_TOKEN_URL is not set"),
        ({"EHR_AUTH": "smart", "EHR_CLIENT_ID": None}, "EHR_CLIENT_ID is not set"),
        ({"EHR_AUTH": "smart"}, "ehr-keygen"),
        ({"EHR_AUTH": "smart", "EHR_TOKEN_URL": "http://auth.example.org/t"}, "use https"),
        ({"EHR_RETRIES": -1}, "EHR_RETRIES"),
        ({"EHR_TIMEOUT_SECONDS": 0}, "EHR_TIMEOUT_SECONDS"),
    ],
)
def test_settings_problems_say_what_to_fix(overrides: dict[str, Any], expected: str) -> None:
    problems = settings_problems(make_settings(**overrides))
    assert any(expected in problem for problem in problems), problems
