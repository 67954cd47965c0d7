""" "Send to EHR" against a real FHIR server on loopback (Medplum's engine, tests/fhir_server).

Through the clinic page and the CLI, as a clinician and clinic IT would: the document is created
once and reads back byte-identical, a retry never makes a second one, refusals and outages are
reported on the intake page and audited, and SMART Backend Services authenticates with the key
pair ``intake ehr-keygen`` made, against a token endpoint that checks the signed assertion.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from intake import db
from intake.ehr import push
from intake.fhir import exports
from intake.models import AuditEvent, EhrUpload
from tests.clinic_accounts import login, make_user
from tests.conftest import load_intake, run_jobs
from tests.loopback_fhir import LoopbackFhirServer

BEARER = "static-test-token-0123456789"
CLIENT_ID = "intake-test-client"
DOB = "1980-03-27"  # the conftest invite's default
CANONICAL = "https://intake.example.org/fhir"
MRN_SYSTEM = "urn:oid:1.2.36.146.595.217.0.1"


@pytest.fixture
def clinic(app: Flask, client: FlaskClient) -> int:
    user_id = make_user(app)
    assert login(client).status_code == 303
    return user_id


@pytest.fixture
def ehr(app: Flask, fhir: LoopbackFhirServer) -> LoopbackFhirServer:
    """The app pointed at the loopback server with a static bearer token; a patient MRN-1."""
    fhir.add_bearer(BEARER)
    app.config.update(
        FHIR_CANONICAL_BASE=CANONICAL,
        FHIR_MRN_SYSTEM=MRN_SYSTEM,
        EHR_FHIR_BASE_URL=fhir.base_url,
        EHR_AUTH="bearer",
        EHR_BEARER_TOKEN=BEARER,
        EHR_RETRIES=2,
        EHR_BACKOFF_SECONDS=0.01,
        EHR_TIMEOUT_SECONDS=5,
    )
    fhir.create_patient(app.config["FHIR_MRN_SYSTEM"], "MRN-1", "Doe", "Jane", DOB)
    return fhir


def documents(fhir: LoopbackFhirServer) -> list[dict[str, Any]]:
    return fhir.stored("DocumentReference")


def send_from_page(app: Flask, client: FlaskClient, public_id: str) -> str:
    """Press "Send to EHR": the page says it waits to be sent; the worker sends it; the page,
    reloaded, says what the EHR answered."""
    response = client.post(f"/clinic/intakes/{public_id}/send-to-ehr")
    assert response.status_code == 303
    assert response.location.endswith(f"/clinic/intakes/{public_id}?done=ehr_queued")
    waiting = client.get(response.location).get_data(as_text=True)
    assert "Waiting to be sent to the EHR" in waiting and "Send to EHR</button>" not in waiting
    assert run_jobs(app) == 1
    return client.get(response.location).get_data(as_text=True)


def ehr_audit(app: Flask, public_id: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session().scalars(
            select(AuditEvent)
            .where(AuditEvent.intake_public_id == public_id, AuditEvent.action == "ehr.send")
            .order_by(AuditEvent.id)
        )
        return [(row.actor, row.outcome) for row in rows]


def test_send_creates_one_document_that_reads_back_byte_identical(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
) -> None:
    public_id = submitted()
    page = send_from_page(app, client, public_id)
    assert "the EHR created the document" in page
    (doc,) = documents(ehr)
    assert f"""The EHR's id for it: <span class="mono">{doc["id"]}</span>""" in page

    # Read back through the FHIR API: the very bytes the clinic downloads.
    read = ehr.get(f"DocumentReference/{doc['id']}")
    assert read.status_code == 200
    stored = load_intake(app, public_id).submission.pdf
    attachment = read.json()["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == stored
    assert attachment["size"] == len(stored)
    pdf_download = client.get(f"/clinic/intakes/{public_id}/summary.pdf").data
    assert pdf_download == stored

    # The subject is the EHR's own patient, found by MRN; searchable by patient and type.
    (patient,) = ehr.stored("Patient")
    assert read.json()["subject"]["reference"] == f"Patient/{patient['id']}"
    found = ehr.search(
        "DocumentReference",
        {"patient": f"Patient/{patient['id']}", "type": "http://loinc.org|51855-5"},
    )
    assert [d["id"] for d in found] == [doc["id"]]
    assert ehr.search("DocumentReference", {"type": "http://loinc.org|11506-3"}) == []

    # The If-None-Exist header went out on the service's own identifier.
    (post,) = [r for r in ehr.requests() if r["method"] == "POST"]
    assert post["if_none_exist"] == (
        f"identifier={app.config['FHIR_CANONICAL_BASE']}/document|{public_id}"
    )
    assert ehr_audit(app, public_id) == [(f"user:{clinic}", "ok")]
    # Once it is there, the page offers no second send.
    assert "Send to EHR" not in page.split('id="ehr-status"')[1].split("</section>")[0]


@pytest.mark.usefixtures("shared_pdf")
def test_sending_again_never_makes_a_second_document(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
) -> None:
    public_id = submitted()
    send_from_page(app, client, public_id)
    page = send_from_page(app, client, public_id)  # a second tab, a double click
    assert "the EHR already had this document" in page
    runner = app.test_cli_runner()
    result = runner.invoke(args=["intake", "push", public_id])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Already there")
    assert len(documents(ehr)) == 1
    identifier = f"{app.config['FHIR_CANONICAL_BASE']}/document|{public_id}"
    assert len(ehr.search("DocumentReference", {"identifier": identifier})) == 1
    assert [o for _a, o in ehr_audit(app, public_id)] == ["ok", "exists", "exists"]


@pytest.mark.usefixtures("shared_pdf")
def test_server_errors_are_retried_and_then_succeed(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer
) -> None:
    public_id = submitted()
    ehr.fail_next(503, count=2)  # the patient search and the first create attempt
    with app.app_context():
        result = push.send(public_id, "cli")
    assert result.outcome == "created", result.message
    assert len(documents(ehr)) == 1


@pytest.mark.usefixtures("shared_pdf")
def test_an_outage_is_reported_and_a_later_send_works(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
) -> None:
    public_id = submitted()
    ehr.fail_next(503, count=3)  # every attempt of the first send (EHR_RETRIES=2)
    page = send_from_page(app, client, public_id)
    assert "Sending to the EHR did not work" in page
    assert "Sending again is safe" in page
    assert "Send to EHR again" in page
    assert documents(ehr) == []
    page = send_from_page(app, client, public_id)
    assert "the EHR created the document" in page
    assert [o for _a, o in ehr_audit(app, public_id)] == ["failed", "ok"]


@pytest.mark.usefixtures("shared_pdf")
def test_an_invalid_document_is_rejected_and_the_reason_shown(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = exports.document_reference

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**real(*args, **kwargs), "status": "bogus"}  # fhir.resources lets this through

    monkeypatch.setattr(push.exports, "document_reference", broken)
    public_id = submitted()
    page = send_from_page(app, client, public_id)
    assert "The EHR refused the document" in page
    assert "(HTTP 400)" in page
    with app.app_context():
        upload = db.session().scalars(select(EhrUpload)).one()
    assert upload.outcome == "rejected" and upload.http_status == 400
    assert "status" in (upload.message or "")  # the OperationOutcome names the element
    assert documents(ehr) == []
    assert ehr_audit(app, public_id) == [(f"user:{clinic}", "rejected")]


@pytest.mark.usefixtures("shared_pdf")
def test_a_redirect_is_reported_and_never_followed(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer
) -> None:
    public_id = submitted()
    ehr.redirect_next("http://127.0.0.1:9/elsewhere", count=5)
    with app.app_context():
        result = push.send(public_id, "cli")
    assert result.outcome == "failed"
    assert "redirect" in result.message.lower()
    assert documents(ehr) == []


@pytest.mark.parametrize(
    ("mrn", "seed", "expected"),
    [
        ("MRN-404", [], "has no patient with MRN MRN-404"),
        ("MRN-2", [("MRN-2", "1955-01-01")], "another one than the patient confirmed"),
        ("MRN-2", [("MRN-2", None)], "has no date of birth"),
        ("MRN-3", [("MRN-3", DOB), ("MRN-3", DOB)], "2 patients with MRN MRN-3"),
        # A comma means "or" in a FHIR search: unescaped, this found the patient MRN-1.
        ("MRN-1,MRN-999", [], "has no patient with MRN MRN-1,MRN-999"),
        (None, [], "This intake has no MRN"),
    ],
)
@pytest.mark.usefixtures("shared_pdf")
def test_no_document_lands_on_a_patient_that_may_be_the_wrong_one(
    app: Flask,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
    mrn: str | None,
    seed: list[tuple[str, str | None]],
    expected: str,
) -> None:
    for value, birth in seed:
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "identifier": [{"system": MRN_SYSTEM, "value": value}],
        }
        if birth:
            patient["birthDate"] = birth
        ehr.seed(patient)
    public_id = submitted(mrn=mrn)
    with app.app_context():
        result = push.send(public_id, "cli")
    assert result.outcome == "unmatched"
    assert expected in result.message
    assert documents(ehr) == []
    assert ehr_audit(app, public_id) == [("cli", "unmatched")]


