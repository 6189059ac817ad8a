"""fetch: S3 notifications and URL messages in; raw bytes kept, a document record, a clean message out."""
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from docingest import pipeline
from docingest.handler import count, services, sqs_batch_handler
from docingest.lifecycle import Stage
from docingest.messages import parse_fetch_message


def record_handler(record: SQSRecord) -> None:
    request = parse_fetch_message(record.body)
    if not (request.url or request.objects):  # s3:TestEvent
        count(Stage.FETCH, pipeline.Outcome.SKIPPED, "-")
    if request.url:
        attempt = int(record.attributes.approximate_receive_count)
        with pipeline.final_attempt_marks_failed(services(), Stage.FETCH, pipeline.url_request_id(request.url), attempt):
            doc_id, outcome = pipeline.fetch_url(services(), request.url)
        count(Stage.FETCH, outcome, doc_id)
    for item in request.objects:
        doc_id, outcome = pipeline.fetch_s3_object(services(), item.s3.bucket.name, item.key, item.eventTime)
        count(Stage.FETCH, outcome, doc_id)


lambda_handler = sqs_batch_handler(record_handler)
