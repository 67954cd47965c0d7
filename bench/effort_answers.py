"""What the effort counter's patient answers (``bench/effort.py``): a gate "Yes" opens all its
follow-ups, "No" opens none, and every other question gets its type's plain example answer.

The catalog says which code opens what; it never says what a page shows (that is read from the
pages, ``bench/effort_pages.py``).
"""

from __future__ import annotations

from typing import Any

#: The codes a "No" prefers, in this order, among the answers that open nothing.
NO_CODES = ("no", "none", "never", "not_at_all")
#: "Something else": a "Yes" never ticks it (its "What else?" box is the patient's own extra).
SOMETHING_ELSE = ("something_else", "other")


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
    """The answer to one question on a "Yes" path or a "No" one (``gates``: the items that
    open others)."""
    if item.id in gates:
        return gate_answer(catalog, item, yes)
    return item.kind.example(item)