@pytest.mark.usefixtures("shared_pdf")
def test_a_send_under_way_is_not_started_twice(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
) -> None:
    public_id = submitted()
    intake = load_intake(app, public_id)
    with app.app_context(), db.transaction() as tx:
        tx.add(EhrUpload(intake_id=intake.id, actor="user:9", outcome="sending", attempts=0))
    response = client.post(f"/clinic/intakes/{public_id}/send-to-ehr")
    assert response.location.endswith("done=ehr_busy")
    page = client.get(response.location).get_data(as_text=True)
    assert "being sent to the EHR already" in page
    assert "has not reported back yet" in page
    assert [r for r in ehr.requests() if r["path"].startswith("/fhir/")] == []


@pytest.mark.usefixtures("shared_pdf")
def test_a_slow_ehr_ends_within_the_send_budget(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer
) -> None:
    app.config.update(EHR_SEND_BUDGET_SECONDS=1.5, EHR_TIMEOUT_SECONDS=5, EHR_RETRIES=5)
    ehr.hang_next(3, count=10)
    public_id = submitted()
    started = time.monotonic()
    with app.app_context():
        result = push.send(public_id, "cli")
    assert time.monotonic() - started < 4
    assert result.outcome == "failed"
    assert "EHR_SEND_BUDGET_SECONDS" in result.message or "did not answer" in result.message


