"""One virtual patient of the load bench: what they would answer, and the flow a browser follows.

The answers start from the demo patient's (``intake.intakes.demo``), varied per patient: some
questions skipped, some choices changed, free text in several languages and scripts, lists of one
to three rows, "Add more detail" opened on some parts. The patient answers what each page shows
(its ``_shown`` fields), never what a plan assumes: a changed answer that opens or closes a
follow-up is followed as a person would. Every field is posted as a browser posts it
(``AnswerType.posted``, hidden inputs taken from the page's own form, line breaks as CRLF).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from forms.builder import posted_fields
from forms.schema import Catalog, Item
from forms.types.text import multiline

#: Words patients type: accents, other scripts, an emoji; none leads or interprets.
PHRASES = (
    "Worse after a hot shower, better in the cool.",
    "Müde und schwindlig am Nachmittag.",
    "Réaction après le café, pas toujours.",
    "夜になると悪化します",
    "Не всегда, зависит от дня.",
    "Hard to say, it varies 🙂",
)
#: Left free below each box's limit, whatever way a limit counts characters.
MARGIN = 10


@dataclass(frozen=True)
class Persona:
    """What one patient would answer (stored form, by item id) and where they add detail."""

    answers: dict[str, Any]
    detail: frozenset[str]


def make_persona(catalog: Catalog, base: dict[str, Any], rng: random.Random) -> Persona:
    """The demo answers ``base``, varied: about 8% skipped, the rest changed now and then."""
    answers: dict[str, Any] = {}
    for item in catalog.items():
        if item.id not in base or item.clinic_opt_in or rng.random() < 0.08:
            continue
        answers[item.id] = _vary(item, base[item.id], rng)
    optional = [s.id for s in catalog.sections if any(not i.core for i in s.items)]
    return Persona(answers, frozenset(s for s in optional if rng.random() < 0.4))


def _vary(item: Item, value: Any, rng: random.Random) -> Any:
    kind = item.kind
    if kind.repeating:
        count = rng.randint(1, min(3, item.max_rows))
        return [_row(item, value[n % len(value)], n, rng) for n in range(count)]
    if kind.free_text:
        return _text(str(value), item.max_length, rng)
    if kind.one_code and rng.random() < 0.2:
        return rng.choice([o.code for o in item.options])
    if kind.choice and isinstance(value, list):
        picked = list(value)
        if not set(value) & set(item.exclusive) and rng.random() < 0.3:
            picked = rng.sample(value, rng.randint(1, len(value)))
        return [o.code for o in item.options if o.code in picked]  # checkboxes post in page order
    return value


def _row(item: Item, row: dict[str, Any], n: int, rng: random.Random) -> dict[str, Any]:
    out = dict(row)
    for f in item.fields:
        if f.id in out and f.kind.free_text:
            out[f.id] = _text(f"{out[f.id]} {n + 1}", f.max_length, rng, lines=False)
    return out


def _text(value: str, max_length: int | None, rng: random.Random, lines: bool = True) -> str:
    roll = rng.random()
    if roll < 0.3:
        value = f"{value} {rng.choice(PHRASES)}"
    elif roll < 0.45:
        value = rng.choice(PHRASES)
    if lines and multiline(max_length) and rng.random() < 0.3:
        value = f"{value}\n{rng.choice(PHRASES)}"
    limit = max(1, (max_length or 200) - MARGIN)
    return value[:limit].strip() or "Yes"


# --- pages ---------------------------------------------------------------------------------------
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input\b([^>]*)>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_ASSET = re.compile(r'<(?:link|script)\b[^>]*(?:href|src)="(/static/[^"]+)"')
#: What a page holds for its scripts to add (a list entry, "Add more detail"): not on the page.
_TEMPLATE = re.compile(r"<template\b.*?</template>", re.S)


@dataclass(frozen=True)
class PageForm:
    """One form of a page: where it posts, its hidden inputs in page order, and its markup."""

    action: str
    hidden: list[tuple[str, str]]
    body: str


def page_form(html: str, action: str) -> PageForm | None:
    """The page's form that posts to ``action`` (a path), as a browser would send it."""
    for match in _FORM.finditer(html):
        attrs = {k: unescape(v) for k, v in _ATTR.findall(match.group(1))}
        if attrs.get("action", "").split("?", 1)[0] != action:
            continue
        body = _TEMPLATE.sub("", match.group(2))
        hidden = []
        for tag in _INPUT.findall(body):
            attr = {k: unescape(v) for k, v in _ATTR.findall(tag)}
            if attr.get("type") == "hidden" and "name" in attr:
                hidden.append((attr["name"], attr.get("value", "")))
        return PageForm(attrs["action"], hidden, body)
    return None


