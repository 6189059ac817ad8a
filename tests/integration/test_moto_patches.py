"""The emulator's moto speed fixes keep AWS's behaviour."""
import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from docingest_cli import moto_patches


def test_received_messages_still_honour_the_retention_period(monkeypatch, aws_credentials):
    moto_patches.apply()
    with mock_aws():
        from moto.sqs import models

        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="fresh")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]] == ["fresh"]
        now = models.unix_time()
        monkeypatch.setattr(models, "unix_time", lambda: now + 61)  # past the retention period
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_sending_skips_the_queue_attributes_and_keeps_their_answers(aws_credentials):
    moto_patches.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        standard = sqs.create_queue(QueueName="standard")["QueueUrl"]
        fifo = sqs.create_queue(QueueName="dedup.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
        for index in range(3):
            sqs.send_message(QueueUrl=standard, MessageBody=f"m{index}")
            sqs.send_message(QueueUrl=fifo, MessageBody="same body", MessageGroupId="g")  # deduplicated by content
        counts = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "3" and "ContentBasedDeduplication" not in counts
        fifo_attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
        assert fifo_attributes["ContentBasedDeduplication"] == "true" and fifo_attributes["ApproximateNumberOfMessages"] == "1"
        with pytest.raises(ClientError):  # a FIFO queue without content deduplication still asks for an id
            plain_fifo = sqs.create_queue(QueueName="plain.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            sqs.send_message(QueueUrl=plain_fifo, MessageBody="x", MessageGroupId="g")
