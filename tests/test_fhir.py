"""FHIR resources: valid against the R4B models, and right where the models cannot tell.

fhir.resources checks structure and data types. It does not check US Core's required elements,
value sets, that the hash and size match the PDF, or that every answer belongs to a question of
the Questionnaire with the right type: the tests below do.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pikepdf
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from flask import Flask
from flask.testing import FlaskClient

from forms.loader import get_catalog
from forms.schema import NON_ANSWERS
from intake.fhir import exports
from intake.fhir.answer_types import OPTION_EXCLUSIVE
from intake.fhir.document import US_CORE_CATEGORY
from intake.fhir.site import fhir_json
from intake.fhir.validation import FhirValidationError, validate
from intake.intakes.demo import demo_answers
from tests.conftest import load_intake
from tests.forbidden_phrases import violations

Json = dict[str, Any]
DATETIME_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")


def walk(items: list[Json]) -> Iterator[Json]:
    for item in items:
        yield item
        yield from walk(item.get("item", []))


@pytest.fixture
def questionnaire(app: Flask) -> Json:
    with app.app_context():
        return exports.questionnaire()


@pytest.fixture
def resources(app: Flask, submitted: Callable[..., str]) -> dict[str, Any]:
    public_id = submitted()
    intake = load_intake(app, public_id)
    with app.app_context():
        assert intake.submission is not None and intake.submission.pdf is not None
        pdf = intake.submission.pdf
        return {
            "intake": intake,
            "pdf": pdf,
            "response": exports.questionnaire_response(intake, intake.submission),
            "document": exports.document_reference(intake, intake.submission, pdf),
            "bundle": exports.transaction_bundle(intake, intake.submission, pdf),
        }


# --- Questionnaire -----------------------------------------------------------------------------


def test_questionnaire_is_valid_and_names_every_catalog_question(questionnaire: Json) -> None:
    Questionnaire.model_validate(questionnaire)
    catalog = get_catalog()
    assert questionnaire["url"].endswith("/fhir/Questionnaire/intake-history")
    assert questionnaire["version"] == catalog.version
    assert questionnaire["status"] == "active"
    assert [g["linkId"] for g in questionnaire["item"]] == [s.id for s in catalog.sections]
    assert all(g["type"] == "group" for g in questionnaire["item"])
    link_ids = [item["linkId"] for item in walk(questionnaire["item"])]
    assert len(link_ids) == len(set(link_ids)), "linkIds must be unique"
    assert {item.id for item in catalog.items()} <= set(link_ids)


def test_questionnaire_items_carry_type_options_and_limits(questionnaire: Json) -> None:
    catalog = get_catalog()
    by_id = {item["linkId"]: item for item in walk(questionnaire["item"])}
    for item in catalog.items():
        q = by_id[item.id]
        expected = {
            "single": "choice",
            "multi": "choice",
            "scale": "choice",
            "year": "open-choice",
            "grid": "group",
            "list": "group",
        }.get(item.type)
        if expected:
            assert q["type"] == expected, item.id
        else:
            assert q["type"] in ("string", "text"), item.id
            assert q["maxLength"] == item.max_length, item.id
        if item.type in ("multi", "list"):
            assert q["repeats"] is True, item.id
        if item.type in ("single", "multi"):
            codes = [o["valueCoding"]["code"] for o in q["answerOption"]]
            assert codes == list(item.codes), item.id
            if not item.nonanswer_exempt:
                assert set(NON_ANSWERS) <= set(codes), item.id
        if item.type == "multi":
            marked = {
                o["valueCoding"]["code"]
                for o in q["answerOption"]
                if {"url": OPTION_EXCLUSIVE, "valueBoolean": True} in o.get("extension", [])
            }
            assert marked == set(item.exclusive), item.id
        if item.type in ("scale", "year"):
            codes = [o["valueCoding"]["code"] for o in q["answerOption"]]
            assert set(NON_ANSWERS) <= set(codes), item.id


def test_enable_when_points_at_earlier_questions_and_their_codes(questionnaire: Json) -> None:
    by_id = {item["linkId"]: item for item in walk(questionnaire["item"])}
    order = list(by_id)
    conditional = [item for item in by_id.values() if "enableWhen" in item]
    assert len(conditional) >= 20
    for item in conditional:
        for check in item["enableWhen"]:
            gate = by_id[check["question"]]
            assert order.index(gate["linkId"]) < order.index(item["linkId"])
            if check["operator"] == "exists":
                assert check["answerBoolean"] is True
                continue
            options = [o["valueCoding"]["code"] for o in gate["answerOption"]]
            assert check["answerCoding"]["code"] in options
            assert check["operator"] in ("=", "!=")
        operators = [check["operator"] for check in item["enableWhen"]]
        if "!=" in operators:
            # The catalog's "!=" needs an answer: FHIR's alone would enable on no answer.
            assert operators == ["exists", "!="] and item["enableBehavior"] == "all"
        elif len(operators) > 1:
            assert item["enableBehavior"] == "any"
    negated = [item for item in conditional if item["enableWhen"][-1]["operator"] == "!="]
    assert [item["enableWhen"][0]["question"] for item in negated] == ["hormone.periods"]


def test_validation_errors_never_quote_the_answers() -> None:
    secret = "my private worry"
    with pytest.raises(FhirValidationError) as caught:
        validate({"resourceType": "QuestionnaireResponse", "status": "completed", "x": secret})
    assert secret not in str(caught.value) and caught.value.__cause__ is None
    assert "x: extra_forbidden" in str(caught.value)


def test_questionnaire_computes_nothing_and_says_nothing_it_must_not(questionnaire: Json) -> None:
    text = fhir_json(questionnaire).decode()
    for marker in ("ordinalValue", "calculatedExpression", "itemWeight", "score"):
        assert marker not in text
    service_text = " ".join(
        [questionnaire["title"], questionnaire["description"]]
        + [item.get("text", "") for item in walk(questionnaire["item"])]
    )
    assert violations(service_text) == []


def test_every_code_means_one_thing_and_is_defined_at_its_system(
    app: Flask, client: FlaskClient, questionnaire: Json
) -> None:
    """The catalog reuses codes with other meanings ("weekly"); each system keeps them apart, and
    each system's URL serves a CodeSystem that defines every code with the same display."""
    meaning: dict[tuple[str, str], str] = {}
    codings = [
        option["valueCoding"]
        for item in walk(questionnaire["item"])
        for option in item.get("answerOption", [])
    ]
    for coding in codings:
        key = (coding["system"], coding["code"])
        assert meaning.setdefault(key, coding["display"]) == coding["display"], key
    systems = {system for system, _code in meaning}
    assert len(systems) >= 20
    weekly = {display for (_s, code), display in meaning.items() if code == "weekly"}
    assert len(weekly) > 1, "the catalog reuses 'weekly' with different meanings"
    base = app.config["FHIR_CANONICAL_BASE"] + "/CodeSystem/"
    for system in systems:
        assert system.startswith(base)
        response = client.get("/fhir/CodeSystem/" + system.removeprefix(base))
        assert response.status_code == 200, system
        resource = response.get_json()
        CodeSystem.model_validate(resource)
        assert resource["url"] == system and resource["content"] == "complete"
        defined = {c["code"]: c["display"] for c in resource["concept"]}
        used = {code: display for (s, code), display in meaning.items() if s == system}
        assert used.items() <= defined.items(), system
    assert client.get("/fhir/CodeSystem/nothing-here").status_code == 404


