"""The PDF renderer process, seen from a web worker: start it, hand it a job, wait, restart it.

Each process that renders (a gunicorn worker, a CLI command, the test run) has one renderer
process of its own, started at its first render (or ahead of it, ``Renderer.start``) and kept
for the next. It ends when its parent does (closing the pipe is its signal), or by itself after
``idle_seconds`` without a job; the next render then starts a new one. Why a separate process at
all is said in ``intake.pdf.engine``.

Failures are exceptions the caller records (``intake.intakes.submissions.make_pdf``, for the
background worker to retry):

- ``RenderTimeout``: the render took longer than its limit; the process is killed, the next
  render starts a new one;
- ``RendererCrashed``: the process died during the render, or could not be started;
- ``RenderFailed``: the renderer refused the job (its error type, never its message).
"""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

from intake.pdf.job import FAILED, HEADER_SIZE, OK, RenderJob, frame_length

#: The default limit for one render (``PDF_RENDER_TIMEOUT_SECONDS``). Measured warm: the demo
#: intake (every optional question answered, 8 pages) about 0.6 s; the longest the form accepts
#: (every text at its maximum length, every list full: 14 pages) about 1 s.
DEFAULT_TIMEOUT_SECONDS = 60.0


#: What the renderer process inherits of the environment: locale, fonts, Python and paths. Not the
#: secrets (SECRET_KEY, TOTP_ENCRYPTION_KEY, EHR_BEARER_TOKEN, a DATABASE_URL with its password):
#: the process that reads documents needs none of them.
_ENV_NAMES = frozenset(
    ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "VIRTUAL_ENV", "LD_LIBRARY_PATH")
)
_ENV_PREFIXES = ("LC_", "XDG_", "FONTCONFIG_", "PYTHON", "PANGO")


def renderer_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The allow-listed part of ``environ`` the renderer process starts with."""
    return {
        name: value
        for name, value in environ.items()
        if name in _ENV_NAMES or name.startswith(_ENV_PREFIXES)
    }


class RenderError(RuntimeError):
    """The PDF could not be made this time; the caller keeps what it has and may try later."""


class RenderTimeout(RenderError):
    """The render went on past its time limit, and the renderer process was stopped."""


class RendererCrashed(RenderError):
    """The renderer process could not be started, or ended without answering."""


class RenderFailed(RenderError):
    """The renderer answered with an error; ``kind`` names its type."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"the PDF renderer failed: {kind}")
        self.kind = kind


class Renderer:
    """One renderer process, used by one job at a time, restarted after it fails."""

    def __init__(self, command: list[str] | None = None) -> None:
        self._command = command or [sys.executable, "-m", "intake.pdf.engine"]
        self._process: subprocess.Popen[bytes] | None = None
        self._owner_pid = 0
        self._idle_seconds = 0.0
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The renderer process's id while it runs (the bench reads its memory by it)."""
        process = self._live_process()
        return process.pid if process else None

    def start(self) -> None:
        """Start the process now, so the first render does not wait for WeasyPrint to load."""
        with self._lock:
            self._ensure_started()

    def render(
        self,
        job: RenderJob,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        idle_seconds: float = 0,
    ) -> bytes:
        """The PDF bytes for ``job``, or a ``RenderError`` within about ``timeout`` seconds.

        ``idle_seconds`` (0: never) is how long a process started for this job waits for the
        next one before it ends by itself, giving its memory back; the next render starts anew.
        """
        request = job.encode()
        with self._lock:
            self._idle_seconds = idle_seconds
            deadline = time.monotonic() + timeout
            for attempt in (1, 2):
                process = self._ensure_started()
                try:
                    reply = _exchange(process, request, deadline)
                    break
                except TimeoutError:
                    self._stop()
                    raise RenderTimeout(f"the PDF render took longer than {timeout:g} s") from None
                except (OSError, EOFError):
                    # Exit status 0: it was ending for being idle just as the job arrived, so
                    # one more try with a new process. Anything else is a crash.
                    idle_end = _exit_status(process) == 0
                    self._stop()
                    if attempt == 2 or not idle_end:
                        raise RendererCrashed("the PDF renderer ended during a render") from None
        status, body = reply
        if status == OK:
            return body
        if status == FAILED:
            raise RenderFailed(body.decode("ascii", "replace"))
        self.stop()
        raise RendererCrashed("the PDF renderer answered out of turn")

    def stop(self) -> None:
        """End the process (it is started again by the next render)."""
        with self._lock:
            self._stop()

    def _live_process(self) -> subprocess.Popen[bytes] | None:
        process = self._process
        if process is None or self._owner_pid != os.getpid() or process.poll() is not None:
            return None
        return process

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        process = self._live_process()
        if process is not None:
            return process
        if self._process is not None and self._owner_pid == os.getpid():
            self._stop()  # it died between renders: reap it and start afresh
        # A forked child (a gunicorn worker forked after a render in the master) must not share
        # its parent's pipes: it starts its own process and leaves the parent's alone.
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={
                    **renderer_environment(),
                    "INTAKE_RENDERER_IDLE_SECONDS": str(self._idle_seconds),
                },
            )
        except OSError as exc:
            self._process = None
            raise RendererCrashed(f"the PDF renderer could not start: {exc.strerror}") from None
        assert self._process.stdin is not None
        # Written with select and a deadline: a blocking write could wait forever on a hung
        # renderer once the pipe's buffer is full.
        os.set_blocking(self._process.stdin.fileno(), False)
        self._owner_pid = os.getpid()
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or self._owner_pid != os.getpid():
            return
        if process.stdin:
            process.stdin.close()
        if process.stdout:
            process.stdout.close()
        process.kill()
        process.wait()


def _exit_status(process: subprocess.Popen[bytes]) -> int | None:
    """How the process ended, once its pipe closed (None: it has not, within a moment)."""
    try:
        return process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def _exchange(
    process: subprocess.Popen[bytes], request: bytes, deadline: float
) -> tuple[bytes, bytes]:
    """Send one job and read its reply: the status byte and the body."""
    assert process.stdin is not None and process.stdout is not None
    _write(process.stdin.fileno(), request, deadline)
    replies = process.stdout.fileno()
    status = _read(replies, 1, deadline)
    body = _read(replies, frame_length(_read(replies, HEADER_SIZE, deadline)), deadline)
    return status, body


def _write(fd: int, data: bytes, deadline: float) -> None:
    """All of ``data`` into a pipe, waiting no later than ``deadline`` (the reader may hang)."""
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([], [fd], [], left)[1]:
            raise TimeoutError
        view = view[os.write(fd, view) :]


def _read(fd: int, size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes from a pipe, waiting no later than ``deadline``."""
    chunks: list[bytes] = []
    wanted = size
    while wanted:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, min(wanted, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


#: This process's renderer.
RENDERER = Renderer()
atexit.register(RENDERER.stop)