@pytest.mark.usefixtures("shared_pdf")
def test_identity_settings_an_ehr_relies_on_are_required(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer
) -> None:
    app.config.update(FHIR_MRN_SYSTEM=CANONICAL + "/mrn")
    public_id = submitted()
    with app.app_context(), pytest.raises(push.NotConfiguredError, match="FHIR_MRN_SYSTEM"):
        push.send(public_id, "cli")
    app.config.update(FHIR_CANONICAL_BASE="http://127.0.0.1:5000/fhir", FHIR_MRN_SYSTEM=MRN_SYSTEM)
    with app.app_context(), pytest.raises(push.NotConfiguredError, match="FHIR_CANONICAL_BASE"):
        push.send(public_id, "cli")


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
@pytest.mark.usefixtures("shared_pdf")
def test_smart_backend_services_with_the_generated_key(
    app: Flask,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
    tmp_path: Path,
    alg: str,
) -> None:
    app.config.update(
        EHR_AUTH="smart",
        EHR_BEARER_TOKEN=None,
        EHR_TOKEN_URL=ehr.token_url,
        EHR_CLIENT_ID=CLIENT_ID,
        EHR_KEY_ALG=alg,
        EHR_KEY_PATH=str(tmp_path / "ehr_key.pem"),
    )
    runner = app.test_cli_runner()
    made = runner.invoke(args=["intake", "ehr-keygen", "--alg", alg])
    assert made.exit_code == 0, made.output
    jwks = json.loads(made.stdout)
    ehr.register_client(CLIENT_ID, jwks)

    checked = runner.invoke(args=["intake", "ehr-check"])
    assert checked.exit_code == 0, checked.output

    public_id = submitted()
    pushed = runner.invoke(args=["intake", "push", public_id])
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.startswith("Created")
    assert len(documents(ehr)) == 1
    seen = ehr.requests()
    assert any(r["path"] == "/auth/token" and r["status"] == 200 for r in seen)
    fhir_posts = [r for r in seen if r["method"] == "POST" and r["path"].startswith("/fhir/")]
    assert [r["authorization_scheme"].lower() for r in fhir_posts] == ["bearer"]


