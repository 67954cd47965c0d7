"""The accessibility check itself: it runs on a loaded page and reports what is wrong, so that a
green browser test means "no violation found", not "nothing was checked"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accessibility import CheckedBrowser, Findings, check_now, init_script

pytestmark = pytest.mark.browser

BROKEN = "<html><head><title>t</title></head><body><img src='x.png'><a href='#'></a></body></html>"
FINE = "<html lang='en'><head><title>t</title></head><body><main><h1>Fine</h1></main></body></html>"


def test_the_check_finds_violations_on_every_loaded_page(_chromium: Any) -> None:
    findings = Findings()
    browser = CheckedBrowser(_chromium, findings, init_script())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://a11y.test/**", lambda route: route.fulfill(
            body=BROKEN if route.request.url.endswith("/broken") else FINE,
            content_type="text/html",
        ))  # fmt: skip
        for path in ("/fine", "/broken"):
            page.goto(f"http://a11y.test{path}")
            for _ in range(200):  # its check reports back shortly after the load
                if path in findings.checked:
                    break
                page.wait_for_timeout(25)
        check_now(page, findings)  # the same page again, checked on request
        assert findings.checked == ["/fine", "/broken", "/broken"]
    finally:
        context.close()
    assert "/fine" in findings.checked and "/broken" in findings.checked
    assert not [v for v in findings.violations if v.startswith("/fine")]
    broken = " ".join(v for v in findings.violations if v.startswith("/broken"))
    for rule in ("image-alt", "html-has-lang", "link-name"):
        assert rule in broken, broken
