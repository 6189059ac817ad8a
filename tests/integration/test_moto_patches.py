"""The emulator's moto speed fixes keep AWS's behaviour."""
import boto3
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
