"""The PDF engines ``run.py`` compares, measured in one run: nothing here prints or judges.

- the renderer process (WeasyPrint) with the current engine settings and with the settings of
  before issue 18 (``python -m intake.pdf.engine --settings before-issue-18``), two processes
  handed the same job in turn;
- headless Chromium kept open and printing over CDP through Playwright, as Puppeteer, Playwright
  and Gotenberg users run it (one browser, one page, ``page.pdf()``);
- headless Chromium started per document from the command line, as a per-request converter runs.

The machine is shared and noisy: the contenders take turns within each round (the order turns
too), so a busy moment costs each of them alike, and ratios are of medians from the same rounds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: The checkout, for ``tests.chromium`` (a bench runs as a script, from bench/).
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


@dataclass
class Timing:
    """One contender's renders of one document: each one's seconds, and the last PDF."""

    seconds: list[float] = field(default_factory=list)
    pdf: bytes = b""
    #: Every PDF it made was the same bytes.
    same_bytes: bool = True

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def size(self) -> int:
        return len(self.pdf)

    def add(self, seconds: float, pdf: bytes) -> None:
        if self.pdf and pdf != self.pdf:
            self.same_bytes = False
        self.seconds.append(seconds)
        self.pdf = pdf


def in_turns(contenders: dict[str, Callable[[], bytes]], rounds: int) -> dict[str, Timing]:
    """Each contender once per round, the order turning by one each round."""
    names = list(contenders)
    timings = {name: Timing() for name in names}
    for n in range(rounds):
        k = n % len(names)
        for name in names[k:] + names[:k]:
            start = time.perf_counter()
            pdf = contenders[name]()
            timings[name].add(time.perf_counter() - start, pdf)
    return timings


def back_to_back(render: Callable[[], bytes], count: int) -> float:
    """Seconds per render when the next job is handed over as soon as the last PDF is back:
    what a queue of renders gets, the renderer's work after each reply included."""
    start = time.perf_counter()
    for _ in range(count):
        render()
    return (time.perf_counter() - start) / count


def renderer_process(settings: str) -> Any:
    """A renderer process of its own with the named engine settings (started, not yet warm)."""
    from intake.pdf.renderer import Renderer

    renderer = Renderer([sys.executable, "-m", "intake.pdf.engine", "--settings", settings])
    renderer.start()
    return renderer


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class WarmChromium:
    """One headless Chromium kept open, printing HTML with ``page.pdf()`` on one page."""

    def __init__(self, page: Any) -> None:
        self._page = page

    def print(self, html: str, tagged: bool) -> bytes:
        """The HTML loaded and printed at its stylesheet's page size, backgrounds included."""
        self._page.set_content(html)
        pdf: bytes = self._page.pdf(tagged=tagged, prefer_css_page_size=True, print_background=True)
        return pdf

    @staticmethod
    def memory_mb() -> float:
        """The resident memory of every Chromium process this process started."""
        pids = _descendants(os.getpid())
        return sum(_rss_mb(pid) for pid in pids if _comm(pid).startswith("chrom"))


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


@contextmanager
def warm_chromium() -> Iterator[WarmChromium]:
    """Debian's Chromium through the Playwright the tests use (a RuntimeError if it cannot)."""
    from playwright.sync_api import sync_playwright

    from tests.chromium import CHROMIUM_ARGS  # launched as the browser tests launch it

    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield WarmChromium(browser.new_page())
        finally:
            browser.close()
    finally:
        manager.stop()


def cold_chromium(html: str, runs: int, tmp: Path) -> Timing:
    """The HTML printed by a Chromium started for each document (``--print-to-pdf``)."""
    from tests.chromium import CHROMIUM_ARGS  # launched as the browser tests launch it

    source = tmp / "summary.html"
    source.write_text(html, encoding="utf-8")
    out = tmp / "chromium.pdf"
    timing = Timing()
    for n in range(runs):
        profile = tmp / f"chromium-profile-{n}"
        out.unlink(missing_ok=True)
        command = [
            str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={profile}",
            "--no-pdf-header-footer", f"--print-to-pdf={out}", source.as_uri(),
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        seconds = time.perf_counter() - start
        shutil.rmtree(profile, ignore_errors=True)
        if done.returncode != 0 or not out.exists():
            tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"exit {done.returncode}: {' | '.join(tail)}")
        timing.add(seconds, out.read_bytes())
    return timing
