"""Document status life cycle: RECEIVED -> FETCHED -> CLEANED -> LANGUAGE_DETECTED -> DONE, or FAILED."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    FETCHED = "FETCHED"
    CLEANED = "CLEANED"
    LANGUAGE_DETECTED = "LANGUAGE_DETECTED"
    DONE = "DONE"
    FAILED = "FAILED"


class Stage(StrEnum):
    FETCH = "fetch"
    CLEAN = "clean"
    DETECT_LANGUAGE = "detect_language"
    EXTRACT_ENTITIES = "extract_entities"


# error_kind of a FAILED record that its stage may retry (a redelivery or a redrive); any other (bad_input) is for good
RETRYABLE_ERROR_KINDS = ("gave_up", "timed_out")

PROGRESS = [Status.RECEIVED, Status.FETCHED, Status.CLEANED, Status.LANGUAGE_DETECTED, Status.DONE]
FINAL = {Status.DONE, Status.FAILED}

# The status a stage moves a document to, and the one it expects to find.
STAGE_RESULT = {
    Stage.FETCH: Status.FETCHED,
    Stage.CLEAN: Status.CLEANED,
    Stage.DETECT_LANGUAGE: Status.LANGUAGE_DETECTED,
    Stage.EXTRACT_ENTITIES: Status.DONE,
}


def expected_before(stage: Stage) -> Status:
    return PROGRESS[PROGRESS.index(STAGE_RESULT[stage]) - 1]


def timestamp_attribute(status: Status) -> str:
    return f"{status.lower()}_at"


def is_past(status: str, stage: Stage) -> bool:
    """True when a document already went beyond what ``stage`` produces (a redelivered message)."""
    if status not in PROGRESS:
        return False
    return PROGRESS.index(Status(status)) > PROGRESS.index(STAGE_RESULT[stage])
