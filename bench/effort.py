"""How much the form asks of a patient, counted from the pages it shows (issue 15, item 3).

    .venv/bin/python bench/effort.py     # today's catalog (bench/run.py prints the same)

A patient is driven through the whole form with the Flask test client, the way a browser would:
each step page is loaded, every question it shows is answered and the page posted with the
button a patient presses; a follow-up that appears reloads the page, and "Add more detail" too.
Three paths: the core questions with every gate answered the way that opens nothing ("No",
"None of these"), the core questions with every gate answered the way that opens all its
follow-ups ("Yes"), and the same with "Add more detail" opened on every step.

Counted from the HTML of the pages the patient loads, never from the catalog: a *question* is
one place to answer (a question, or one row of a grid), counted once however often its page is
shown again, and a list entry (a medicine, a food) counts as one; its inputs are its *controls*.
The estimate, as the issue counts it: 7 s a choice (a radio or checkbox group, a scale, a
4-digit year), 20 s a free-text box, 12 s a list entry, and ``PAGE_LOAD_SECONDS`` a page load
(a tap, the server, a phone's network, and finding one's place at the top of the new page).
12 s is little for an entry of five boxes, so the figures say too what the entries' fields
would cost priced one by one, as the questions are.

"Yes" opens every follow-up of the topic but never ticks "Something else" (its "What else?" box
is the patient's own extra, not the topic's questions: 20 s more each time it is ticked). Every
list gets one entry. Pages: the date-of-birth page, the welcome page, every load of a step page,
the review page and the done page (counted, not made: sending would render a PDF). The answers
are chosen from the catalog (which code opens what); what is counted is what the pages show.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

SECONDS_CHOICE = 7
SECONDS_TEXT = 20
SECONDS_LIST_ENTRY = 12
#: An assumption: a tap, a server answer in milliseconds, a phone's network, and the eye
#: finding its place again at the top of the new page.
PAGE_LOAD_SECONDS = 3
#: The goal of issue 15, item 3, in minutes (the core "No" path has none).
GOALS = {"core, every gate Yes": 6.0, "all detail": 14.0}
PATHS = ("core, every gate No", "core, every gate Yes", "all detail")
#: The two "Yes" paths again for a patient whose reactions are alike after every topic: after
#: the first topic's, each reaction block is answered with its "Same as for <topic>" button (one
#: press, counted as one choice, and the page load it costs) instead of question by question.
ALIKE = {
    "core, Yes, reactions alike": "core, every gate Yes",
    "all detail, reactions alike": "all detail",
}
#: The codes a "No" prefers, in this order, among the answers that open nothing.
NO_CODES = ("no", "none", "never", "not_at_all")
#: "Something else": a "Yes" never ticks it (its "What else?" box is the patient's own extra).
SOMETHING_ELSE = ("something_else", "other")
DOB = date(1984, 3, 9)


@dataclass
class Effort:
    """What one path through the form asked for."""

    choices: int = 0
    texts: int = 0
    entries: int = 0
    #: The fields of those entries: choices and free texts.
    entry_choices: int = 0
    entry_texts: int = 0
    controls: int = 0
    page_loads: int = 0
    #: "Same as for <topic>" presses (each counted as a choice).
    same_presses: int = 0

    @property
    def questions(self) -> int:
        return self.choices + self.texts + self.entries

    @property
    def seconds(self) -> int:
        return (
            self.choices * SECONDS_CHOICE
            + self.texts * SECONDS_TEXT
            + self.entries * SECONDS_LIST_ENTRY
            + self.page_loads * PAGE_LOAD_SECONDS
        )

    @property
    def minutes(self) -> float:
        return self.seconds / 60

    @property
    def minutes_by_field(self) -> float:
        """The same with each entry's fields priced as questions instead of 12 s an entry."""
        fields = self.entry_choices * SECONDS_CHOICE + self.entry_texts * SECONDS_TEXT
        return (self.seconds - self.entries * SECONDS_LIST_ENTRY + fields) / 60

    def __str__(self) -> str:
        return (
            f"{self.questions} questions ({self.choices} choices, {self.texts} free texts, "
            f"{self.entries} list entries of {self.entry_choices + self.entry_texts} fields), "
            f"{self.controls} controls, {self.page_loads} page loads "
            f"({self.page_loads * PAGE_LOAD_SECONDS / 60:.1f} min of it); "
            f"entries priced field by field: {self.minutes_by_field:.1f} min"
            + (f"; {self.same_presses} 'Same as' presses" if self.same_presses else "")
        )


# --- reading a page ------------------------------------------------------------------------------
@dataclass
class Unit:
    """One place to answer on a page, with the inputs that are its own (not a nested unit's)."""

    key: str
    entry: str | None
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)

    @property
    def text(self) -> bool:
        return any(kind in ("textarea", "text") for kind, _ in self.inputs)


