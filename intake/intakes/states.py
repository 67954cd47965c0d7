"""Where an intake stands, worked out in one place for the worklist, the intake page and tests.

Two steps, so the worklist can filter with an index: the *stage* is what has happened (invited,
started, submitted, reviewed, revoked, locked) and is stored on the intake; the *state* is the stage
plus the clock, because an unused link expires without anything being written. Everything that
shows or filters a state goes through ``stage`` and ``state`` here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from intake.clock import as_utc

Stage = Literal["invited", "in_progress", "submitted", "reviewed", "revoked", "locked"]
State = Literal["invited", "in_progress", "submitted", "reviewed", "expired", "revoked", "locked"]

STAGES: tuple[Stage, ...] = get_args(Stage)
STATES: tuple[State, ...] = get_args(State)
#: The stages whose link is still in use, and so can run out: "expired" is one of these, late.
EXPIRABLE: tuple[Stage, ...] = ("invited", "in_progress")


def stage(*, submitted: bool, reviewed: bool, revoked: bool, locked: bool, started: bool) -> Stage:
    """What has happened to an intake, the latest step first.

    A submitted intake stays submitted whatever happens to its link afterwards: the answers are in.
    """
    if reviewed:
        return "reviewed"
    if submitted:
        return "submitted"
    if revoked:
        return "revoked"
    if locked:
        return "locked"
    return "in_progress" if started else "invited"


def state(stage: Stage | str, expires_at: datetime, now: datetime) -> State:
    """The stage, or "expired" when a link still in use ran out before the patient sent it."""
    if stage in EXPIRABLE and as_utc(expires_at) < now:
        return "expired"
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return stage
