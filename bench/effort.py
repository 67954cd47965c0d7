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

Each path twice: scripts off, as the test client loads pages, and scripts on, as
``static/reveal.js`` goes by the page's own data (``bench/effort_pages.py``): the follow-ups it
draws hidden with their conditions, and "Add more detail", appear with the answers on the same
load; a list with a template entry adds an entry without a reload. The patient itself is
``bench/effort_patient.py``; the answers it gives, ``bench/effort_answers.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.* and the app

from bench.effort_patient import (
    PAGE_LOAD_SECONDS,
    SECONDS_CHOICE,
    SECONDS_LIST_ENTRY,
    SECONDS_TEXT,
    Effort,
    Patient,
)

__all__ = ["PAGE_LOAD_SECONDS", "SECONDS_CHOICE", "SECONDS_LIST_ENTRY", "SECONDS_TEXT", "Effort"]

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
#: The paths' names with scripts on (kept short for the report's column).
SCRIPTS_ON = {
    "core, every gate No": "core No, scripts on",
    "core, every gate Yes": "core Yes, scripts on",
    "all detail": "all detail, scripts on",
    "core, Yes, reactions alike": "Yes, alike, scripts on",
    "all detail, reactions alike": "detail, alike, scripts on",
}


def measure(app: Any, alike: bool = False, scripts: bool = False) -> dict[str, Effort]:
    """The three paths' figures for the catalog in force, each on a patient of its own (and,
    with ``alike``, the two "Yes" paths taking "Same as for <topic>" too: ``ALIKE``), as the
    pages go with scripts off (the test client's) or on (``scripts``)."""
    plans = {
        PATHS[0]: (False, False, False),
        PATHS[1]: (True, False, False),
        PATHS[2]: (True, True, False),
    }
    if alike:
        plans |= {name: (True, plain == PATHS[2], True) for name, plain in ALIKE.items()}
    return {name: Patient(app, *plan, scripts=scripts).walk() for name, plan in plans.items()}


def report(app: Any, emit: Callable[..., None], heading: Callable[[str], None]) -> None:
    """Print the figures through bench/run.py's ``emit`` (the goal as its target)."""
    heading(
        f"Patient effort, counted from the pages ({SECONDS_CHOICE} s a choice, {SECONDS_TEXT} s "
        f"a free text, {SECONDS_LIST_ENTRY} s a list entry, {PAGE_LOAD_SECONDS} s a page load)"
    )
    for scripts in (False, True):
        figures = measure(app, alike=True, scripts=scripts)
        for name, effort in figures.items():
            goal = GOALS.get(ALIKE.get(name, name))
            judged = (f"<= {goal:g} min", effort.minutes <= goal) if goal is not None else ()
            label = SCRIPTS_ON[name] if scripts else name
            emit(
                f"effort, {label}",
                f"{effort.questions} questions, {effort.minutes:.1f} min",
                *judged,
            )
            print(f"    {effort}")
    seen = figures[PATHS[-1]]  # scripts on: the lists shown, and those adding entries in place
    print(
        f"    a further list entry: {SECONDS_LIST_ENTRY + PAGE_LOAD_SECONDS} s with scripts off "
        f"(a reload), {SECONDS_LIST_ENTRY} s with scripts on in {len(seen.lists_in_place)} of "
        f"{len(seen.lists)} lists"
    )


def main() -> int:
    import tempfile

    from run import bench_app, emit, heading  # bench/run.py, beside this file

    with tempfile.TemporaryDirectory(prefix="intake-effort-") as tmp, bench_app(Path(tmp)) as app:
        report(app, emit, heading)
    return 0


if __name__ == "__main__":
    sys.exit(main())