class PageReader(HTMLParser):
    """The answer places of a step page (see the templates of ``templates/patient/``), its
    ``_shown`` ids, its version and the actions its buttons offer."""

    UNIT_CLASSES = ("question", "grid-row", "row-field", "year")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.units: list[Unit] = []
        self.shown: list[str] = []
        self.version = ""
        self.actions: set[str] = set()
        #: The value of the page's "Same as for <topic>" button, if it offers one.
        self.same: str | None = None
        self._stack: list[tuple[str, Unit | None, str | None]] = []

    def _open(self) -> Unit | None:
        units = [unit for _, unit, _ in self._stack if unit is not None]
        return units[-1] if units else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "input" and a.get("type") == "hidden":
            if a.get("name") == "_shown":
                self.shown.append(a.get("value", ""))
            elif a.get("name") == "_version":
                self.version = a.get("value", "")
            return
        if tag == "button" and a.get("name") == "action":
            self.actions.add(a.get("value", "").split(":", 1)[0])
            if a.get("value", "").startswith("same:"):
                self.same = a["value"]
        if tag in ("input", "textarea"):
            unit = self._open()
            if unit is not None:
                kind = "textarea" if tag == "textarea" else a.get("type", "text")
                if "year-box" in classes:
                    kind = "year"
                unit.inputs.append((kind, a.get("name", "")))
            return
        if tag not in ("div", "fieldset", "p", "label", "span", "legend", "ul", "li", "a"):
            return
        entries = [entry for _, _, entry in self._stack if entry]
        entry = entries[-1] if entries else None
        if "list-row" in classes:
            entry = a.get("id") or "entry"
        unit = None
        if any(c in classes for c in self.UNIT_CLASSES):
            unit = Unit(a.get("id", ""), entry)
            self.units.append(unit)
        self._stack.append((tag, unit, entry))

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self._stack) - 1, -1, -1):
            if self._stack[n][0] == tag:
                del self._stack[n:]
                return


