"""A fictional, fully answered intake: the fixture behind the PDF tests, benchmarks and demos.

Everything here is invented. The answers are hand-picked so the summary reads like one plausible
patient, and every question the patient would see is answered, so a change to the layout shows up
everywhere at once. Values are checked against the catalog when built: a renamed code fails here,
not as a silently missing line in a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from forms.logic import Visibility, hidden_reason
from forms.schema import Catalog
from intake.pdf.document import PdfHeader


@dataclass(frozen=True)
class DemoPatient:
    """Identifiers of the fictional demo patient (no real person)."""

    given_name: str
    family_name: str
    date_of_birth: date
    mrn: str


DEMO_PATIENT = DemoPatient("Alex", "Demo-Example", date(1984, 3, 9), "DEMO-0001")
#: A fixed moment for renders outside the database (tests, benchmarks): same input, same bytes.
DEMO_SUBMITTED_AT = datetime(2026, 11, 25, 13, 3, tzinfo=UTC)


def demo_pdf_header(
    intake_id: str = "DEMO-0000-0001", timezone: str = "Europe/Berlin"
) -> PdfHeader:
    """The PDF identity block of the demo patient, for renders without a stored intake."""
    return PdfHeader(
        patient_name=f"{DEMO_PATIENT.given_name} {DEMO_PATIENT.family_name}",
        date_of_birth=DEMO_PATIENT.date_of_birth,
        mrn=DEMO_PATIENT.mrn,
        intake_id=intake_id,
        submitted_at=DEMO_SUBMITTED_AT,
        timezone=timezone,
    )


#: Reaction blocks (``<section>.reaction.*``): what was noticed, how soon, how often, last time.
_REACTIONS: dict[str, tuple[list[str], str, str, str]] = {
    "stress": (
        ["tachycardia", "flushing", "brain_fog", "something_else"],
        "hours",
        "most_times",
        "week",
    ),
    "sleep": (["brain_fog", "nausea"], "hours", "sometimes", "week"),
    "nutrient": (["nausea"], "hours", "rarely", "year"),
    "infection": (["flushing", "hives", "brain_fog"], "days", "most_times", "month"),
    "toxin": (["flushing", "nausea", "brain_fog"], "minutes", "sometimes", "week"),
    "metal": (["none"], "", "", ""),
    "dental": (["tachycardia"], "minutes", "every_time", "year"),
    "pain": (["tachycardia", "flushing"], "hours", "sometimes", "month"),
    "hormone": (["flushing", "hives", "something_else"], "days", "most_times", "month"),
    "energy": (["brain_fog", "tachycardia", "fainting"], "hours", "most_times", "week"),
    "other": (["hives", "flushing", "tachycardia"], "minutes", "most_times", "week"),
    "trauma": (["not_sure"], "", "", ""),
}
_REACTION_OTHER = {
    "stress": "Itchy scalp and a hoarse voice",
    "hormone": "Swollen, puffy eyelids in the mornings",
}

_ANSWERS: dict[str, Any] = {
    # general
    "general.completed_by": "self",
    "general.visit_priorities": [
        {"topic": "Understand what happens on bad days"},
        {"topic": "What to do when a reaction starts, away from home"},
        {"topic": "Travel in the spring: flights and long car rides"},
    ],
    "general.main_concerns": (
        "Sudden flushing and a racing heart, often after meals. Brain fog most afternoons. "
        "Hives that come and go, and an upset stomach on bad days."
    ),
    "general.symptoms": [
        "tachycardia",
        "hives",
        "flushing",
        "nausea",
        "brain_fog",
        "something_else",
    ],
    "general.symptoms_other": "Itchy, watery eyes",
    "general.symptoms_more": ["itching", "diarrhea", "belly_pain", "headache", "dizzy_standing"],
    "general.onset_year": 2019,
    "general.course": "come_go",
    "general.episode_freq": "weekly",
    "general.started_around": "yes",
    "general.started_around_text": (
        "A bad flu in February 2019, and we moved into an older flat that spring."
    ),
    "general.severe_episode": "yes",
    "general.severe_list": [
        {
            "year": 2022,
            "what": "Throat felt tight, hives all over, felt faint",
            "before": "Shrimp curry at a restaurant; ibuprofen that morning",
            "care": ["er", "epinephrine"],
        }
    ],
    "general.told_conditions": ["allergy", "asthma", "pots", "other"],
    "general.told_other": "Cold fingers that turn white (Raynaud's)",
    "general.mast_tests": "yes",
    "general.mast_tests_text": (
        "Tryptase blood test in 2023, taken on a good day. I don't remember the number."
    ),
    "general.impact": 6,
    # stress
    "stress.level_month": "fairly_often",
    "stress.control_month": "sometimes",
    "stress.cope_month": "sometimes",  # 1.0 and 1.1
    "stress.not_coping_month": "sometimes",
    "stress.ongoing": "yes",
    "stress.sources": ["work", "health"],
    "stress.duration": "y1_5",
    # sleep
    "sleep.quality_week": "poor",
    "sleep.hours": "h5_6",
    "sleep.trouble": {"falling": "a_little", "staying": "quite_a_bit", "early": "somewhat"},
    "sleep.rested": "rarely",
    "sleep.day_tired": "often",
    "sleep.observed": ["snore"],
    "sleep.night_wake": ["itch", "hot", "heart"],
    "sleep.told": "no",
    # diet
    "diet.reacts_food": "yes",
    "diet.food_list": [
        {
            "food": "Aged cheese (Parmesan)",
            "symptoms": ["tachycardia", "flushing", "nausea"],
            "onset": "minutes",
            "how_often": "most_times",
        },
        {
            "food": "Red wine",
            "symptoms": ["flushing", "hives"],
            "onset": "minutes",
            "how_often": "every_time",
        },
    ],
    "diet.food_groups": ["aged_cheese", "cured_meat", "leftovers", "fermented"],
    "diet.alcohol_freq": "monthly_or_less",
    "diet.alcohol_reaction": "yes",
    "diet.fasting": "not_sure",
    "diet.special": "yes",
    "diet.special_text": "Leaving out aged cheese, wine and leftovers since last year, on my own.",
    "diet.safe_foods": "gt25",
    # nutrient
    "nutrient.told_low": ["vit_d", "iron", "other"],
    "nutrient.told_low_other": "Vitamin B6",
    "nutrient.recheck": [
        {"nutrient": "vit_d", "year": 2021, "recheck": "ok_now"},
        {"nutrient": "iron", "year": 2023, "recheck": "still_low"},
        {"nutrient": "other", "year": 2024, "recheck": "no"},
    ],
    "nutrient.anemia": "no",
    "nutrient.supplements": "yes",
    "nutrient.absorption": "not_sure",
    "nutrient.eating_pattern": ["low_histamine"],
    # med
    "med.takes_any": "yes",
    "med.current": [
        {
            "name": "Cetirizine",
            "dose": "10 mg once a day",
            "reason": "Itching and hives",
            "kind": "otc",
            "since": 2020,
        },
        {
            "name": "Famotidine",
            "dose": "20 mg twice a day",
            "reason": "Stomach and flushing",
            "kind": "rx",
            "since": 2021,
        },
        {
            "name": "Salbutamol inhaler",
            "dose": "2 puffs when needed",
            "reason": "Asthma",
            "kind": "rx",
            "since": 2010,
        },
        {
            "name": "Vitamin D3",
            "dose": "1000 IU a day",
            "reason": "Low vitamin D",
            "kind": "supplement",
            "since": 2021,
        },
        {
            "name": "Magnésium marin B6 (pharmacie, Lyon)",
            "dose": "1 tablet in the evening",
            "reason": "Cramps",
            "kind": "supplement",
            "since": 2024,
        },
        {
            "name": "Quercetin-Kapseln aus der Drogerie",
            "dose": "500 mg, Größe unklar",
            "reason": "Read about it online",
            "kind": "supplement",
            "since": "not_sure",
        },
    ],
    "med.reaction_any": "yes",
    "med.reaction_groups": ["nsaid", "contrast"],
    "med.reaction_list": [
        {
            "name": "Ibuprofen 400 mg",
            "year": 2022,
            "symptoms": ["tachycardia", "hives", "flushing"],
            "symptoms_more": "Swollen eyelids",
            "onset": "minutes",
            "emergency": "no",
            "since": "no",
        },
        {
            "name": "Contrast dye for a CT scan",
            "year": 2020,
            "symptoms": ["flushing", "nausea", "vomiting"],
            "onset": "minutes",
            "emergency": "no",
            "since": "not_sure",
        },
    ],
    "med.brand_switch": "yes",
    "med.brand_switch_text": (
        "Famotidine from a different pharmacy gave me a rash; the usual one does not."
    ),
    # infection
    "infection.told": ["ebv", "covid", "sinus", "other"],
    "infection.told_other": "Mycoplasma pneumonia in 2017",
    "infection.antibiotics_year": "two_three",
    "infection.recurrent_sites": ["sinus", "chest"],
    "infection.after_infection": "yes",
    "infection.after_infection_text": "Influenza A, February 2019",
    "infection.covid_times": "two",
    "infection.current": "no",
    # toxin
    "toxin.home_damp": ["musty", "damp"],
    "toxin.past_damp": "yes",
    "toxin.past_damp_text": "Basement office after a flood, 2015 to 2018",
    "toxin.away_change": "better",
    "toxin.smells": ["perfume", "cleaning", "wood_smoke"],
    "toxin.work_exposure": "yes",
    "toxin.work_text": "Part-time lab technician: cleaning solvents and dust",
    "toxin.smoke_vape": ["none"],
    # metal
    "metal.tested": "yes",
    "metal.test_list": [
        {"metal": "Lead and mercury", "year": 2020, "sample": "blood", "told": "ok"}
    ],
    "metal.work_hobby": "yes",
    "metal.work_hobby_text": "Stained glass with lead solder, about 6 years",
    "metal.fillings": "removed",
    "metal.fillings_count": "c1_3",
    "metal.fish": "lt_monthly",
    "metal.remedies": "no",
    # dental
    "dental.root_canal": "yes",
    "dental.root_canal_detail": "Two; the most recent in 2021",
    "dental.removed": "yes",
    "dental.removed_healing": "no",
    "dental.jaw_told": "no",
    "dental.work_types": ["crowns"],
    "dental.gums": "no",
    "dental.gums_bleed": "rarely",
    "dental.infection": "no",
    # pain
    "pain.ongoing": "yes",
    "pain.where": ["head", "lower_back", "belly", "joints"],
    "pain.duration": "y1_5",
    "pain.average_week": 5,
    "pain.worst_week": 8,
    "pain.activity_week": 6,
    "pain.enjoy_week": 5,
    "pain.changes_with": ["weather", "activity", "cycle"],
    # hormone
    "hormone.periods": "have",
    "hormone.cycle_change": ["before", "during"],
    "hormone.pregnant_now": "no",  # 1.0 and 1.1
    "hormone.pregnancy_change": "not_applicable",  # 1.0 and 1.1
    "hormone.pregnancy_now": ["none"],
    "hormone.pregnancy_changes": ["not_applicable"],
    "hormone.medicines": ["birth_control"],
    "hormone.medicine_change": "Flushing got less after changing to a different pill in 2022.",
    "hormone.thyroid_told": "no",
    # energy
    "energy.tired_week": "quite_a_bit",
    "energy.worse_after": "often",
    "energy.mental_effort": "sometimes",
    "energy.recovery": "d2_3",
    "energy.activity_now": "much_less",
    "energy.muscles": "sometimes",
    "energy.tests": "no",
    # other triggers
    "other.physical": ["heat", "hot_water", "friction", "exercise", "insect"],
    "other.sting_spread": "no",
    "other.anything_else": "Long car rides on bumpy roads, sometimes.",
    # trauma: consent given, so the follow-ups are shown
    "trauma.consent": "yes",
    "trauma.ever": "yes",
    "trauma.childhood": "no",
    "trauma.when": ["adult"],
    "trauma.impact_now": "a_little",
    "trauma.discuss": "later",
    "trauma.safe_now": "yes",
    # closing
    "closing.anything_else": (
        "Bad days often start in the afternoon with warmth in my face and a fast heartbeat. "
        "My partner has photos of the flushing on my phone. I keep a food diary and can bring it. "
        "Grandmother's remedy from Kraków, \u201cziołowa herbata\u201d (herbal tea), seems to "
        "make no difference either way."
    ),
    "closing.visit_goals": "To understand what happens on bad days and plan for travel.",  # 1.0, 1.1
}


def _reaction_answers(catalog: Catalog) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for section_id, (noticed, onset, how_often, last) in _REACTIONS.items():
        if not catalog.has_item(f"{section_id}.reaction.noticed"):
            continue
        answers[f"{section_id}.reaction.noticed"] = noticed
        for suffix, code in (("onset", onset), ("how_often", how_often), ("last_time", last)):
            if code:
                answers[f"{section_id}.reaction.{suffix}"] = code
        if section_id in _REACTION_OTHER:
            answers[f"{section_id}.reaction.other"] = _REACTION_OTHER[section_id]
    return answers


def demo_answers(catalog: Catalog) -> dict[str, Any]:
    """Answers to every question the demo patient is shown, with all optional detail opened.

    Items hidden by an earlier answer get no value, as in a real submission.
    """
    wanted = {**_ANSWERS, **_reaction_answers(catalog)}
    opened = Visibility(
        detail_sections=frozenset(demo_detail_sections(catalog)),
        clinic_opt_ins=frozenset(i.id for i in catalog.items() if i.clinic_opt_in),
    )
    answers: dict[str, Any] = {}
    for item in catalog.items():
        if item.id in wanted:
            if not item.kind.uses_known_codes(item, wanted[item.id]):
                raise ValueError(f"demo answer for {item.id} no longer matches the catalog")
            answers[item.id] = wanted[item.id]
        else:
            answers[item.id] = item.kind.example(item)  # a question with no hand-picked answer
    return {
        item.id: answers[item.id]
        for item in catalog.items()
        if hidden_reason(catalog, item, answers, opened) is None
    }


def demo_detail_sections(catalog: Catalog) -> list[str]:
    """Every section id: the demo patient opened all optional detail."""
    return [section.id for section in catalog.sections]
