"""The emulator's state folder: one server at a time, restored whole, messages in flight visible again."""
import pickle

import boto3
import pytest
from moto import mock_aws

from docingest_cli.moto_state import STATE_FILE, Gate, StateError, StateStore


def test_a_snapshot_restores_objects_versions_items_and_messages_in_flight(tmp_path):
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_bucket_versioning(Bucket="kept-bucket", VersioningConfiguration={"Status": "Enabled"})
        for body in (b"first", b"second"):
            s3.put_object(Bucket="kept-bucket", Key="doc", Body=body)
        dynamodb.create_table(TableName="kept", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        dynamodb.put_item(TableName="kept", Item={"id": {"S": "a"}})
        url = sqs.create_queue(QueueName="kept", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="in flight")
        assert sqs.receive_message(QueueUrl=url)["Messages"]  # its consumer dies with the emulator
        store = StateStore(tmp_path)
        gate = Gate()
        gate.changes = 1
        store.save(gate)
        assert store.last_save["ok"] and store.saved_changes == 1
    with mock_aws():
        store.restore()
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        assert s3.get_object(Bucket="kept-bucket", Key="doc")["Body"].read() == b"second"
        assert len(s3.list_object_versions(Bucket="kept-bucket")["Versions"]) == 2
        s3.create_bucket(Bucket="kept-bucket")  # as provisioning does: the restored bucket stays
        assert s3.get_object(Bucket="kept-bucket", Key="doc")["Body"].read() == b"second"
        assert boto3.client("dynamodb", region_name="us-east-1").get_item(TableName="kept", Key={"id": {"S": "a"}})["Item"]
        (message,) = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="kept")["QueueUrl"])["Messages"]
        assert message["Body"] == "in flight"


def test_a_state_folder_serves_one_emulator_and_one_moto(tmp_path):
    first = StateStore(tmp_path)
    with pytest.raises(StateError, match="in use by another"):
        StateStore(tmp_path)
    assert first.folder == tmp_path
    other = tmp_path / "other"
    (other).mkdir()
    (other / STATE_FILE).write_bytes(pickle.dumps({"format": 1, "moto": "0.0.1", "services": {}}))
    with pytest.raises(StateError, match="saved by moto 0.0.1"):
        StateStore(other).restore()
