"""The whole catalog as one FHIR R4 ``Questionnaire``: one group per section, ``linkId`` = catalog id.

How each answer type reads is in ``answer_types`` (the response module answers with the same).
"""

from __future__ import annotations

from forms.schema import Catalog, Condition, Item, Section
from intake.fhir.answer_types import fhir_type, item_vocabulary
from intake.fhir.codes import Json
from intake.fhir.site import QUESTIONNAIRE_ID, QUESTIONNAIRE_NAME, QUESTIONNAIRE_TITLE, FhirSite

EXT = "http://hl7.org/fhir/StructureDefinition"
ITEM_CONTROL = f"{EXT}/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"


def _enable_when(site: FhirSite, catalog: Catalog, item: Item) -> Json:
    """``enableWhen`` + ``enableBehavior``, meaning what the catalog's conditions mean.

    The catalog's conditions are "any of" (FHIR ``any``). Its "!=" needs an answer first
    (forms.logic): FHIR's "!=" alone is also true when the question was not answered, so it
    becomes "exists" and "!=", both required (``all``).
    """
    if item.enable_when is None:
        return {}
    conditions = item.enable_when.conditions

    def _gate_coding(cond: Condition, code: str | None = None) -> Json:
        vocabulary = item_vocabulary(site, catalog, catalog.item(cond.item))
        assert vocabulary is not None, f"{item.id}: enable-when on a question without codes"
        return vocabulary.coding(code if code is not None else cond.answers[0])

    if any(cond.op == "!=" for cond in conditions):
        if len(conditions) > 1 or len(conditions[0].answers) > 1:
            # "not this and not that" is not "any": the catalog never asks for it; refuse to guess.
            raise ValueError(f"{item.id}: '!=' combined with other conditions has no FHIR form")
        cond = conditions[0]
        return {
            "enableWhen": [
                {"question": cond.item, "operator": "exists", "answerBoolean": True},
                {"question": cond.item, "operator": "!=", "answerCoding": _gate_coding(cond)},
            ],
            "enableBehavior": "all",
        }
    checks = [
        {"question": cond.item, "operator": "=", "answerCoding": _gate_coding(cond, code)}
        for cond in conditions
        for code in cond.answers
    ]
    result: Json = {"enableWhen": checks}
    if len(checks) > 1:
        result["enableBehavior"] = "any"
    return result


def questionnaire_item(site: FhirSite, catalog: Catalog, item: Item) -> Json:
    """One catalog question; key order is fixed so the JSON is reproducible."""
    result = fhir_type(item).question(site, catalog, item, None, _enable_when(site, catalog, item))
    if item.help:
        help_item = {
            "linkId": f"{item.id}.help",
            "text": item.help,
            "type": "display",
            "extension": [
                {
                    "url": ITEM_CONTROL,
                    "valueCodeableConcept": {
                        "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]
                    },
                }
            ],
        }
        result["item"] = [*result.get("item", []), help_item]
    return result


def section_group(site: FhirSite, catalog: Catalog, section: Section) -> Json:
    return {
        "linkId": section.id,
        "text": section.title,
        "type": "group",
        "item": [questionnaire_item(site, catalog, item) for item in section.items],
    }


def questionnaire_id(catalog: Catalog) -> str:
    """The resource id of one catalog version (FHIR ids allow letters, digits, '-' and '.')."""
    return f"{QUESTIONNAIRE_ID}-{catalog.version}"


def build_questionnaire(site: FhirSite, catalog: Catalog) -> Json:
    """The catalog as a Questionnaire; its ``url|version`` is what every response points at."""
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(catalog),
        "url": site.questionnaire_url,
        "version": catalog.version,
        "name": QUESTIONNAIRE_NAME,
        "title": QUESTIONNAIRE_TITLE,
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "What the patient reports, before a visit, about possible triggers and the reactions "
            "that follow them. It records answers only; nothing is calculated from them."
        ),
        "item": [section_group(site, catalog, section) for section in catalog.sections],
    }
