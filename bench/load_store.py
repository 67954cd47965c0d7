"""The load bench and the database: invitations made beforehand with the app's own functions,
the read-only watch for stored PDFs, and the check that every answer sent is stored exactly.

Patients already part-way through: a load that starts with every patient on the first page sends
every answer at once two minutes later, a burst no clinic sees. So the first patient of each slot
is one who saved earlier and comes back: the parts before a random step are saved beforehand,
through the same ``save_step`` a step's POST calls, from the answers that patient would have
given there (what the pages would have shown them, worked out from the catalog). Those answers
are checked at the end like the ones sent during the load.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, select

from bench.load_patient import VirtualPatient, make_persona
from forms.logic import Visibility, shown_answers, visible_items
from forms.schema import Catalog, Section


def make_patients(
    app: Any, catalog: Catalog, slots: int, per_slot: int, seed: int, label: str = "Load"
) -> list[list[VirtualPatient]]:
    """Invite ``slots * per_slot`` patients; the first of each slot has saved some parts."""
    from intake import db
    from intake.intakes.demo import demo_answers
    from intake.intakes.drafts import move_to, place_after
    from intake.intakes.invitations import create_invitation

    rng = random.Random(seed)
    base = demo_answers(catalog)
    out: list[list[VirtualPatient]] = []
    with app.app_context(), db.transaction() as tx:
        for slot in range(slots):
            queue = []
            for n in range(per_slot):
                born = date(1940, 1, 1).toordinal() + rng.randrange(25000)
                dob = date.fromordinal(born)
                ref = f"{slot:04d}-{n:03d}"
                new = create_invitation(tx, f"{label} Patient-{ref}", dob, f"{label}-{ref}", 14)
                patient = VirtualPatient(
                    new.intake.public_id,
                    new.token,
                    (dob.day, dob.month, dob.year),
                    make_persona(catalog, base, rng),
                )
                done = rng.randint(0, len(catalog.sections)) if n == 0 else 0
                if done:
                    for section in catalog.sections[:done]:
                        save_part(catalog, section, new.intake, patient)
                    last = catalog.sections[done - 1]
                    move_to(new.intake, place_after(catalog, last, "next", to_review=False))
                queue.append(patient)
            out.append(queue)
    return out


def save_part(catalog: Catalog, section: Section, intake: Any, patient: VirtualPatient) -> None:
    """Save one part as the patient would have: the questions shown, given their answers (a
    follow-up appears once its gate is answered), with the detail opened where they want it."""
    from intake.intakes.drafts import save_step, set_detail

    persona = patient.persona
    opened = set(patient.opened)
    if section.id in persona.detail:
        opened.add(section.id)
    visibility = Visibility(frozenset(opened))
    answers = dict(intake.answers or {})
    shown: list[str] = []
    while True:
        now = [i.id for i in visible_items(catalog, section, answers, visibility)]
        if now == shown:
            break
        shown = now
        for item_id in shown:
            if item_id in persona.answers:
                answers[item_id] = persona.answers[item_id]
    values = {item_id: persona.answers.get(item_id) for item_id in shown}
    save_step(intake, section, values, shown, None)
    # "Add more detail" is offered only where an optional question would show.
    if section.id in persona.detail and any(not catalog.item(i).core for i in shown):
        set_detail(intake, section.id, True)
        patient.opened.add(section.id)
    patient.sent.update(values)


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write: the bench watches and checks, it never helps."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def stored_pdfs(engine: Engine, public_ids: list[str]) -> dict[str, tuple[Any, Any]]:
    """Of these intakes, those whose PDF is stored: (submitted_at, pdf_rendered_at)."""
    from intake.models import Intake, Submission

    if not public_ids:
        return {}
    query = (
        select(Intake.public_id, Submission.submitted_at, Submission.pdf_rendered_at)
        .join(Submission, Submission.intake_id == Intake.id)
        .where(Intake.public_id.in_(public_ids), Submission.pdf_sha256.is_not(None))
    )
    with engine.connect() as conn:
        return {row[0]: (row[1], row[2]) for row in conn.execute(query)}


def verify(engine: Engine, catalog: Catalog, patients: list[VirtualPatient]) -> list[str]:
    """Compare what each patient sent with what is stored: the draft answers item by item, the
    parts with detail opened, and, once sent, the frozen answers (the shown ones of the draft).
    Returns one line per difference (item ids and kinds of difference, never answer text)."""
    from intake.models import Intake, Submission

    wanted = {p.public_id: p for p in patients}
    query = (
        select(
            Intake.public_id,
            Intake.answers,
            Intake.detail_sections,
            Submission.answers,
            Submission.detail_sections,
        )
        .outerjoin(Submission, Submission.intake_id == Intake.id)
        .where(Intake.public_id.in_(list(wanted)))
    )
    with engine.connect() as conn:
        rows = {row[0]: row[1:] for row in conn.execute(query)}
    problems: list[str] = []
    for public_id, patient in wanted.items():
        if public_id not in rows:
            problems.append(f"{public_id}: intake not found")
            continue
        draft, detail, frozen, frozen_detail = rows[public_id]
        problems += _compare(f"{public_id} draft", patient.expected_draft(), draft or {})
        if set(detail or []) != patient.opened:
            problems.append(
                f"{public_id}: detail opened on {sorted(patient.opened)}, stored {detail}"
            )
        if patient.submitted != (frozen is not None):
            problems.append(
                f"{public_id}: sent {patient.submitted}, stored as sent {frozen is not None}"
            )
        if patient.submitted and frozen is not None:
            visibility = Visibility(frozenset(patient.opened))
            expected = shown_answers(catalog, patient.expected_draft(), visibility)
            problems += _compare(f"{public_id} sent", expected, frozen)
            if sorted(frozen_detail or []) != sorted(patient.opened):
                problems.append(f"{public_id}: sent detail {frozen_detail}")
    return problems


def _compare(label: str, expected: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    out = []
    for item_id in sorted(set(expected) | set(stored)):
        if item_id not in stored:
            out.append(f"{label}: {item_id} sent, not stored")
        elif item_id not in expected:
            out.append(f"{label}: {item_id} stored, never sent")
        elif stored[item_id] != expected[item_id]:
            out.append(f"{label}: {item_id} stored differently from what was sent")
    return out


def answer_count(patients: list[VirtualPatient]) -> int:
    return sum(len(p.expected_draft()) for p in patients)
