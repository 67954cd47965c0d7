"""bench/run.py and bench/load.py still run end to end (smoke runs: their figures are not judged
here), the effort counter (bench/effort.py) reads the pages and moves with the catalog, and the
load bench's verifier notices an answer the service lost or altered."""

from __future__ import annotations

import importlib.util
import os
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from flask import Flask

import forms.loader
from bench.load_patient import VirtualPatient, make_persona
from bench.load_store import read_only_engine, save_part, verify
from forms.loader import get_catalog
from intake import db
from intake.intakes.demo import demo_answers
from intake.intakes.invitations import create_invitation, find_by_public_id
from intake.intakes.submissions import submit_intake

ROOT = Path(__file__).resolve().parent.parent

FIGURES = (
    "step GET, median",
    "step POST, median",
    "asset /static/app.css",
    "asset /static/app.js",
    "heaviest page as served",
    "render time, median",
    "render time, p95",
    "pages",
    "size",
    "renderer RSS after 3 renders",
    "worst legal input, emoji",
    "worst legal input, newer emoji",
    "current / before, demo",
    "current / before, core questions only",
    "bytes identical, before and current",
    "web process RSS",
    "bulk insert of 5,000 intakes",
    "worklist first page (from today)",
    "worklist search (MRN)",
)


def test_bench_quick_smoke_run() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--renders", "3"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for name in FIGURES:
        assert name in done.stdout, f"{name!r} missing from the bench output:\n{done.stdout}"
    assert "targets met" in done.stdout


def _effort() -> ModuleType:
    """bench/effort.py, loaded as bench/run.py loads it (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("effort", ROOT / "bench" / "effort.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["effort"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _without(item_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The current catalog with one question taken out, in force for this test."""
    data = yaml.safe_load(forms.loader.CATALOG_PATH.read_text(encoding="utf-8"))
    for section in data["sections"]:
        section["items"] = [i for i in section["items"] if i["id"] != item_id]
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(forms.loader, "CATALOG_PATH", changed)
    forms.loader.get_catalog.cache_clear()
    forms.loader._current.cache_clear()