def read_page(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


# --- answering as a patient would ----------------------------------------------------------------
Chooser = Callable[[Any], Any]


def _opened(catalog: Any, item: Any, codes: set[str]) -> set[str]:
    """The items whose enable-when holds when ``item`` is answered with ``codes`` alone."""
    opened = set()
    for other in catalog.items():
        for cond in other.enable_when.conditions if other.enable_when else ():
            if cond.item != item.id:
                continue
            hit = codes & set(cond.answers)
            if (not hit and codes) if cond.op == "!=" else hit:
                opened.add(other.id)
    return opened


def gate_answer(catalog: Any, item: Any, yes: bool) -> Any:
    """A gate's answer: the codes that open all its follow-ups, or a code that opens none."""
    from forms.schema import NON_ANSWERS

    codes = [c for c in item.codes if c not in NON_ANSWERS]
    multi = item.kind.name == "multi"
    if yes:
        if not multi:
            plain = [c for c in codes if c not in SOMETHING_ELSE]
            return max(plain, key=lambda c: len(_opened(catalog, item, {c})))
        picked: list[str] = []
        reached: set[str] = set()
        for code in (c for c in codes if c not in (*item.exclusive, *SOMETHING_ELSE)):
            more = _opened(catalog, item, {code}) - reached
            if more:
                picked.append(code)
                reached |= more
        return picked or item.kind.example(item)
    closed = [c for c in codes if not _opened(catalog, item, {c})]
    preferred = [c for c in NO_CODES if c in closed] or closed or codes
    return [preferred[0]] if multi else preferred[0]


def answer_for(catalog: Any, gates: set[str], item: Any, yes: bool) -> Any:
    if item.id in gates:
        return gate_answer(catalog, item, yes)
    return item.kind.example(item)


class Patient:
    """One patient on one path, signed in on a test client of ``app``."""

    def __init__(self, app: Any, yes: bool, detail: bool, alike: bool = False) -> None:
        from forms.loader import get_catalog
        from intake import db
        from intake.intakes.invitations import create_invitation

        self.client = app.test_client()
        self.catalog = get_catalog()
        self.gates = {
            c.item for i in self.catalog.items() if i.enable_when for c in i.enable_when.conditions
        }
        self.yes, self.detail, self.alike = yes, detail, alike
        self.effort = Effort()
        self._seen: set[str] = set()
        self._entries: set[str] = set()
        with app.app_context(), db.transaction() as tx:
            new = create_invitation(tx, "Effort Bench-Patient", DOB, None, 14)
            self.token = new.token

    def load(self, url: str) -> str:
        response = self.client.get(url)
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        self.effort.page_loads += 1
        return str(response.get_data(as_text=True))

    def post(self, url: str, data: dict[str, Any]) -> str:
        response = self.client.post(url, data=data)
        if response.status_code != 303:
            raise AssertionError(f"POST {url} answered {response.status_code}, not a redirect")
        return str(response.headers["Location"])

    def count(self, page: PageReader, posted: dict[str, Any]) -> None:
        """Count the page's answer places this post answers, each once over the path."""
        for unit in page.units:
            names = {name for _, name in unit.inputs}
            if not names & posted.keys() or not unit.inputs:
                continue
            key = unit.key or sorted(names)[0]
            if key in self._seen:
                continue
            self._seen.add(key)
            self.effort.controls += len(unit.inputs)
            if unit.entry:
                self._entries.add(unit.entry)
            if unit.entry and unit.text:
                self.effort.entry_texts += 1
            elif unit.entry:
                self.effort.entry_choices += 1
            elif unit.text:
                self.effort.texts += 1
            else:
                self.effort.choices += 1
        self.effort.entries = len(self._entries)

    def step(self, url: str) -> str:
        """One step: answer what it shows, press its buttons, until it moves on."""
        from forms.builder import posted_fields

        path = urlsplit(url).path
        html = self.load(url)
        opened_detail = False
        for _ in range(20):
            page = read_page(html)
            data: dict[str, Any] = {}
            for item_id in page.shown:
                item = self.catalog.item(item_id)
                value = answer_for(self.catalog, self.gates, item, self.yes)
                data.update(posted_fields(item, value))
            action = "next"
            if self.alike and page.same:  # the block is the button's to fill, not answered
                block = self.block_ids(path)
                data = {k: v for k, v in data.items() if k.split("-", 1)[0] not in block}
            if self.detail and "more" in page.actions and not opened_detail:
                action, opened_detail = "more", True
            elif self.alike and page.same:
                action = self.press_same(path, page)
            self.count(page, data)
            form = {**data, "_version": page.version, "_shown": page.shown, "action": action}
            where = self.post(path, form)
            if urlsplit(where).path != path:
                return where
            html = self.load(where)
        raise AssertionError(f"{path} never moved on")

    def block_ids(self, path: str) -> set[str]:
        """The ids of the reaction block of the step at ``path``."""
        section = self.catalog.section(path.rsplit("/", 1)[-1])
        return set(section.reaction.parts.values()) if section.reaction else set()

    def press_same(self, path: str, page: PageReader) -> str:
        """ "Same as for <topic>": one choice; the block's questions are then filled in, never
        answered one by one (those that appear with the copy included)."""
        assert page.same is not None
        self._seen.update(f"q-{item_id}" for item_id in self.block_ids(path))
        self.effort.choices += 1
        self.effort.same_presses += 1
        return page.same

    def walk(self) -> Effort:
        assert self.client.get(f"/start?t={self.token}").status_code == 303
        self.load("/verify")
        day = {"dob-day": DOB.day, "dob-month": DOB.month, "dob-year": DOB.year}
        where = self.post("/verify", day)
        self.load(where)
        where = self.post(urlsplit(where).path, {})
        while urlsplit(where).path.startswith("/step/"):
            where = self.step(where)
        assert urlsplit(where).path == "/review", where
        self.load(where)
        self.effort.page_loads += 1  # the done page, after "Send" (not pressed: no PDF made)
        return self.effort


def measure(app: Any, alike: bool = False) -> dict[str, Effort]:
    """The three paths' figures for the catalog in force, each on a patient of its own (and,
    with ``alike``, the two "Yes" paths taking "Same as for <topic>" too: ``ALIKE``)."""
    plans = {
        PATHS[0]: (False, False, False),
        PATHS[1]: (True, False, False),
        PATHS[2]: (True, True, False),
    }
    if alike:
        plans |= {name: (True, plain == PATHS[2], True) for name, plain in ALIKE.items()}
    return {name: Patient(app, *plan).walk() for name, plan in plans.items()}


def report(app: Any, emit: Callable[..., None], heading: Callable[[str], None]) -> None:
    """Print the figures through bench/run.py's ``emit`` (the goal as its target)."""
    heading(
        f"Patient effort, counted from the pages ({SECONDS_CHOICE} s a choice, {SECONDS_TEXT} s "
        f"a free text, {SECONDS_LIST_ENTRY} s a list entry, {PAGE_LOAD_SECONDS} s a page load)"
    )
    for name, effort in measure(app, alike=True).items():
        goal = GOALS.get(ALIKE.get(name, name))
        figure = f"{effort.questions} questions, {effort.minutes:.1f} min"
        if goal is None:
            emit(f"effort, {name}", figure)
        else:
            emit(f"effort, {name}", figure, f"<= {goal:g} min", effort.minutes <= goal)
        print(f"    {effort}")


def main() -> int:
    import tempfile
    from pathlib import Path

    from run import bench_app, emit, heading  # bench/run.py, beside this file

    with tempfile.TemporaryDirectory(prefix="intake-effort-") as tmp, bench_app(Path(tmp)) as app:
        report(app, emit, heading)
    return 0


if __name__ == "__main__":
    sys.exit(main())
