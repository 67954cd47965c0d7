"""The exceptions of the EHR hand-off, in one place so every module raises the same ones."""

from __future__ import annotations


class EhrError(Exception):
    """A FHIR exchange with the EHR failed; the message says what a person can check or do."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class EhrNotFoundError(EhrError):
    """The EHR has no such resource (HTTP 404 or 410): an answer, not an outage."""


class EhrAuthError(EhrError):
    """No usable access token. ``transient`` errors (network, 5xx) may pass if tried again later;
    the others need a settings or registration fix first."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message, status=status)
        self.transient = transient
