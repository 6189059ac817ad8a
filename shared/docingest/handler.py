"""The Lambda adapter shared by the stages that take a ``{"doc_id", "record"?, "text"?}`` message from SQS.

Usage in ``functions/clean/app.py``::

    lambda_handler = document_stage_handler(Stage.CLEAN, pipeline.clean_document)
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from typing import Callable, Iterator

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from docingest import pipeline
from docingest.deadline import Watchdog, work_deadline
from docingest.lifecycle import Stage
from docingest.messages import DocumentMessage

logger = Logger()
metrics = Metrics()


@cache
def services() -> pipeline.Services:
    return pipeline.Services.from_env()


def count(stage: Stage, outcome: pipeline.Outcome, doc_id: str) -> None:
    logger.info(f"{stage.value}: {outcome.value}", extra={"doc_id": doc_id, "stage": stage.value, "outcome": outcome.value})
    metrics.add_metric(name=f"Documents{outcome.value.capitalize()}", unit=MetricUnit.Count, value=1)


def sqs_batch_handler(record_handler: Callable[[SQSRecord, LambdaContext | None], None]) -> Callable[[dict, LambdaContext], dict]:
    """A Lambda handler over an SQS batch with partial batch failure responses.

    The records' hand-on messages go out together when the batch is done (``Queues.held``); a record
    whose message could not be sent is reported failed, so SQS delivers it again.
    """
    processor = BatchProcessor(event_type=EventType.SQS)

    def tagged_record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
        services().queues.tag(record.message_id)
        record_handler(record, lambda_context)

    @metrics.log_metrics
    @logger.inject_lambda_context
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        with services().queues.held() as outbox:
            response = process_partial_response(event=event, record_handler=tagged_record_handler, processor=processor,
                                                context=context)
        return with_failures(response, outbox.failed)

    return lambda_handler


def with_failures(response: dict, message_ids: set[str]) -> dict:
    """``response`` with these records added to its ``batchItemFailures``."""
    reported = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    added = [{"itemIdentifier": message_id} for message_id in sorted(message_ids - reported)]
    return {**response, "batchItemFailures": [*response.get("batchItemFailures", []), *added]} if added else response


@contextmanager
def guarded(attempt: pipeline.Attempt, lambda_context: LambdaContext | None) -> Iterator[pipeline.Attempt]:
    """One document's work within the function's time, ending FAILED rather than lost.

    The stages stop at their next check ``time_margin_seconds`` before the function's timeout; a
    watchdog records the timeout at half that margin if a step cannot be interrupted; and on the
    last delivery any error marks the document FAILED.
    """
    settings = services().settings
    remaining = lambda_context.get_remaining_time_in_millis() / 1000 if lambda_context else None
    if remaining is None:
        with pipeline.final_attempt_marks_failed(services(), attempt):
            yield attempt
        return

    def record_timeout() -> None:
        if attempt.doc_id:
            pipeline.mark_timed_out(watchdog_services(), attempt.stage, attempt.doc_id, remaining)

    with Watchdog(remaining - settings.time_margin_seconds / 2, record_timeout), \
            work_deadline(remaining - settings.time_margin_seconds), \
            pipeline.final_attempt_marks_failed(services(), attempt):
        yield attempt


def watchdog_services() -> pipeline.Services:
    """Services with clients of their own: the watchdog writes from another thread."""
    import boto3

    from docingest.adapters.documents import DocumentRepository

    base = services()
    documents = DocumentRepository(base.settings.document_table, boto3.session.Session().resource("dynamodb"))
    return pipeline.Services(base.settings, documents, base.store, base.queues)


def receive_count(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count or 1)


def document_stage_handler(stage: Stage, step: Callable[..., pipeline.Outcome]):
    """The handler of a stage that takes ``{"doc_id", "record"?, "text"?}`` messages and runs ``step`` on each."""

    def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
        message = DocumentMessage.model_validate_json(record.body)
        with guarded(pipeline.Attempt(stage, receive_count(record), message.doc_id), lambda_context):
            outcome = step(services(), message.doc_id, record=message.record, text=message.text)
        count(stage, outcome, message.doc_id)

    return sqs_batch_handler(record_handler)
