"""A submitted intake with every at-a-glance state in it (test helper for the review rows, the
PDF and the clinician's page)."""

from __future__ import annotations

from typing import Any

from forms.loader import get_catalog
from forms.schema import Catalog
from intake.intakes.demo import demo_answers, demo_detail_sections


def mixed_answers(catalog: Catalog) -> dict[str, Any]:
    """The demo answers with every at-a-glance status in them (the PDF and page tests use it).

    Trauma declined; sleep answered except its reactions question; teeth and gums left empty;
    pain "no ongoing pain" (reactions not shown); non-answers in follow-ups and list rows; who
    filled it in left blank. Open with ``MIXED_DETAIL``: hormones and vitamins stay closed.
    """
    answers = demo_answers(catalog)
    for section_id in ("trauma", "dental"):
        for item in catalog.section(section_id).items:
            answers.pop(item.id, None)
    for suffix in ("noticed", "other", "onset", "how_often", "last_time"):
        answers.pop(f"sleep.reaction.{suffix}", None)
    answers.pop("stress.reaction.last_time")
    answers.pop("general.completed_by")
    answers.update(
        {
            "trauma.consent": "skip",
            "stress.reaction.onset": "not_sure",
            "stress.reaction.how_often": "prefer_not",
            "pain.ongoing": "no",
            "energy.reaction.noticed": ["prefer_not"],
            "infection.reaction.noticed": ["not_sure"],
            "med.reaction_list": [{"name": "Ibuprofen", "onset": "not_sure"}],
            "sleep.trouble": {"falling": "not_sure", "staying": "quite_a_bit"},
        }
    )
    answers["diet.food_list"][0]["onset"] = "prefer_not"
    return answers


MIXED_DETAIL = frozenset(demo_detail_sections(get_catalog())) - {"hormone", "nutrient"}
#: What page 1 says for each topic of the mixed answers: the status, then the follow-ups.
MIXED_GLANCE = {
    "stress": ("Reported", "Not sure", "Prefer not to say", "Not answered"),
    "sleep": ("Not answered",),
    "diet": ("Reported", "Prefer not to say; Minutes", "Most times; Every time", "—"),
    "nutrient": ("Not shown (optional detail not opened)",),
    "med": ("Reported", "Not sure", "—", "—"),
    "infection": ("Not sure",),
    "metal": ("None noticed",),
    "dental": ("Skipped",),
    "pain": ("Not shown (did not apply to earlier answers)",),
    "hormone": (
        "Reported",
        "A day or more",
        "Most times",
        "Not shown (optional detail not opened)",
    ),
    "energy": ("Prefer not to say",),
    "trauma": ("Patient chose not to answer this section",),
}
