"""The whole catalog as one FHIR R4 ``Questionnaire``: one group per section, ``linkId`` = catalog id.

How catalog types map (the response module answers with exactly these types):

- ``single`` -> ``choice``; ``multi`` -> ``choice`` with ``repeats``, "none of these" and the
  non-answers marked with the ``questionnaire-optionExclusive`` extension;
- ``scale`` -> ``choice`` with the codes "0".."10" and the non-answers (a 0-10 rating is an
  ordered choice here; no score is ever computed from it, so no ordinal values are declared);
- ``year`` -> ``open-choice``: the two non-answers as options, or a 4-digit year as a string
  (R4 has no type that holds "an integer or a code");
- ``text`` -> ``string`` or ``text`` (by length, like the web form), with ``maxLength``;
- ``grid`` -> a ``group`` with one ``choice`` per row (``<item>.<row>``);
- ``list`` -> a repeating ``group`` with one child per field (``<item>.<field>``).
"""

from __future__ import annotations

from forms.builder import TEXTAREA_FROM
from forms.schema import Catalog, Condition, Item, ListField, Section
from intake.fhir.codes import Json, Vocabulary, field_vocabulary, item_vocabulary
from intake.fhir.site import QUESTIONNAIRE_ID, QUESTIONNAIRE_NAME, QUESTIONNAIRE_TITLE, FhirSite

EXT = "http://hl7.org/fhir/StructureDefinition"
OPTION_EXCLUSIVE = f"{EXT}/questionnaire-optionExclusive"
MAX_OCCURS = f"{EXT}/questionnaire-maxOccurs"
ITEM_CONTROL = f"{EXT}/questionnaire-itemControl"
REGEX = f"{EXT}/regex"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
YEAR_PATTERN = "[12][0-9]{3}"


def _options(vocabulary: Vocabulary, exclusive: tuple[str, ...] = ()) -> list[Json]:
    result = []
    for code, _display in vocabulary.concepts:
        entry: Json = {"valueCoding": vocabulary.coding(code)}
        if code in exclusive:
            entry["extension"] = [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]
        result.append(entry)
    return result


def _text_type(max_length: int | None) -> str:
    return "text" if (max_length or 0) > TEXTAREA_FROM else "string"


def _year_item(link_id: str, text: str, vocabulary: Vocabulary) -> Json:
    return {
        "linkId": link_id,
        "text": text,
        "type": "open-choice",
        "extension": [{"url": REGEX, "valueString": YEAR_PATTERN}],
        "maxLength": 4,
        "answerOption": _options(vocabulary),
    }


def _field_item(site: FhirSite, catalog: Catalog, item: Item, f: ListField) -> Json:
    link_id = f"{item.id}.{f.id}"
    vocabulary = field_vocabulary(site, catalog, item, f)
    if f.type == "year":
        assert vocabulary is not None
        return _year_item(link_id, f.label, vocabulary)
    if f.type == "text":
        result: Json = {"linkId": link_id, "text": f.label, "type": _text_type(f.max_length)}
        if f.max_length:
            result["maxLength"] = f.max_length
        return result
    # The web form does not make list fields' options exclusive, so none is declared here.
    result = {"linkId": link_id, "text": f.label, "type": "choice"}
    if f.type == "multi":
        result["repeats"] = True
    assert vocabulary is not None
    result["answerOption"] = _options(vocabulary)
    return result


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
    result: Json = {"linkId": item.id, "text": item.text}
    vocabulary = item_vocabulary(site, catalog, item)
    if item.type in ("single", "multi", "scale"):
        assert vocabulary is not None
        result["type"] = "choice"
        result.update(_enable_when(site, catalog, item))
        if item.type == "multi":
            result["repeats"] = True
        result["answerOption"] = _options(
            vocabulary, item.exclusive if item.type == "multi" else ()
        )
    elif item.type == "year":
        assert vocabulary is not None
        year = _year_item(item.id, item.text, vocabulary)
        result = {**year, **_enable_when(site, catalog, item)}
    elif item.type == "text":
        result["type"] = _text_type(item.max_length)
        result.update(_enable_when(site, catalog, item))
        if item.max_length:
            result["maxLength"] = item.max_length
    elif item.type == "grid":
        assert vocabulary is not None
        result["type"] = "group"
        result.update(_enable_when(site, catalog, item))
        result["item"] = [
            {
                "linkId": f"{item.id}.{row.code}",
                "text": row.label,
                "type": "choice",
                "answerOption": _options(vocabulary),
            }
            for row in item.rows
        ]
    else:  # list
        result["type"] = "group"
        result.update(_enable_when(site, catalog, item))
        result["repeats"] = True
        result["extension"] = [{"url": MAX_OCCURS, "valueInteger": item.max_rows}]
        result["item"] = [_field_item(site, catalog, item, f) for f in item.fields]
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
