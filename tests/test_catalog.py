"""The catalog's invariants, and proof that the validator catches each kind of mistake."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from forms.loader import (
    ARCHIVE_DIR,
    CATALOG_PATH,
    CatalogError,
    UnknownCatalogVersion,
    archived_path,
    content_digest,
    get_catalog,
    parse_catalog,
    released_digests,
)
from forms.validate import ARTICLE_CATEGORIES, catalog_problems


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))


def _item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == item_id:
                return item  # type: ignore[no-any-return]
    raise KeyError(item_id)


def _section(data: dict[str, Any], section_id: str) -> dict[str, Any]:
    return next(s for s in data["sections"] if s["id"] == section_id)  # type: ignore[no-any-return]


def test_the_catalog_keeps_every_rule() -> None:
    assert catalog_problems(get_catalog()) == []


def test_thirteen_categories_plus_other_have_a_reaction_overview() -> None:
    catalog = get_catalog()
    rows = [s for s in catalog.sections if s.overview_row]
    assert {s.article_category for s in rows} - {None} == set(ARTICLE_CATEGORIES)
    assert len(rows) == 14


def test_patient_titles_are_plain() -> None:
    titles = {s.id: s.title for s in get_catalog().sections}
    assert titles["dental"] == "Teeth and gums"
    assert titles["energy"] == "Energy and recovery after activity"
    assert titles["toxin"] == "Mold, chemicals and smells"


def test_catalog_has_a_version_and_core_and_optional_items() -> None:
    catalog = get_catalog()
    assert catalog.version == "1.3"
    assert all(s.core_items for s in catalog.sections)
    assert sum(1 for i in catalog.items() if not i.core) > 50


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: _item(d, "stress.ongoing").update(id="stress.level_month"), "id used 2 times"),
        (
            lambda d: _item(d, "stress.sources").update(
                enable_when={"item": "stress.nope", "op": "=", "answer": "yes"}
            ),
            "unknown item",
        ),
        (
            lambda d: _item(d, "stress.sources").update(
                enable_when={"item": "stress.ongoing", "op": "=", "answer": "maybe"}
            ),
            "not in stress.ongoing",
        ),
        (lambda d: _item(d, "sleep.hours")["answers"].pop(), "does not offer"),
        (lambda d: _item(d, "toxin.home_damp").update(exclusive=["none"]), "must be exclusive"),
        (
            lambda d: _item(d, "toxin.home_damp").update(
                exclusive=["none", "not_sure", "prefer_not", "bogus"]
            ),
            "exclusive code 'bogus'",
        ),
        (lambda d: _item(d, "general.main_concerns").pop("max_length"), "max_length"),
        (lambda d: _item(d, "general.main_concerns").update(max_length=100000), "max_length"),
        (lambda d: _item(d, "general.impact").update(anchors=["0 = none"]), "anchors at both ends"),
        (lambda d: _item(d, "general.symptoms_other").update(core=False), "so is core too"),
        (
            lambda d: _item(d, "metal.test_list")["fields"][2]["answers"].pop(),
            "metal.test_list.sample: does not offer prefer_not",
        ),
        # The keys that tell the summary how to read the answers.
        (lambda d: _item(d, "general.impact").update(respondent=True), "at most one may"),
        (lambda d: _item(d, "general.symptoms").update(respondent=True), "not a single choice"),
        (lambda d: _item(d, "trauma.consent").update(declines="no"), "not an answer"),
        (lambda d: _item(d, "trauma.ever").update(declines="no"), "must come first"),
        (
            lambda d: _section(d, "diet")["reaction"]["parts"].update(onset="start"),
            "names a missing field 'start'",
        ),
        (lambda d: _section(d, "diet")["reaction"]["parts"].pop("noticed"), "no 'noticed' part"),
        (
            lambda d: _item(d, "diet.food_list").update(
                enable_when={"item": "diet.reacts_food", "op": "!=", "answer": "no"}
            ),
            "needs one '=' gate",
        ),
        # What the summary brings forward "Before the visit", and what a list's rows are about.
        (lambda d: _item(d, "trauma.discuss").update(before_visit="urgent"), "not one of"),
        (
            lambda d: _item(d, "general.severe_episode").update(before_visit="own_words"),
            "own_words needs a text answer",
        ),
        (
            lambda d: _item(d, "general.severe_list").update(before_visit="own_words"),
            "own_words needs a text answer",
        ),
        (
            lambda d: [
                _item(d, i).pop("before_visit")
                for i in ("general.visit_priorities", "general.main_concerns")
            ],
            "no question asks the patient about the visit in own words",
        ),
        (
            lambda d: _section(d, "diet")["reaction"]["parts"].update(subject="onset"),
            "the subject 'onset' is not the patient's words",
        ),
        (
            lambda d: _section(d, "med")["reaction"]["parts"].update(subject="brand"),
            "names a missing field 'brand'",
        ),
    ],
)
def test_the_validator_catches_planted_mistakes(
    raw: dict[str, Any], mutate: Any, expected: str
) -> None:
    data = copy.deepcopy(raw)
    mutate(data)
    problems = catalog_problems(parse_catalog(data))
    assert any(expected in p for p in problems), problems


def test_unquoted_yes_and_no_are_refused(tmp_path: Path) -> None:
    text = CATALOG_PATH.read_text(encoding="utf-8").replace('- ["yes", "Yes"]', "- [yes, Yes]", 1)
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match="quoted"):
        parse_catalog(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_unknown_keys_are_refused(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    _item(data, "stress.ongoing")["enable_wen"] = {}
    with pytest.raises(CatalogError, match="unknown keys"):
        parse_catalog(data)


def test_reaction_blocks_are_expanded_with_their_lead() -> None:
    catalog = get_catalog()
    noticed = catalog.item("sleep.reaction.noticed")
    assert noticed.text.startswith(
        "On the day after a night of poor or short sleep, have you noticed"
    )
    assert catalog.item("pain.reaction.noticed").enable_when is not None
    assert not catalog.has_item("diet.reaction.noticed")  # embedded per food row instead


# --- released versions: stored answers are read back with the questions they were given under ---


def test_the_current_catalog_is_the_version_it_was_released_as() -> None:
    version = get_catalog().version
    digest = content_digest(CATALOG_PATH)
    released = released_digests()
    assert released.get(version) == digest, (
        f"forms/catalog.yaml changed, but answers already stored under {version} must keep "
        f"meaning what they meant. Copy the released file to forms/archive/catalog-{version}.yaml, "
        f"raise catalog_version, and add a line to forms/archive/RELEASED: "
        f"'<new version>  {digest}' (see forms/archive/README.md)."
    )
    assert not archived_path(version).exists(), "the current version lives in catalog.yaml only"


def test_every_earlier_version_is_kept_unchanged_and_keeps_the_rules() -> None:
    current = get_catalog().version
    archived = {p.name for p in ARCHIVE_DIR.glob("catalog-*.yaml")}
    earlier = {v: d for v, d in released_digests().items() if v != current}
    assert archived == {archived_path(v).name for v in earlier}, "RELEASED and the files differ"
    for version, digest in earlier.items():
        assert content_digest(archived_path(version)) == digest, f"{version} was changed"
        catalog = get_catalog(version)
        assert catalog.version == version
        assert catalog_problems(catalog) == []


def test_a_rule_added_later_holds_from_its_version_on(raw: dict[str, Any]) -> None:
    """Version 1.0 was released before the follow-up and list-field rules: it is read back as it
    was, while the same questions released again would be refused."""
    old = yaml.safe_load(archived_path("1.0").read_text(encoding="utf-8"))
    assert catalog_problems(parse_catalog(old)) == []
    old["catalog_version"] = raw["catalog_version"]
    problems = catalog_problems(parse_catalog(old))
    assert (
        "general.symptoms_other: follows general.symptoms's 'something_else', so is core too"
        in problems
    )
    assert "med.current.kind: does not offer prefer_not" in problems


def test_an_unknown_version_is_refused_clearly() -> None:
    for version in ("0.1", "../catalog", "1.0; rm"):
        with pytest.raises(UnknownCatalogVersion):
            get_catalog(version)


def test_reading_keys_leave_a_released_digest_as_it_was(tmp_path: Path) -> None:
    """``respondent``, ``declines``, ``before_visit`` and a reaction block's ``parts`` say how the
    summary reads the answers, not what was asked: a released version may gain them (1.0 and 1.1
    gained ``before_visit`` and the ``subject`` part); a question's words may not change."""
    data = yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8"))
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = content_digest(path)
    _item(data, "general.completed_by").pop("respondent")
    _item(data, "trauma.consent").pop("declines")
    _section(data, "diet")["reaction"].pop("parts")
    for item_id in ("general.visit_priorities", "general.severe_episode", "trauma.discuss"):
        _item(data, item_id).pop("before_visit")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert content_digest(path) == before
    _item(data, "general.completed_by")["text"] += "?"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert content_digest(path) != before
