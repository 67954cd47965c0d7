"""Catalog invariants: the rules every question must keep, checked in the tests.

Each check returns readable problems instead of raising, so one run lists every mistake.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from forms.schema import BEFORE_VISIT_KINDS, NON_ANSWERS, NOT_SURE, PREFER_NOT, Catalog, Item

#: Longest free text a patient may type in any one box; long notes stay printable and fast.
MAX_TEXT_LENGTH = 5000
#: The thirteen article categories that each need a section of their own.
ARTICLE_CATEGORIES = (
    "Chronic stress",
    "Trauma",
    "Sleep disorders",
    "Diet",
    "Micronutrient deficiencies",
    "Chronic infections",
    "Medication",
    "Toxins",
    "Heavy metals",
    "Dental foci",
    "Chronic pain",
    "Hormonal imbalances",
    "Mitochondrial dysfunction",
)
#: Answers that mean "something not listed", which a free-text follow-up asks about.
OTHER_CODES = {"other", "something_else"}


def _offers(item: Item) -> set[str]:
    """The non-answers an item offers, whatever its type."""
    if item.kind.builtin_non_answers:
        return set(NON_ANSWERS)  # built into the widget
    return {o.code for o in item.options} & set(NON_ANSWERS)


def _check_ids(catalog: Catalog) -> list[str]:
    problems = []
    counts = Counter(item.id for item in catalog.items())
    problems += [f"{i}: id used {n} times" for i, n in counts.items() if n > 1]
    sections = Counter(section.id for section in catalog.sections)
    problems += [f"section {s}: id used {n} times" for s, n in sections.items() if n > 1]
    for item in catalog.items():
        if not item.id.startswith(item.section_id + "."):
            problems.append(f"{item.id}: id does not start with its section {item.section_id!r}")
        for what, codes in (("option", item.codes), ("row", tuple(r.code for r in item.rows))):
            dupes = [c for c, n in Counter(codes).items() if n > 1]
            problems += [f"{item.id}: {what} code {c!r} repeated" for c in dupes]
        field_ids = Counter(f.id for f in item.fields)
        problems += [f"{item.id}: field {f!r} repeated" for f, n in field_ids.items() if n > 1]
    return problems


def _check_enable_when(catalog: Catalog) -> list[str]:
    problems = []
    order = {item.id: n for n, item in enumerate(catalog.items())}
    for item in catalog.items():
        if item.enable_when is None:
            continue
        for cond in item.enable_when.conditions:
            if not catalog.has_item(cond.item):
                problems.append(f"{item.id}: enable-when refers to unknown item {cond.item}")
                continue
            target = catalog.item(cond.item)
            if order[target.id] >= order[item.id]:
                problems.append(
                    f"{item.id}: enable-when target {target.id} does not come before it"
                )
            if not target.kind.can_gate:
                problems.append(f"{item.id}: enable-when target {target.id} is not a choice")
            for code in cond.answers:
                if code not in target.codes:
                    problems.append(f"{item.id}: enable-when code {code!r} not in {target.id}")
    return problems


def _check_answers(catalog: Catalog) -> list[str]:
    problems = []
    for item in catalog.items():
        if item.kind.choice and not item.options:
            problems.append(f"{item.id}: a {item.type} question has no answers")
        if not item.nonanswer_exempt and item.kind.asks_non_answers:
            missing = {NOT_SURE, PREFER_NOT} - _offers(item)
            if missing:
                problems.append(f"{item.id}: does not offer {', '.join(sorted(missing))}")
        for code in item.exclusive:
            if code not in item.codes:
                problems.append(f"{item.id}: exclusive code {code!r} is not an answer")
        problems += item.kind.problems(item)
    return problems


def _check_list_fields(catalog: Catalog) -> list[str]:
    """A choice inside a list row offers the two non-answers like every other question (a row's
    subject, chosen from another question's answers, excepted)."""
    problems = []
    for item in catalog.items():
        for f in item.fields:
            if f.kind.choice and f.answers_from is None:
                missing = {NOT_SURE, PREFER_NOT} - {o.code for o in f.options}
                if missing:
                    problems.append(
                        f"{item.id}.{f.id}: does not offer {', '.join(sorted(missing))}"
                    )
    return problems


def _check_follow_ups(catalog: Catalog) -> list[str]:
    """A core question's "Something else" is followed by a core "What else?": as an optional
    question it would show only behind "Add more detail", and the patient who ticked "Something
    else" would never be asked what it was."""
    problems = []
    for item in catalog.items():
        if not item.kind.free_text or item.core or item.enable_when is None:
            continue
        for cond in item.enable_when.conditions:
            gate = catalog.item(cond.item) if catalog.has_item(cond.item) else None
            if gate is not None and gate.core and set(cond.answers) <= OTHER_CODES:
                problems.append(
                    f"{item.id}: follows {gate.id}'s {cond.answers[0]!r}, so is core too"
                )
    return problems


def _check_lengths(catalog: Catalog) -> list[str]:
    problems = []
    for item in catalog.items():
        boxes = [(item.id, item.max_length)] if item.kind.free_text else []
        boxes += [(f"{item.id}.{f.id}", f.max_length) for f in item.fields if f.kind.free_text]
        for where, limit in boxes:
            if limit is None or not 1 <= limit <= MAX_TEXT_LENGTH:
                problems.append(f"{where}: text needs a max_length between 1 and {MAX_TEXT_LENGTH}")
    return problems


def _check_sections(catalog: Catalog) -> list[str]:
    problems = []
    present = [s.article_category for s in catalog.sections if s.article_category]
    for category in ARTICLE_CATEGORIES:
        if present.count(category) != 1:
            problems.append(
                f"article category {category!r} appears {present.count(category)} times"
            )
    for section in catalog.sections:
        if not section.core_items:
            problems.append(f"section {section.id}: no core items")
        block = section.reaction
        if block and block.embedded_in:
            host = catalog.item(block.embedded_in) if catalog.has_item(block.embedded_in) else None
            if host is None or not host.kind.repeating:
                problems.append(f"section {section.id}: reaction embedded in a missing list")
        elif block and not catalog.has_item(f"{section.id}.reaction.noticed"):
            problems.append(f"section {section.id}: reaction block not expanded")
    return problems


def _check_reading(catalog: Catalog) -> list[str]:
    """The keys that tell the summary how to read answers point at what they claim to."""
    problems = []
    respondents = [item for item in catalog.items() if item.respondent]
    if len(respondents) > 1:
        problems.append(f"respondent: {len(respondents)} questions claim it, at most one may")
    problems += [
        f"{item.id}: the respondent question is not a single choice"
        for item in respondents
        if not item.kind.one_code
    ]
    for section in catalog.sections:
        for n, item in enumerate(section.items):
            if item.declines is None:
                continue
            if item.declines not in item.codes:
                problems.append(f"{item.id}: declines with {item.declines!r}, not an answer")
            if n != 0:
                problems.append(f"{item.id}: a question that declines a section must come first")
        block = section.reaction
        if block is None:
            continue
        if "noticed" not in block.parts:
            problems.append(f"section {section.id}: reaction block names no 'noticed' part")
        if block.embedded_in and catalog.has_item(block.embedded_in):
            host = catalog.item(block.embedded_in)
            fields = {f.id for f in host.fields}
            problems += [
                f"section {section.id}: reaction part {part!r} names a missing field {name!r}"
                for part, name in block.parts.items()
                if name not in fields
            ]
            subject = block.parts.get("subject")
            named = next((f for f in host.fields if f.id == subject), None)
            if named is not None and not named.kind.free_text:
                problems.append(
                    f"section {section.id}: the subject {subject!r} is not the patient's words"
                )
            conditions = host.enable_when.conditions if host.enable_when else ()
            if len(conditions) != 1 or conditions[0].op != "=":
                problems.append(f"{host.id}: a list with a reaction block needs one '=' gate")
    return problems + _check_before_visit(catalog)


def _own_words(item: Item) -> bool:
    """Whether the answer is words the patient typed: a text box, or a list of text boxes."""
    if item.kind.repeating:
        return bool(item.fields) and all(f.kind.free_text for f in item.fields)
    return item.kind.free_text


def _check_before_visit(catalog: Catalog) -> list[str]:
    """What the summary brings forward "Before the visit" is named by the catalog, validly."""
    problems = []
    for item in catalog.items():
        if item.before_visit is None:
            continue
        if item.before_visit not in BEFORE_VISIT_KINDS:
            problems.append(
                f"{item.id}: before_visit is {item.before_visit!r}, not one of "
                f"{', '.join(BEFORE_VISIT_KINDS)}"
            )
        elif item.before_visit == "own_words" and not _own_words(item):
            problems.append(f"{item.id}: before_visit own_words needs a text answer")
    if not any(item.before_visit == "own_words" for item in catalog.items()):
        problems.append("before_visit: no question asks the patient about the visit in own words")
    return problems


#: Rules added after a version was released, with the first version they apply to. A released
#: catalog never changes (its answers are read back with it), so a new rule cannot mend it.
LATER_RULES: tuple[tuple[str, Callable[[Catalog], list[str]]], ...] = (
    ("1.1", _check_list_fields),
    ("1.1", _check_follow_ups),
)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def catalog_problems(catalog: Catalog) -> list[str]:
    """Every rule the catalog breaks; an empty list means the catalog is sound."""
    problems = (
        _check_ids(catalog)
        + _check_enable_when(catalog)
        + _check_answers(catalog)
        + _check_lengths(catalog)
        + _check_sections(catalog)
        + _check_reading(catalog)
    )
    for since, rule in LATER_RULES:
        if _version_key(catalog.version) >= _version_key(since):
            problems += rule(catalog)
    return problems