def test_questionnaire_is_public_and_versioned(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/fhir/Questionnaire/intake-history")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "Questionnaire"
    assert body["version"] == get_catalog().version
    versioned = client.get(f"/fhir/Questionnaire/intake-history-{get_catalog().version}")
    assert versioned.get_json() == body
    assert client.get("/fhir/Questionnaire/intake-history-0.9").status_code == 404


# --- QuestionnaireResponse ---------------------------------------------------------------------


@pytest.mark.usefixtures("shared_pdf")
def test_response_is_valid_completed_and_points_at_the_questionnaire(
    resources: dict[str, Any], questionnaire: Json
) -> None:
    response = resources["response"]
    QuestionnaireResponse.model_validate(response)
    assert response["status"] == "completed"
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert DATETIME_WITH_ZONE.match(response["authored"])
    subject = response["subject"]
    assert subject["identifier"]["value"] == "MRN-1"
    assert subject["type"] == "Patient"
    assert subject["display"] == "Jane Doe"
    assert response["source"] == subject
    assert response["identifier"]["value"] == resources["intake"].public_id


def _answer_fits(q: Json, answer: Json) -> bool:
    """Is this answer typed as the Questionnaire item declares?"""
    options = {o["valueCoding"]["code"] for o in q.get("answerOption", [])}
    (key,) = answer.keys()
    if q["type"] == "choice":
        return key == "valueCoding" and answer[key]["code"] in options
    if q["type"] == "open-choice":
        if key == "valueCoding":
            return answer[key]["code"] in options
        return key == "valueString" and len(answer[key]) <= q.get("maxLength", 10**9)
    if q["type"] in ("string", "text"):
        return key == "valueString" and len(answer[key]) <= q["maxLength"]
    return False


@pytest.mark.usefixtures("shared_pdf")
def test_every_answer_belongs_to_a_question_and_has_its_type(
    resources: dict[str, Any], questionnaire: Json
) -> None:
    by_id = {item["linkId"]: item for item in walk(questionnaire["item"])}
    answers = 0
    for item in walk(resources["response"]["item"]):
        q = by_id[item["linkId"]]  # KeyError: an answer to no question
        assert item.get("text") == q.get("text")
        if q["type"] == "group":
            assert "answer" not in item
            continue
        if q.get("repeats") is not True:
            assert len(item["answer"]) == 1, item["linkId"]
        for answer in item["answer"]:
            assert _answer_fits(q, answer), (item["linkId"], answer)
            answers += 1
    assert answers >= 150  # the demo answers nearly everything, with all detail opened


@pytest.mark.usefixtures("shared_pdf")
def test_non_answers_travel_as_the_catalog_codes(app: Flask, submitted: Callable[..., str]) -> None:
    catalog = get_catalog()
    answers = demo_answers(catalog)
    answers["general.onset_year"] = "not_sure"
    answers["general.impact"] = "prefer_not"
    answers["general.completed_by"] = "self"
    intake = load_intake(app, submitted(answers))
    with app.app_context():
        assert intake.submission is not None
        response = exports.questionnaire_response(intake, intake.submission)
    by_id = {item["linkId"]: item for item in walk(response["item"])}
    base = app.config["FHIR_CANONICAL_BASE"]
    assert by_id["general.onset_year"]["answer"] == [
        {
            "valueCoding": {
                "system": f"{base}/CodeSystem/general.onset-year",
                "code": "not_sure",
                "display": "Not sure",
            }
        }
    ]
    assert by_id["general.impact"]["answer"] == [
        {
            "valueCoding": {
                "system": f"{base}/CodeSystem/general.impact",
                "code": "prefer_not",
                "display": "Prefer not to say",
            }
        }
    ]


@pytest.mark.usefixtures("shared_pdf")
def test_year_and_scale_answers_keep_their_values(resources: dict[str, Any]) -> None:
    by_id = {item["linkId"]: item for item in walk(resources["response"]["item"])}
    assert by_id["general.onset_year"]["answer"] == [{"valueString": "2019"}]
    assert by_id["general.impact"]["answer"][0]["valueCoding"]["code"] == "6"
    rows = [
        i for i in resources["response"]["item"][0]["item"] if i["linkId"] == "general.severe_list"
    ]
    assert len(rows) == 1
    fields = {f["linkId"]: f["answer"] for f in rows[0]["item"]}
    assert fields["general.severe_list.year"] == [{"valueString": "2022"}]
    assert [a["valueCoding"]["code"] for a in fields["general.severe_list.care"]] == [
        "er",
        "epinephrine",
    ]


@pytest.mark.usefixtures("shared_pdf")
def test_same_answers_give_the_same_json(app: Flask, resources: dict[str, Any]) -> None:
    intake = resources["intake"]
    with app.test_request_context():
        again = exports.questionnaire_response(intake, intake.submission)
    assert fhir_json(again) == fhir_json(resources["response"])


# --- DocumentReference and Bundle --------------------------------------------------------------


@pytest.mark.usefixtures("shared_pdf")
def test_document_reference_meets_us_core(resources: dict[str, Any]) -> None:
    doc = resources["document"]
    DocumentReference.model_validate(doc)
    # US Core DocumentReference: required status, type, category, subject, content.attachment
    # (contentType and data or url); must-support identifier, date, author, format, context.
    assert doc["status"] == "current"
    assert doc["type"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "51855-5",
        "display": "Patient Note",
    }
    assert {"system": US_CORE_CATEGORY, "code": "clinical-note", "display": "Clinical Note"} in [
        c for cat in doc["category"] for c in cat["coding"]
    ]
    assert doc["subject"]["identifier"]["value"] == "MRN-1"
    assert DATETIME_WITH_ZONE.match(doc["date"])
    assert doc["author"] == [doc["subject"]]
    assert doc["securityLabel"][0]["coding"][0]["code"] == "PATAST"
    assert doc["identifier"][0]["value"] == resources["intake"].public_id
    (content,) = doc["content"]
    attachment = content["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert content["format"]["code"] == "urn:ihe:iti:xds:2017:mimeTypeSufficient"
    assert DATETIME_WITH_ZONE.match(attachment["creation"])
    assert attachment["title"] and "Jane" not in attachment["title"]
    related = doc["context"]["related"][0]
    assert related["identifier"] == resources["response"]["identifier"]


def test_size_and_hash_match_the_pdf_bytes(resources: dict[str, Any]) -> None:
    attachment = resources["document"]["content"][0]["attachment"]
    data = base64.b64decode(attachment["data"])
    assert data == resources["pdf"]
    assert attachment["size"] == len(resources["pdf"])
    assert base64.b64decode(attachment["hash"]) == hashlib.sha1(resources["pdf"]).digest()  # noqa: S324


@pytest.mark.usefixtures("shared_pdf")
def test_bundle_is_an_idempotent_transaction_linking_document_to_response(
    resources: dict[str, Any],
) -> None:
    bundle = resources["bundle"]
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction"
    response_entry, document_entry = bundle["entry"]
    assert response_entry["resource"] == resources["response"]
    assert document_entry["resource"]["resourceType"] == "DocumentReference"
    for entry in bundle["entry"]:
        assert entry["fullUrl"].startswith("urn:uuid:")
        identifier = entry["resource"]["identifier"]
        identifier = identifier[0] if isinstance(identifier, list) else identifier
        assert entry["request"] == {
            "method": "POST",
            "url": entry["resource"]["resourceType"],
            "ifNoneExist": f"identifier={identifier['system']}|{identifier['value']}",
        }
    related = document_entry["resource"]["context"]["related"][0]
    assert related["reference"] == response_entry["fullUrl"]
    assert response_entry["fullUrl"] != document_entry["fullUrl"]


def test_the_stored_pdf_carries_the_exported_answers(resources: dict[str, Any]) -> None:
    """PDF/A-3b with the QuestionnaireResponse inside, byte-equal to the JSON export."""
    with pikepdf.open(io.BytesIO(resources["pdf"])) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        (name,) = pdf.attachments.keys()
        assert name == "questionnaire-response.json"
        embedded = pdf.attachments[name].get_file()
        assert embedded.mime_type == "application/fhir+json"
        data = embedded.read_bytes()
        title = str(meta.get("dc:title"))
    assert data == fhir_json(resources["response"])
    assert "Jane" not in title and "Doe" not in title and "MRN-1" not in title
