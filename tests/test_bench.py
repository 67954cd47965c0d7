"""bench/run.py still runs end to end (a smoke run: its figures are not judged here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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
