"""The automated accessibility check of the browser tests: axe-core (npm, ``tests/axe``) runs on
every page a test's browser loads, and the test fails on any WCAG 2.2 A or AA violation.

It is injected as an init script (before the page's own scripts, outside its Content Security
Policy, which the service's pages keep as in production) and reports back through a binding, so a
test needs nothing but the ``browser`` fixture: each page state it reaches by loading a page is
checked, patient and clinic pages alike. A state reached without a load (a question revealed by a
script) is checked by calling ``check_now``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("axe") / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets of WCAG 2.0, 2.1 and 2.2, levels A and AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BINDING = "__intakeAxeReport"

_RUN = """
window.__intakeAxeRun = () => axe.run(document, {runOnly: {type: 'tag', values: %(tags)s},
                                                 resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})));
if (window.top === window && location.protocol.startsWith('http')) {
  window.addEventListener('load', () => setTimeout(() => window.__intakeAxeRun()
    .then(found => window.%(binding)s({path: location.pathname, found}))
    .catch(e => window.%(binding)s({path: location.pathname, error: String(e)})), 0));
}
"""


@dataclass
class Findings:
    """What the check found in one test: pages checked, and each violation with its page."""

    checked: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    loads: int = 0

    def add(self, path: str, found: list[dict[str, Any]], error: str | None = None) -> None:
        self.checked.append(path)
        if error:
            self.violations.append(f"{path}: axe-core did not run: {error}")
        for v in found:
            self.violations.append(
                f"{path}: {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
            )


def init_script() -> str:
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run scripts/setup --test (npm ci in tests/axe)")
    return AXE.read_text(encoding="utf-8") + _RUN % {"tags": json.dumps(TAGS), "binding": BINDING}


def watch(context: Any, findings: Findings, script: str) -> None:
    """Check every page this browser context loads."""

    def report(_source: Any, result: dict[str, Any]) -> None:
        findings.add(result["path"], result.get("found", []), result.get("error"))

    def loaded(_page: Any) -> None:
        findings.loads += 1

    context.expose_binding(BINDING, report)
    context.add_init_script(script=script)
    context.on("page", lambda page: page.on("load", loaded))


def check_now(page: Any, findings: Findings) -> None:
    """Check the page as it is now (after a script changed it without a load)."""
    path = page.evaluate("location.pathname")
    findings.add(path, page.evaluate("window.__intakeAxeRun()"))


class CheckedBrowser:
    """The session's Chromium, whose new contexts are watched (``watch``)."""

    def __init__(self, browser: Any, findings: Findings, script: str) -> None:
        self._browser, self.findings, self._script = browser, findings, script

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        if options.get("java_script_enabled") is False:
            # axe-core is a script: a page with scripts off cannot run it. Its markup is the
            # server's, which the tests with scripts on check in the same states.
            return context
        watch(context, self.findings, self._script)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)