@pytest.mark.usefixtures("shared_pdf")
def test_smart_with_an_unregistered_key_fails_with_a_clear_message(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer, tmp_path: Path
) -> None:
    app.config.update(
        EHR_AUTH="smart",
        EHR_TOKEN_URL=ehr.token_url,
        EHR_CLIENT_ID=CLIENT_ID,
        EHR_KEY_PATH=str(tmp_path / "ehr_key.pem"),
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["intake", "ehr-keygen"]).exit_code == 0
    other = runner.invoke(args=["intake", "ehr-keygen", "--force"])  # a new key, not registered
    assert other.exit_code == 0
    ehr.register_client(CLIENT_ID, {"keys": []})
    public_id = submitted()
    pushed = runner.invoke(args=["intake", "push", public_id])
    assert pushed.exit_code == 1
    assert "invalid_client" in pushed.output
    assert documents(ehr) == []
    assert ehr_audit(app, public_id) == [("cli", "failed")]


@pytest.mark.usefixtures("shared_pdf")
def test_without_an_ehr_endpoint_nothing_breaks(
    app: Flask, client: FlaskClient, clinic: int, submitted: Callable[..., str]
) -> None:
    assert app.config["EHR_FHIR_BASE_URL"] is None
    public_id = submitted()
    page = client.get(f"/clinic/intakes/{public_id}").get_data(as_text=True)
    assert "Send to EHR" not in page
    assert "Download PDF" in page
    response = client.post(f"/clinic/intakes/{public_id}/send-to-ehr")
    assert response.location.endswith("done=ehr_off")
    assert ehr_audit(app, public_id) == [(f"user:{clinic}", "not_configured")]  # refused, recorded
    assert "Sending to the EHR is not set up" in client.get(response.location).get_data(
        as_text=True
    )
    result = app.test_cli_runner().invoke(args=["intake", "push", public_id])
    assert result.exit_code == 1 and "not set up" in result.output


def test_a_real_server_accepts_every_resource_and_the_bundle_twice_is_one_of_each(
    app: Flask, submitted: Callable[..., str], ehr: LoopbackFhirServer
) -> None:
    """Medplum validates against the R4 structure definitions and required value sets: a second,
    independent check of what fhir.resources accepted."""
    public_id = submitted()
    intake = load_intake(app, public_id)
    with app.test_request_context():
        questionnaire = exports.questionnaire()
        response = exports.questionnaire_response(intake, intake.submission)
        document = exports.document_reference(intake, intake.submission, intake.submission.pdf)
        bundle = exports.transaction_bundle(intake, intake.submission, intake.submission.pdf)
        code_system = exports.code_system("manifestations")
    assert code_system is not None
    for resource in (questionnaire, response, document, code_system):
        created = ehr.post(
            resource["resourceType"], {k: v for k, v in resource.items() if k != "id"}
        )
        assert created.status_code == 201, created.text[:1000]
    ehr.reset()

    for expected in ("201", "200"):  # created, then found by ifNoneExist
        answer = ehr.post("", bundle)
        assert answer.status_code == 200, answer.text[:1000]
        assert answer.json()["type"] == "transaction-response"
        assert [e["response"]["status"] for e in answer.json()["entry"]] == [expected, expected]
    (stored_response,) = ehr.stored("QuestionnaireResponse")
    (stored_document,) = ehr.stored("DocumentReference")
    related = stored_document["context"]["related"][0]
    assert related["reference"] == f"QuestionnaireResponse/{stored_response['id']}"
    data = base64.b64decode(stored_document["content"][0]["attachment"]["data"])
    assert data == intake.submission.pdf


@pytest.mark.usefixtures("shared_pdf")
def test_an_unmatched_patient_is_said_plainly_on_the_page(
    app: Flask,
    client: FlaskClient,
    clinic: int,
    submitted: Callable[..., str],
    ehr: LoopbackFhirServer,
) -> None:
    public_id = submitted(mrn="MRN-404")
    page = send_from_page(app, client, public_id)
    assert "the EHR's patient could not be matched to this intake" in page
    assert "has no patient with MRN MRN-404" in page
    assert "Not sent to the EHR: its patient did not match" in page  # the history line
    assert "Sending again is safe" not in page
