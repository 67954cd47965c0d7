"""The loopback FHIR server (tests/fhir_server) does what the EHR hand-off tests rely on.

Everything here goes through real HTTP to the Node harness (Medplum's fhir-router).
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests import loopback_fhir
from tests.loopback_fhir import FHIR_JSON, LoopbackFhirServer

MRN_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1"
DOC_SYSTEM = "urn:ietf:rfc:3986"
LOINC = "http://loinc.org"
SUMMARY_CODE = "51855-5"
CLIENT_ID = "intake-backend"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "system/DocumentReference.c system/Patient.rs"


def document(patient_id: str, doc_id: str, data: bytes = b"%PDF-1.7\n%%EOF\n") -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "identifier": [{"system": DOC_SYSTEM, "value": doc_id}],
        "type": {"coding": [{"system": LOINC, "code": SUMMARY_CODE}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(data).decode("ascii"),
                }
            }
        ],
    }


def new_doc_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# --- FHIR REST ------------------------------------------------------------------------------------
def test_create_then_read_back_is_byte_identical(fhir: LoopbackFhirServer) -> None:
    pdf = b"%PDF-1.7\n" + secrets.token_bytes(200_000) + b"\n%%EOF\n"
    response = fhir.post("DocumentReference", document("p1", new_doc_id(), pdf))

    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    created = response.json()
    assert created["resourceType"] == "DocumentReference" and created["id"]
    assert response.headers["location"].startswith(
        f"{fhir.base_url}/DocumentReference/{created['id']}/_history/"
    )

    read = fhir.get(f"DocumentReference/{created['id']}")
    assert read.status_code == 200
    assert read.headers["content-type"].startswith(FHIR_JSON)
    data = read.json()["content"][0]["attachment"]["data"]
    assert data == base64.b64encode(pdf).decode("ascii")
    assert base64.b64decode(data) == pdf


def test_accepts_a_20_mb_body(fhir: LoopbackFhirServer) -> None:
    pdf = secrets.token_bytes(15 * 1024 * 1024)  # 20 MiB once in base64
    response = fhir.post("DocumentReference", document("p1", new_doc_id(), pdf))

    assert response.status_code == 201, response.text[:500]
    stored = fhir.stored("DocumentReference")
    assert base64.b64decode(stored[0]["content"][0]["attachment"]["data"]) == pdf


def test_ignores_a_client_supplied_id_on_create(fhir: LoopbackFhirServer) -> None:
    body = {**document("p1", new_doc_id()), "id": "chosen-by-client"}
    response = fhir.post("DocumentReference", body)

    assert response.status_code == 201
    assert response.json()["id"] != "chosen-by-client"


def test_conditional_create_twice_makes_one_resource(fhir: LoopbackFhirServer) -> None:
    doc_id = new_doc_id()
    condition = {"If-None-Exist": f"identifier={DOC_SYSTEM}|{doc_id}"}

    first = fhir.post("DocumentReference", document("p1", doc_id), headers=condition)
    second = fhir.post("DocumentReference", document("p1", doc_id), headers=condition)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert [r["id"] for r in fhir.stored("DocumentReference")] == [first.json()["id"]]
    log = fhir.requests()
    assert [(r["method"], r["status"], r["if_none_exist"]) for r in log] == [
        ("POST", 201, condition["If-None-Exist"]),
        ("POST", 200, condition["If-None-Exist"]),
    ]


def test_conditional_create_with_several_matches_is_412(fhir: LoopbackFhirServer) -> None:
    doc_id = new_doc_id()
    for _ in range(2):
        assert fhir.post("DocumentReference", document("p1", doc_id)).status_code == 201

    response = fhir.post(
        "DocumentReference",
        document("p1", doc_id),
        headers={"If-None-Exist": f"identifier={DOC_SYSTEM}|{doc_id}"},
    )

    assert response.status_code == 412
    assert response.json()["resourceType"] == "OperationOutcome"
    assert len(fhir.stored("DocumentReference")) == 2


def test_search_by_patient_type_subject_and_identifier(fhir: LoopbackFhirServer) -> None:
    patient = fhir.create_patient(MRN_SYSTEM, "MRN-1", "Doe", "Jane", "1980-03-27")
    other = fhir.create_patient(MRN_SYSTEM, "MRN-2", "Roe", "Rick", "1975-01-02")
    mine, theirs = new_doc_id(), new_doc_id()
    assert fhir.post("DocumentReference", document(patient, mine)).status_code == 201
    assert fhir.post("DocumentReference", document(other, theirs)).status_code == 201
    note = document(patient, new_doc_id())
    note["type"] = {"coding": [{"system": LOINC, "code": "11506-3"}]}
    assert fhir.post("DocumentReference", note).status_code == 201

    def ids(resources: list[dict[str, Any]]) -> set[str]:
        return {r["identifier"][0]["value"] for r in resources}

    by_patient_and_type = fhir.search(
        "DocumentReference", {"patient": f"Patient/{patient}", "type": f"{LOINC}|{SUMMARY_CODE}"}
    )
    assert ids(by_patient_and_type) == {mine}
    assert len(fhir.search("DocumentReference", {"subject": f"Patient/{patient}"})) == 2
    assert ids(fhir.search("DocumentReference", {"identifier": f"{DOC_SYSTEM}|{theirs}"})) == {
        theirs
    }
    assert fhir.search("DocumentReference", {"identifier": f"{DOC_SYSTEM}|urn:uuid:none"}) == []

    found = fhir.search("Patient", {"identifier": f"{MRN_SYSTEM}|MRN-1"})
    assert [p["id"] for p in found] == [patient]
    assert found[0]["name"][0]["family"] == "Doe"

    bundle = fhir.get("DocumentReference", params={"subject": f"Patient/{other}"}).json()
    assert bundle["total"] == 1
    assert bundle["entry"][0]["fullUrl"] == f"{fhir.base_url}/DocumentReference/" + str(
        bundle["entry"][0]["resource"]["id"]
    )


def test_search_pages_with_count_and_next_links(fhir: LoopbackFhirServer) -> None:
    for _ in range(3):
        assert fhir.post("DocumentReference", document("p1", new_doc_id())).status_code == 201

    seen: list[str] = []
    url: str | None = "DocumentReference?subject=Patient/p1&_count=2"
    while url is not None:
        bundle = fhir.get(url).json()
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        url = next((lk["url"] for lk in bundle["link"] if lk["relation"] == "next"), None)

    assert len(seen) == 3 == len(set(seen))


def test_post_patient_and_find_it(fhir: LoopbackFhirServer) -> None:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": MRN_SYSTEM, "value": "MRN-9"}],
        "name": [{"family": "Poe", "given": ["Ann"]}],
        "birthDate": "1990-12-31",
    }
    created = fhir.post("Patient", patient)

    assert created.status_code == 201
    found = fhir.search("Patient", {"identifier": f"{MRN_SYSTEM}|MRN-9"})
    assert [p["id"] for p in found] == [created.json()["id"]]


def test_unknown_search_parameter_is_refused(fhir: LoopbackFhirServer) -> None:
    response = fhir.get("DocumentReference", params={"patinet": "Patient/1"})

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def _bogus_status(doc: dict[str, Any]) -> None:
    doc["status"] = "bogus"


def _no_content(doc: dict[str, Any]) -> None:
    del doc["content"]


def _unknown_property(doc: dict[str, Any]) -> None:
    doc["colour"] = "blue"


def _bad_base64(doc: dict[str, Any]) -> None:
    doc["content"][0]["attachment"]["data"] = "not base64!"


def _wrong_shape(doc: dict[str, Any]) -> None:
    doc["subject"] = "Patient/1"


@pytest.mark.parametrize(
    "spoil",
    [_bogus_status, _no_content, _unknown_property, _bad_base64, _wrong_shape],
    ids=lambda f: f.__name__.strip("_"),
)
def test_invalid_resource_is_400_with_operation_outcome(
    fhir: LoopbackFhirServer, spoil: Callable[[dict[str, Any]], None]
) -> None:
    doc = document("p1", new_doc_id())
    spoil(doc)

    response = fhir.post("DocumentReference", doc)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert fhir.stored("DocumentReference") == []


def test_invalid_patient_gender_is_400(fhir: LoopbackFhirServer) -> None:
    response = fhir.post("Patient", {"resourceType": "Patient", "gender": "robot"})

    assert response.status_code == 400
    assert "gender" in response.json()["issue"][0]["expression"][0]


def test_wrong_content_type_or_resource_type_is_refused(fhir: LoopbackFhirServer) -> None:
    as_text = fhir.client.post(
        f"{fhir.base_url}/DocumentReference",
        content=b"{}",
        headers={"Authorization": f"Bearer {fhir.admin_token}", "Content-Type": "text/plain"},
    )
    mismatch = fhir.post("DocumentReference", {"resourceType": "Patient"})

    assert as_text.status_code == 415
    assert mismatch.status_code == 400
    assert fhir.stored("DocumentReference") == [] and fhir.stored("Patient") == []


# --- bearer auth ----------------------------------------------------------------------------------
def test_no_or_unknown_token_is_401(fhir: LoopbackFhirServer) -> None:
    url = f"{fhir.base_url}/DocumentReference"
    no_token = fhir.client.get(url)
    unknown = fhir.client.get(url, headers={"Authorization": "Bearer not-a-token"})
    basic = fhir.client.get(url, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    create = fhir.client.post(
        url,
        json=document("p1", new_doc_id()),
        headers={"Content-Type": FHIR_JSON},
    )

    for response in (no_token, unknown, basic, create):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["resourceType"] == "OperationOutcome"
    assert fhir.stored("DocumentReference") == []
    schemes = [r["authorization_scheme"] for r in fhir.requests()]
    assert schemes == [None, "Bearer", "Basic", None]


def test_static_bearer_token_and_reset(fhir: LoopbackFhirServer) -> None:
    token = "static-" + secrets.token_urlsafe(16)
    assert fhir.get("DocumentReference", token=token).status_code == 401

    fhir.add_bearer(token)
    assert fhir.get("DocumentReference", token=token).status_code == 200
    fhir.reset()
    assert fhir.get("DocumentReference", token=token).status_code == 200
    fhir.reset(all=True)
    assert fhir.get("DocumentReference", token=token).status_code == 401
    assert fhir.get("DocumentReference").status_code == 200  # the helper's own token is back


def test_request_log_never_holds_the_token(fhir: LoopbackFhirServer) -> None:
    token = "secret-" + secrets.token_urlsafe(16)
    fhir.add_bearer(token)
    fhir.get("DocumentReference", token=token, params={"subject": "Patient/1"})

    log = fhir.requests()
    assert log == [
        {
            "method": "GET",
            "path": "/fhir/R4/DocumentReference",
            "query": "subject=Patient%2F1",
            "status": 200,
            "if_none_exist": None,
            "authorization_scheme": "Bearer",
        }
    ]
    assert token not in repr(log)


def test_metadata_is_public(fhir: LoopbackFhirServer) -> None:
    response = fhir.client.get(f"{fhir.base_url}/metadata")
    smart = fhir.client.get(f"{fhir.base_url}/.well-known/smart-configuration")

    assert response.status_code == 200
    assert response.json()["fhirVersion"] == "4.0.1"
    assert smart.json()["token_endpoint"] == fhir.token_url


# --- SMART Backend Services -----------------------------------------------------------------------
class Signer:
    """A client key pair: its public JWKS and JWT client assertions signed with it."""

    def __init__(self, alg: str, kid: str | None = None) -> None:
        self.alg = alg
        self.kid = kid or f"{alg.lower()}-{secrets.token_hex(4)}"
        if alg == "ES384":
            self.key: Any = ec.generate_private_key(ec.SECP384R1())
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": self.kid, "alg": alg, "use": "sig"}]}

    def assertion(self, aud: str, **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": aud,
            "exp": now + 300,
            "jti": secrets.token_hex(16),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm=self.alg, headers={"kid": self.kid})


@pytest.fixture(scope="module")
def signers() -> dict[str, Signer]:
    return {"ES384": Signer("ES384"), "RS384": Signer("RS384")}


def request_token(
    fhir: LoopbackFhirServer, assertion: str, **overrides: str | None
) -> httpx.Response:
    form: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": SCOPE,
    }
    form.update(overrides)
    return fhir.client.post(fhir.token_url, data={k: v for k, v in form.items() if v is not None})


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_backend_services_token_works_on_fhir(
    fhir: LoopbackFhirServer, signers: dict[str, Signer], alg: str
) -> None:
    signer = signers[alg]
    fhir.register_client(CLIENT_ID, signer.jwks)

    response = request_token(fhir, signer.assertion(fhir.token_url))

    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 300
    assert token["scope"] == SCOPE
    assert response.headers["cache-control"] == "no-store"
    created = fhir.post(
        "DocumentReference", document("p1", new_doc_id()), token=token["access_token"]
    )
    assert created.status_code == 201

    fhir.expire_tokens()
    assert fhir.get("DocumentReference", token=token["access_token"]).status_code == 401
    assert [r["path"] for r in fhir.requests()][:2] == ["/auth/token", "/fhir/R4/DocumentReference"]


def test_access_tokens_do_not_survive_reset(
    fhir: LoopbackFhirServer, signers: dict[str, Signer]
) -> None:
    fhir.register_client(CLIENT_ID, signers["ES384"].jwks)
    token = request_token(fhir, signers["ES384"].assertion(fhir.token_url)).json()["access_token"]
    assert fhir.get("DocumentReference", token=token).status_code == 200

    fhir.reset()

    assert fhir.get("DocumentReference", token=token).status_code == 401
    # the client registration stays: a new assertion gets a new token
    assert request_token(fhir, signers["ES384"].assertion(fhir.token_url)).status_code == 200


def test_replayed_jti_is_refused(fhir: LoopbackFhirServer, signers: dict[str, Signer]) -> None:
    fhir.register_client(CLIENT_ID, signers["RS384"].jwks)
    assertion = signers["RS384"].assertion(fhir.token_url)

    assert request_token(fhir, assertion).status_code == 200
    replay = request_token(fhir, assertion)

    assert replay.status_code in (400, 401)
    assert replay.json()["error"] == "invalid_client"
    assert "access_token" not in replay.json()


def _hs256(fhir: LoopbackFhirServer, signer: Signer) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": fhir.token_url,
        "exp": now + 60,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, "s" * 48, algorithm="HS256", headers={"kid": signer.kid})


REFUSALS: dict[str, Callable[[LoopbackFhirServer, Signer, Signer], str]] = {
    "wrong_key": lambda f, s, other: Signer(s.alg, kid=s.kid).assertion(f.token_url),
    "other_clients_kid": lambda f, s, other: other.assertion(f.token_url),
    "wrong_aud": lambda f, s, other: s.assertion(f.base_url),
    "expired": lambda f, s, other: s.assertion(f.token_url, exp=int(time.time()) - 5),
    "exp_too_far": lambda f, s, other: s.assertion(f.token_url, exp=int(time.time()) + 3600),
    "no_exp": lambda f, s, other: s.assertion(f.token_url, exp=None),
    "no_jti": lambda f, s, other: s.assertion(f.token_url, jti=None),
    "iss_not_sub": lambda f, s, other: s.assertion(f.token_url, sub="someone-else"),
    "unknown_client": lambda f, s, other: s.assertion(f.token_url, iss="nobody", sub="nobody"),
    "hs256": lambda f, s, other: _hs256(f, s),
    "not_a_jwt": lambda f, s, other: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_client_assertion_is_refused(
    fhir: LoopbackFhirServer, signers: dict[str, Signer], case: str
) -> None:
    signer, other = signers["ES384"], signers["RS384"]
    fhir.register_client(CLIENT_ID, signer.jwks)

    response = request_token(fhir, REFUSALS[case](fhir, signer, other))

    assert response.status_code in (400, 401), response.text
    body = response.json()
    assert body["error"] == "invalid_client", body
    assert body["error_description"]
    assert "access_token" not in body


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"client_assertion_type": "urn:other"}, "invalid_request"),
        ({"client_assertion": None}, "invalid_request"),
        ({"scope": None}, "invalid_request"),
    ],
)
def test_malformed_token_request_is_refused(
    fhir: LoopbackFhirServer,
    signers: dict[str, Signer],
    overrides: dict[str, str | None],
    error: str,
) -> None:
    fhir.register_client(CLIENT_ID, signers["ES384"].jwks)

    response = request_token(fhir, signers["ES384"].assertion(fhir.token_url), **overrides)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_client_scope_limits_the_grant(
    fhir: LoopbackFhirServer, signers: dict[str, Signer]
) -> None:
    fhir.register_client(CLIENT_ID, signers["ES384"].jwks, scope="system/DocumentReference.c")

    granted = request_token(fhir, signers["ES384"].assertion(fhir.token_url))
    refused = request_token(
        fhir, signers["ES384"].assertion(fhir.token_url), scope="system/Observation.rs"
    )

    assert granted.json()["scope"] == "system/DocumentReference.c"
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


# --- injected faults ------------------------------------------------------------------------------
def test_fail_next_answers_the_status_without_touching_the_repository(
    fhir: LoopbackFhirServer,
) -> None:
    fhir.fail_next(503, count=2, headers={"Retry-After": "1"})
    doc_id = new_doc_id()

    first = fhir.post("DocumentReference", document("p1", doc_id))
    second = fhir.post("DocumentReference", document("p1", doc_id))
    third = fhir.post("DocumentReference", document("p1", doc_id))

    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 201)
    assert first.json()["resourceType"] == "OperationOutcome"
    assert first.headers["retry-after"] == "1"
    assert len(fhir.stored("DocumentReference")) == 1


def test_fail_next_with_a_custom_body(fhir: LoopbackFhirServer) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "lock-error"}],
    }
    fhir.fail_next(409, body=body)

    response = fhir.get("DocumentReference")

    assert response.status_code == 409
    assert response.json() == body
    assert fhir.get("DocumentReference").status_code == 200


def test_redirect_next_is_not_followed_and_stores_nothing(fhir: LoopbackFhirServer) -> None:
    elsewhere = "http://127.0.0.1:9/fhir/R4/DocumentReference"
    fhir.redirect_next(elsewhere, status=307)

    redirected = fhir.post("DocumentReference", document("p1", new_doc_id()))
    after = fhir.post("DocumentReference", document("p1", new_doc_id()))

    assert redirected.status_code == 307
    assert redirected.headers["location"] == elsewhere
    assert after.status_code == 201
    assert len(fhir.stored("DocumentReference")) == 1


def test_faults_are_served_in_the_order_they_were_set(fhir: LoopbackFhirServer) -> None:
    fhir.fail_next(500)
    fhir.redirect_next("http://127.0.0.1:9/x", status=308)

    statuses = [fhir.get("DocumentReference").status_code for _ in range(3)]

    assert statuses == [500, 308, 200]


def test_hang_next_delays_the_answer(fhir: LoopbackFhirServer) -> None:
    fhir.hang_next(0.5)

    started = time.monotonic()
    slow = fhir.get("DocumentReference")
    slow_s = time.monotonic() - started
    started = time.monotonic()
    fast = fhir.get("DocumentReference")
    fast_s = time.monotonic() - started

    assert slow.status_code == 200 and fast.status_code == 200
    assert slow_s >= 0.45
    assert fast_s < 0.3


def test_a_timed_out_create_is_still_processed_like_a_real_server(
    fhir: LoopbackFhirServer,
) -> None:
    fhir.hang_next(0.4)

    with pytest.raises(httpx.ReadTimeout):
        fhir.client.post(
            f"{fhir.base_url}/DocumentReference",
            json=document("p1", new_doc_id()),
            headers={"Authorization": f"Bearer {fhir.admin_token}", "Content-Type": FHIR_JSON},
            timeout=0.15,
        )
    assert fhir.stored("DocumentReference") == []
    deadline = time.monotonic() + 3
    while not fhir.stored("DocumentReference") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fhir.stored("DocumentReference")) == 1


def test_a_request_held_across_reset_does_not_leak_into_the_next_test(
    fhir: LoopbackFhirServer,
) -> None:
    fhir.hang_next(0.3)
    with pytest.raises(httpx.ReadTimeout):
        fhir.client.post(
            f"{fhir.base_url}/DocumentReference",
            json=document("p1", new_doc_id()),
            headers={"Authorization": f"Bearer {fhir.admin_token}", "Content-Type": FHIR_JSON},
            timeout=0.1,
        )
    fhir.reset()
    time.sleep(0.4)

    assert fhir.stored("DocumentReference") == []


# --- process handling -----------------------------------------------------------------------------
def test_start_failure_reports_the_harness_stderr(
    fhir_server: LoopbackFhirServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mjs"
    broken.write_text(
        "process.stderr.write('cannot load the FHIR definitions\\n'); process.exit(3);\n"
    )
    server = LoopbackFhirServer(server_script=broken)

    with pytest.raises(
        RuntimeError, match=r"(?s)exited with code 3.*cannot load the FHIR definitions"
    ):
        server.start()
    assert not server.running


def test_harness_listens_on_loopback_only(fhir_server: LoopbackFhirServer) -> None:
    assert fhir_server.origin.startswith("http://127.0.0.1:")
    assert fhir_server.base_url == fhir_server.origin + "/fhir/R4"
    assert fhir_server.token_url == fhir_server.origin + "/auth/token"
    assert fhir_server.running


def test_a_missing_harness_skips_locally_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node_modules"):
        loopback_fhir._unavailable("node_modules missing")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="node_modules"):
        loopback_fhir._unavailable("node_modules missing")


def test_node_harness_problem_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loopback_fhir, "HARNESS_DIR", tmp_path)
    problem = loopback_fhir.node_harness_problem()
    assert problem is not None and "scripts/setup --test" in problem
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "Node.js is not installed" in str(loopback_fhir.node_harness_problem())
