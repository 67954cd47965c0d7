"""The load bench's browser: one cookie jar per patient, redirects followed by hand (each request
timed on its own), and the patient flow from the private link to the page after "Send".

A person reads and types between two presses of a button: that think time comes before every
POST, drawn from a log-normal distribution around the mean asked for (sigma 0.5: most between
half and twice the mean). The page a redirect names is fetched at once, as a browser does.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx

from bench.load_patient import VirtualPatient, accepted, page_assets, page_form, step_post
from forms.schema import Catalog

_STEP = re.compile(r"^/step/[^/]+$")


@dataclass(frozen=True)
class Sample:
    """One request: its route (``GET /step/<section>``), status (0: no answer) and time."""

    route: str
    status: int
    seconds: float
    at: float
    expected: bool


def route_of(method: str, path: str) -> str:
    if _STEP.match(path):
        return f"{method} /step/<section>"
    if path.startswith("/static/"):
        return f"{method} /static/<file>"
    return f"{method} {path}"


class FlowError(RuntimeError):
    """The server answered something a browser could not go on from."""


@dataclass
class Browser:
    """One patient's browser on a shared connection pool."""

    http: httpx.AsyncClient
    samples: list[Sample]
    started: float
    assets_seen: set[str] = field(default_factory=set)

    async def request(self, method: str, url: str, want: int, **kwargs: object) -> httpx.Response:
        path = urlsplit(url).path
        begin = time.perf_counter()
        try:
            response = await self.http.request(method, url.split("#", 1)[0], **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self._record(method, path, 0, begin, False)
            raise FlowError(f"{method} {path}: {type(exc).__name__}") from exc
        ok = response.status_code == want
        self._record(method, path, response.status_code, begin, ok)
        if not ok:
            raise FlowError(f"{method} {path}: {response.status_code}, {want} expected")
        return response

    def _record(self, method: str, path: str, status: int, begin: float, ok: bool) -> None:
        now = time.perf_counter()
        self.samples.append(
            Sample(route_of(method, path), status, now - begin, begin - self.started, ok)
        )

    async def page(self, url: str) -> str:
        """GET a page (200 expected), and its stylesheets and scripts the first time."""
        html = (await self.request("GET", url, 200)).text
        for asset in page_assets(html):
            if asset not in self.assets_seen:
                self.assets_seen.add(asset)
                await self.request("GET", asset, 200)
        return html

    async def post(self, url: str, pairs: list[tuple[str, str]]) -> str:
        """POST a form (a 303 expected) and return where it sends the browser."""
        response = await self.request(
            "POST",
            url,
            303,
            content=urlencode(pairs).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return response.headers["location"]


def think_time(mean: float, rng: random.Random) -> float:
    sigma = 0.5
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma) if mean > 0 else 0.0


async def run_patient(
    catalog: Catalog,
    patient: VirtualPatient,
    browser: Browser,
    think: Callable[[], float],
    deadline: float,
) -> None:
    """Open the link, confirm the date of birth, go through every step, review and send; stop
    at the deadline (a request under way is answered first). Raises ``FlowError``."""
    patient.started = True
    location = (await browser.request("GET", f"/start?t={patient.token}", 303)).headers["location"]
    html = await browser.page(location)
    while True:
        path = urlsplit(location).path
        if path == "/done":
            patient.done = True
            return
        wait = think()
        if time.perf_counter() + wait >= deadline:
            await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
            return
        await asyncio.sleep(wait)
        action = {"/verify": "/verify", "/welcome": "/welcome", "/review": "/submit"}.get(
            path, path
        )
        form = page_form(html, action)
        if form is None:
            raise FlowError(f"no form posting to {action} on {path}")
        if _STEP.match(path):
            section = path.rsplit("/", 1)[1]
            post = step_post(catalog, patient, section, form)
            location = await browser.post(form.action, post.pairs)
            accepted(patient, section, post)
        elif action == "/verify":
            day, month, year = patient.dob
            dob = [("dob-day", str(day)), ("dob-month", str(month)), ("dob-year", str(year))]
            location = await browser.post(form.action, [*form.hidden, *dob])
        elif action == "/submit":
            patient.submitted_at = time.perf_counter()
            location = await browser.post(form.action, form.hidden)
            patient.submitted = True
        else:
            location = await browser.post(form.action, form.hidden)
        html = await browser.page(location)
