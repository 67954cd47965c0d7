"""Read ``catalog.yaml`` into the typed catalog, expanding shared answer sets and reaction blocks.

Loading is strict: an unknown key or a non-string code is an error at import, so a typo in the
data cannot silently drop a question.

Answers are read with the catalog version they were given under: ``catalog.yaml`` is the current
version, and ``archive/catalog-<version>.yaml`` keeps every earlier one exactly as released, so a
submission from last year prints, shows and exports with the questions its patient saw.
``archive/RELEASED`` holds each version's SHA-256; a test fails when a released file changes
(see ``archive/README.md`` for how to release a new version).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from forms.schema import (
    Catalog,
    Condition,
    EnableWhen,
    Item,
    ListField,
    Option,
    ReactionBlock,
    Section,
)
from forms.types import FIELD_TYPES, TYPES

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
ARCHIVE_DIR = Path(__file__).with_name("archive")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")

_ITEM_KEYS = {
    "id",
    "core",
    "text",
    "help",
    "type",
    "answers",
    "answers_from",
    "exclusive",
    "max_length",
    "rows",
    "min",
    "max",
    "anchors",
    "fields",
    "max_rows",
    "enable_when",
    "clinic_enabled_only",
    "nonanswer_exempt",
    "respondent",
    "declines",
    "before_visit",
    "sources",
}
#: Keys that say how the service reads the answers, not what the patient was asked: the digest
#: of a released version leaves them out, so they can be added to it later (its questions,
#: options and codes stay as released).
READING_ITEM_KEYS = ("respondent", "declines", "before_visit")
READING_REACTION_KEYS = ("parts",)


class CatalogError(ValueError):
    """The catalog file does not have the shape the service needs."""


def _options(
    raw: Any, answer_sets: dict[str, tuple[Option, ...]], where: str
) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        if raw not in answer_sets:
            raise CatalogError(f"{where}: unknown answer set {raw!r}")
        return answer_sets[raw]
    options = []
    for entry in raw:
        if not 2 <= len(entry) <= 3 or not all(isinstance(part, str) for part in entry):
            # PyYAML reads unquoted yes/no as booleans: insist on strings.
            raise CatalogError(f"{where}: answer {entry!r} must be 2 or 3 quoted strings")
        options.append(Option(*entry))
    return tuple(options)


def _condition(raw: dict[str, Any], where: str) -> Condition:
    answers = raw["answer"]
    answers = tuple(answers) if isinstance(answers, list) else (answers,)
    if not all(isinstance(a, str) for a in answers):
        raise CatalogError(f"{where}: enable-when answers must be quoted strings: {answers!r}")
    if raw["op"] not in ("=", "!=", "any_of"):
        raise CatalogError(f"{where}: unknown operator {raw['op']!r}")
    return Condition(item=raw["item"], op=raw["op"], answers=answers)


def _enable_when(raw: dict[str, Any] | None, where: str) -> EnableWhen | None:
    if raw is None:
        return None
    parts = raw.get("any", [raw])
    return EnableWhen(tuple(_condition(part, where) for part in parts))


def _fill(value: Any, cat: str, lead: str) -> Any:
    """Put the section id and lead into a reaction-block template value."""
    if isinstance(value, str):
        return value.replace("{cat}", cat).replace("{lead}", lead)
    if isinstance(value, list):
        return [_fill(v, cat, lead) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, cat, lead) for k, v in value.items()}
    return value


def _item(
    raw: dict[str, Any],
    section_id: str,
    sets: dict[str, tuple[Option, ...]],
    loaded: dict[str, Item],
    reaction_part: str | None = None,
) -> Item:
    where = raw.get("id", f"{section_id}.?")
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")
    if raw["type"] not in TYPES:
        raise CatalogError(f"{where}: unknown type {raw['type']!r}")
    fields = []
    for f in raw.get("fields", []):
        if f["type"] not in FIELD_TYPES:
            raise CatalogError(f"{where}.{f['id']}: unknown field type {f['type']!r}")
        if "answers_from" in f:
            source = loaded[f["answers_from"]]
            opts = tuple(o for o in source.options if o.code not in source.exclusive)
        else:
            opts = _options(f.get("answers"), sets, f"{where}.{f['id']}")
        kind = FIELD_TYPES[f["type"]]
        new = ListField(
            id=f["id"],
            label=f["label"],
            type=f["type"],
            kind=kind,
            options=opts,
            max_length=f.get("max_length"),
            core=f.get("core", True),
            answers_from=f.get("answers_from"),
        )
        fields.append(replace(new, exclusive=kind.implied_exclusive(new)))
    return Item(
        id=raw["id"],
        section_id=section_id,
        text=raw["text"],
        type=raw["type"],
        kind=TYPES[raw["type"]],
        core=bool(raw["core"]),
        help=raw.get("help"),
        options=_options(raw.get("answers"), sets, where),
        exclusive=tuple(raw.get("exclusive", ())),
        max_length=raw.get("max_length"),
        rows=_options(raw.get("rows"), sets, where),
        scale_min=raw.get("min", 0),
        scale_max=raw.get("max", 10),
        anchors=tuple(raw.get("anchors", ())),
        fields=tuple(fields),
        max_rows=raw.get("max_rows", 0),
        enable_when=_enable_when(raw.get("enable_when"), where),
        clinic_opt_in=bool(raw.get("clinic_enabled_only", False)),
        nonanswer_exempt=bool(raw.get("nonanswer_exempt", False)),
        respondent=bool(raw.get("respondent", False)),
        declines=raw.get("declines"),
        before_visit=raw.get("before_visit"),
        reaction_part=reaction_part,
        sources=tuple(raw.get("sources") or ()),
    )


def _reaction_items(
    section: dict[str, Any],
    template: list[dict[str, Any]],
    sets: dict[str, tuple[Option, ...]],
    loaded: dict[str, Item],
) -> list[Item]:
    """Expand the shared reaction block for one section (ids ``<section>.reaction.<suffix>``)."""
    reaction = section["reaction"]
    cat, lead = section["id"], reaction["lead"]
    block_core = reaction.get("core", True)
    items = []
    for part in template:
        raw = {k: _fill(v, cat, lead) for k, v in part.items() if k != "suffix"}
        raw["id"] = f"{cat}.reaction.{part['suffix']}"
        raw["core"] = bool(part["core"]) and block_core
        if part["suffix"] == "noticed":
            if reaction.get("gate"):
                raw["enable_when"] = reaction["gate"]
            if reaction.get("lead_help"):
                raw["help"] = reaction["lead_help"]
        item = _item(raw, cat, sets, loaded, reaction_part=part["suffix"])
        loaded[item.id] = item
        items.append(item)
    return items


def parse_catalog(data: dict[str, Any]) -> Catalog:
    """Build the typed catalog from the parsed YAML document."""
    version = data["catalog_version"]
    if not isinstance(version, str):
        raise CatalogError("catalog_version must be a quoted string")
    sets = {
        name: _options(raw, {}, f"answer set {name}") for name, raw in data["answer_sets"].items()
    }
    template = data["reaction_block"]["items"]
    loaded: dict[str, Item] = {}
    sections = []
    for raw_section in data["sections"]:
        sid = raw_section["id"]
        items = []
        for raw_item in raw_section["items"]:
            item = _item(raw_item, sid, sets, loaded)
            loaded[item.id] = item
            items.append(item)
        reaction = None
        if raw_section.get("reaction"):
            spec = raw_section["reaction"]
            if spec.get("embedded_in") is None:
                expanded = _reaction_items(raw_section, template, sets, loaded)
                items.extend(expanded)
                parts = {i.reaction_part: i.id for i in expanded if i.reaction_part}
            else:
                parts = dict(spec.get("parts") or {})
            reaction = ReactionBlock(
                lead=spec["lead"], embedded_in=spec.get("embedded_in"), parts=parts
            )
        sections.append(
            Section(
                id=sid,
                title=raw_section["title_patient"],
                title_pdf=raw_section["title_pdf"],
                intro=raw_section.get("intro", ""),
                article_category=raw_section.get("article_category"),
                items=tuple(items),
                reaction=reaction,
            )
        )
    return Catalog(version=version, sections=tuple(sections), answer_sets=sets)


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Parse a catalog file (tests use this with planted mistakes)."""
    with path.open(encoding="utf-8") as handle:
        return parse_catalog(yaml.safe_load(handle))


