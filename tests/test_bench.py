"""bench/run.py still runs end to end (a smoke run: its figures are not judged here), and the
effort counter it prints (bench/effort.py) reads the pages and moves with the catalog."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from flask import Flask

import forms.loader

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
