"""fetch: S3 notifications and URL messages in; raw bytes kept, a document record, a clean message out."""
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from docingest import pipeline
from docingest.handler import count, guarded, receive_count, services, sqs_batch_handler
from docingest.lifecycle import Stage
from docingest.messages import parse_fetch_message


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    request = parse_fetch_message(record.body)
    if not (request.url or request.objects):  # s3:TestEvent
        count(Stage.FETCH, pipeline.Outcome.SKIPPED, "-")
    if request.url:
        with guarded(pipeline.Attempt(Stage.FETCH, receive_count(record)), lambda_context) as attempt:
            doc_id, outcome = pipeline.fetch_url(services(), request.url, attempt)
        count(Stage.FETCH, outcome, doc_id)
    for item in request.objects:
        with guarded(pipeline.Attempt(Stage.FETCH, receive_count(record)), lambda_context) as attempt:
            doc_id, outcome = pipeline.fetch_s3_object(services(), item.s3.bucket.name, item.key, item.eventTime, attempt)
        count(Stage.FETCH, outcome, doc_id)


lambda_handler = sqs_batch_handler(record_handler)