def content_digest(path: Path) -> str:
    """SHA-256 of a catalog file's data, not its bytes: comments and layout may change freely,
    while any change to a question, an option or a code changes the digest. The reading keys
    (``READING_ITEM_KEYS``, ``READING_REACTION_KEYS``) are left out."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    for section in data.get("sections", []):
        for key in READING_REACTION_KEYS:
            (section.get("reaction") or {}).pop(key, None)
        for item in section.get("items", []):
            for key in READING_ITEM_KEYS:
                item.pop(key, None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def released_digests() -> dict[str, str]:
    """``archive/RELEASED``: each released version and the digest of its data."""
    released: dict[str, str] = {}
    for line in (ARCHIVE_DIR / "RELEASED").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            version, digest = line.split()
            released[version] = digest
    return released


class UnknownCatalogVersion(LookupError):
    """Answers name a catalog version this service does not have (its archive file is missing)."""


def archived_path(version: str) -> Path:
    return ARCHIVE_DIR / f"catalog-{version}.yaml"


@cache
def _current() -> Catalog:
    return load_catalog(CATALOG_PATH)


@cache
def get_catalog(version: str | None = None) -> Catalog:
    """The catalog of ``version`` (the current one by default), read once per process.

    Everything that reads stored answers passes the version they were given under; new
    invitations take the current version.
    """
    current = _current()
    if version is None or version == current.version:
        return current
    path = archived_path(version)
    if not _VERSION.fullmatch(version) or not path.is_file():
        raise UnknownCatalogVersion(version)
    catalog = load_catalog(path)
    if catalog.version != version:
        raise UnknownCatalogVersion(f"{path.name} says it is version {catalog.version}")
    return catalog