def page_assets(html: str) -> list[str]:
    """The stylesheets and scripts a browser fetches with the page (the first time)."""
    return sorted(set(_ASSET.findall(html)))


# --- the patient ---------------------------------------------------------------------------------
@dataclass
class VirtualPatient:
    """One invited patient and everything they sent, for the verifier."""

    public_id: str
    token: str
    dob: tuple[int, int, int]
    persona: Persona
    #: Item id -> the value of the last save the server accepted (None: sent empty).
    sent: dict[str, Any] = field(default_factory=dict)
    #: Sections whose "Add more detail" the server confirmed.
    opened: set[str] = field(default_factory=set)
    #: List item id -> rows typed so far.
    rows: dict[str, int] = field(default_factory=dict)
    #: Buttons pressed on step pages (next, more, add), for the report.
    pressed: Counter[str] = field(default_factory=Counter)
    started: bool = False
    submitted_at: float | None = None  # perf_counter when "Send my answers" was pressed
    submitted: bool = False
    done: bool = False
    error: str | None = None

    def expected_draft(self) -> dict[str, Any]:
        return {k: v for k, v in self.sent.items() if v is not None}


@dataclass(frozen=True)
class StepPost:
    """What the patient sends from one step page, and what it will mean once accepted."""

    pairs: list[tuple[str, str]]
    action: str
    values: dict[str, Any]


def _pairs(fields: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            out.append((name, str(one).replace("\n", "\r\n")))  # a textarea posts CRLF
    return out


def step_post(catalog: Catalog, patient: VirtualPatient, section: str, form: PageForm) -> StepPost:
    """Fill in the shown questions, then press the button a person would press next: "Add more
    detail" first where they want it, then "Save and add another" for each further list row,
    then "Save and continue"."""
    shown = [v for k, v in form.hidden if k == "_shown"]
    fields: dict[str, Any] = {}
    values: dict[str, Any] = {}
    add = None
    for item_id in shown:
        item = catalog.item(item_id)
        want = patient.persona.answers.get(item_id)
        if want is None:
            values[item_id] = None
            fields.update(_blank(item))
            continue
        if item.kind.repeating:
            typed = min(patient.rows.get(item_id, 1), len(want))
            want = want[:typed]
            if typed < len(patient.persona.answers[item_id]) and add is None:
                add = item_id
        values[item_id] = want
        fields.update(posted_fields(item, want))
    if (
        section in patient.persona.detail
        and section not in patient.opened
        and ('value="more"' in form.body)
    ):
        action = "more"
    elif add is not None:
        action = f"add:{add}"
    else:
        action = "next"
    return StepPost([*form.hidden, *_pairs(fields), ("action", action)], action, values)


def _blank(item: Item) -> dict[str, Any]:
    """What a browser posts for a shown question left alone: its empty text boxes."""
    if item.kind.free_text:
        return {item.id: ""}
    if item.kind.repeating:
        return {f"{item.id}-0-{f.id}": "" for f in item.fields if f.kind.free_text}
    return {}


def accepted(patient: VirtualPatient, section: str, post: StepPost) -> None:
    """Record a save the server answered with a redirect."""
    patient.sent.update(post.values)
    patient.pressed[post.action.split(":", 1)[0]] += 1
    if post.action == "more":
        patient.opened.add(section)
    elif post.action.startswith("add:"):
        item_id = post.action.removeprefix("add:")
        patient.rows[item_id] = patient.rows.get(item_id, 1) + 1