def test_the_effort_counter_reads_the_pages_and_follows_the_catalog(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    effort = _effort()
    before = effort.measure(app)
    no, yes, detail = (before[name] for name in effort.PATHS)
    # Each path asks more than the one before it, and loads more pages.
    assert 0 < no.questions < yes.questions < detail.questions
    assert no.page_loads < yes.page_loads < detail.page_loads
    assert no.entries < yes.entries <= detail.entries
    assert no.minutes < yes.minutes < detail.minutes

    # One core question of seven choices fewer: one question and seven controls fewer on every
    # path, and 7 s less.
    item = forms.loader.get_catalog().item("stress.level_month")
    assert item.core and len(item.options) == 7
    _without("stress.level_month", tmp_path, monkeypatch)
    try:
        after = effort.measure(app)
    finally:
        monkeypatch.undo()
        forms.loader.get_catalog.cache_clear()
        forms.loader._current.cache_clear()
    for name in effort.PATHS:
        assert after[name].questions == before[name].questions - 1, name
        assert after[name].controls == before[name].controls - 7, name
        assert after[name].seconds == before[name].seconds - effort.SECONDS_CHOICE, name


def test_the_effort_counter_prices_same_as_as_one_press_per_block(app: Flask) -> None:
    """Reactions alike after every topic: each block after the first is one press of "Same as
    for <topic>" instead of its three core questions (four with the detail open)."""
    effort = _effort()
    figures = effort.measure(app, alike=True)
    for alike, plain in effort.ALIKE.items():
        same, each = figures[alike], figures[plain]
        assert same.same_presses > 0, alike
        parts = 4 if plain == "all detail" else 3
        assert same.choices == each.choices - (parts - 1) * same.same_presses, alike
        assert same.seconds < each.seconds, alike


def test_the_effort_counter_counts_what_scripts_show_in_place(app: Flask) -> None:
    """Scripts on, the same questions and controls on every path, read from the same pages
    (the follow-ups drawn hidden with their conditions), without the reload each follow-up
    costs with scripts off; and every list shown would add a further entry in place."""
    effort = _effort()
    off, on = effort.measure(app), effort.measure(app, scripts=True)
    for name in effort.PATHS:
        assert on[name].questions == off[name].questions, name
        assert on[name].controls == off[name].controls, name
        assert on[name].entries == off[name].entries, name
        assert on[name].lists and on[name].lists_in_place == on[name].lists, name
    no, yes, detail = effort.PATHS
    assert on[no].page_loads == off[no].page_loads  # nothing to reveal
    # Date of birth, welcome, each step once, review and done: no step loaded twice.
    assert on[yes].page_loads == len(get_catalog().sections) + 4 < off[yes].page_loads
    assert on[detail].page_loads < off[detail].page_loads


# --- bench/load.py ---------------------------------------------------------------------------------
LOAD_FIGURES = (
    "every route's p95",
    "errors",
    "POST /submit p95",
    "PDF stored after Send, p95",
    "PDFs stored",
    "answers stored exactly",
    "step buttons pressed",
    "load average (1 min)",
)


def _figure(output: str, name: str) -> str:
    lines = [line for line in output.splitlines() if line.strip().startswith(name)]
    assert lines, f"{name!r} missing from the load bench's output:\n{output}"
    return lines[0]


def test_load_mode_smoke_run() -> None:
    """A few fast patients against a real server on SQLite: it runs, sends, and checks answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--patients", "3", "--seconds",
               "4", "--think", "0.05", "--pdf-wait", "30"]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in LOAD_FIGURES:
        _figure(done.stdout, name)
    assert _figure(done.stdout, "errors").endswith("PASS"), done.stdout
    assert _figure(done.stdout, "PDFs stored").endswith("PASS"), done.stdout
    checked = _figure(done.stdout, "answers stored exactly")
    assert checked.endswith("PASS") and " 0 differences" in checked, done.stdout
    sent = re.search(r"answers, (\d+) sent", checked)
    assert sent and int(sent.group(1)) >= 2, checked  # the warm-up patients send, at least


def _answered_patient(app: Flask) -> VirtualPatient:
    """A patient who saved every part, through the service's own save, then sent."""
    catalog = get_catalog()
    with app.app_context(), db.transaction() as tx:
        new = create_invitation(tx, "Vera Load-Check", date(1980, 1, 2))
        persona = make_persona(catalog, demo_answers(catalog), random.Random(5))
        patient = VirtualPatient(new.intake.public_id, new.token, (2, 1, 1980), persona)
        for section in catalog.sections:
            save_part(catalog, section, new.intake, patient)
    with app.app_context(), db.transaction() as tx:
        intake = find_by_public_id(tx, patient.public_id)
        assert intake is not None
        submit_intake(tx, intake)
    patient.submitted = True
    return patient


def test_verifier_passes_what_is_stored_and_catches_a_lost_or_changed_answer(app: Flask) -> None:
    catalog = get_catalog()
    patient = _answered_patient(app)
    pid = patient.public_id
    assert len(patient.expected_draft()) > 20 and patient.opened  # a real test of many answers
    engine = read_only_engine(app.config["DATABASE_URL"])
    try:
        assert verify(engine, catalog, [patient]) == []

        with app.app_context(), db.transaction() as tx:
            intake = find_by_public_id(tx, pid)
            assert intake is not None and intake.submission is not None
            lost = sorted(intake.answers)[0]
            intake.answers = {k: v for k, v in intake.answers.items() if k != lost}
            frozen = dict(intake.submission.answers)
            changed = next(k for k, v in frozen.items() if isinstance(v, str) and k != lost)
            frozen[changed] = f"{frozen[changed]} (altered)"
            intake.submission.answers = frozen
        problems = verify(engine, catalog, [patient])
    finally:
        engine.dispose()
    assert f"{pid} draft: {lost} sent, not stored" in problems
    assert f"{pid} sent: {changed} stored differently from what was sent" in problems
