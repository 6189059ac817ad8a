"""The Lambda adapter shared by the stages that take a ``{"doc_id"}`` message from SQS.

Usage in ``functions/clean/app.py``::

    lambda_handler = document_stage_handler(Stage.CLEAN, pipeline.clean_document)
"""
from __future__ import annotations

from functools import cache
from typing import Callable

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from docingest import pipeline
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


def sqs_batch_handler(record_handler: Callable[[SQSRecord], None]) -> Callable[[dict, LambdaContext], dict]:
    """A Lambda handler over an SQS batch with partial batch failure responses."""
    processor = BatchProcessor(event_type=EventType.SQS)

    @metrics.log_metrics
    @logger.inject_lambda_context
    def lambda_handler(event: dict, context: LambdaContext) -> dict:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

    return lambda_handler


def document_stage_handler(stage: Stage, step: Callable[[pipeline.Services, str], pipeline.Outcome]):
    """The handler of a stage that takes ``{"doc_id"}`` messages and runs ``step`` on each."""

    def record_handler(record: SQSRecord) -> None:
        message = DocumentMessage.model_validate_json(record.body)
        attempt = int(record.attributes.approximate_receive_count)
        with pipeline.final_attempt_marks_failed(services(), stage, message.doc_id, attempt):
            outcome = step(services(), message.doc_id)
        count(stage, outcome, message.doc_id)

    return sqs_batch_handler(record_handler)
