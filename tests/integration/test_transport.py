"""The emulator's short cut to moto (a Unix socket instead of HTTP) answers as the HTTP port does."""
import io

import boto3
import pytest
from botocore.exceptions import ClientError

from docingest_cli import direct_transport
from docingest_cli.emulator import EmbeddedServer

KEYS = ["plain.txt", "with space/and+plus.html", "ünïcode/日本語 ?&=#.txt", "a%20b/%2F.txt"]


@pytest.fixture(scope="module")
def server():
    embedded = EmbeddedServer()
    endpoint = embedded.start()
    yield endpoint, embedded.direct_socket
    embedded.stop()


def clients(endpoint: str, socket_path: str, service: str, region: str = "us-east-1"):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    over_http = session.client(service, endpoint_url=endpoint)
    direct = session.client(service, endpoint_url=endpoint)
    direct.sender = direct_transport.DirectSender(endpoint, socket_path)
    direct_transport.attach(direct, endpoint, socket_path, sender=direct.sender)
    return over_http, direct


def test_s3_objects_round_trip_the_same_both_ways(server):
    endpoint, socket_path = server
    over_http, direct = clients(endpoint, socket_path, "s3")
    direct.create_bucket(Bucket="transport-test")
    for index, key in enumerate(KEYS):
        body = (f"body {index} " * 1000).encode()
        writer, reader = (direct, over_http) if index % 2 else (over_http, direct)
        writer.put_object(Bucket="transport-test", Key=key, Body=io.BytesIO(body), ContentType="text/html")
        got = reader.get_object(Bucket="transport-test", Key=key)
        assert got["Body"].read() == body and got["ContentType"] == "text/html" and got["ContentLength"] == len(body)
        assert b"".join(direct.get_object(Bucket="transport-test", Key=key)["Body"].iter_chunks(1000)) == body
    listed = lambda client: sorted(o["Key"] for o in client.list_objects_v2(Bucket="transport-test")["Contents"])  # noqa: E731
    assert listed(direct) == listed(over_http) == sorted(KEYS)
    for client in (direct, over_http):
        with pytest.raises(ClientError) as error:
            client.get_object(Bucket="transport-test", Key="missing")
        assert error.value.response["Error"]["Code"] == "NoSuchKey"
    assert direct.sender.sent == 1 + 2 * len(KEYS) + 2  # every one of its requests took the short cut


def test_s3_object_answers_are_the_same_both_ways(server):
    endpoint, socket_path = server
    over_http, direct = clients(endpoint, socket_path, "s3")
    over_http.create_bucket(Bucket="answers-test")
    over_http.put_bucket_versioning(Bucket="answers-test", VersioningConfiguration={"Status": "Enabled"})

    def answer(call):
        try:
            response = call()
        except ClientError as error:
            return {"error": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
        body = response.pop("Body").read() if "Body" in response else None
        metadata = response.pop("ResponseMetadata")
        headers = {k: v for k, v in metadata["HTTPHeaders"].items() if k not in ("date", "x-amz-request-id", "x-amz-id-2", "server", "connection", "x-amzn-requestid",
                                                                               "x-amz-content-sha256",  # a signed PUT's, echoed
                                                                               "last-modified", "x-amz-version-id")}
        response.pop("VersionId", None), response.pop("LastModified", None)
        return response, body, headers, metadata["HTTPStatusCode"]

    calls = [
        lambda c, k: c.put_object(Bucket="answers-test", Key=k, Body=b"x" * 5000, ContentType="application/json"),
        lambda c, k: c.put_object(Bucket="answers-test", Key=k, Body=b"y", IfNoneMatch="*"),
        lambda c, k: c.get_object(Bucket="answers-test", Key=k),
        lambda c, k: c.head_object(Bucket="answers-test", Key=k),
        lambda c, k: c.get_object(Bucket="answers-test", Key=k + "-missing"),
        lambda c, k: c.head_object(Bucket="answers-test", Key=k + "-missing"),
        lambda c, k: c.get_object(Bucket="answers-test-missing", Key=k),
    ]
    for index, call in enumerate(calls):
        assert answer(lambda: call(direct, "d/é key")) == answer(lambda: call(over_http, "h/é key")), index
    assert direct.sender.sent == len(calls)


def test_dynamodb_and_sqs_answer_the_same_both_ways(server):
    endpoint, socket_path = server
    dynamo_http, dynamo_direct = clients(endpoint, socket_path, "dynamodb")
    dynamo_direct.create_table(TableName="transport-test", BillingMode="PAY_PER_REQUEST",
                               KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                               AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
    dynamo_direct.update_item(TableName="transport-test", Key={"k": {"S": "a"}}, UpdateExpression="ADD n :one",
                              ExpressionAttributeValues={":one": {"N": "1"}})
    dynamo_http.update_item(TableName="transport-test", Key={"k": {"S": "a"}}, UpdateExpression="ADD n :one",
                            ExpressionAttributeValues={":one": {"N": "1"}})
    assert dynamo_direct.get_item(TableName="transport-test", Key={"k": {"S": "a"}})["Item"]["n"] == {"N": "2"}
    with pytest.raises(ClientError) as error:
        dynamo_direct.put_item(TableName="transport-test", Item={"k": {"S": "a"}}, ConditionExpression="attribute_not_exists(k)")
    assert error.value.response["Error"]["Code"] == "ConditionalCheckFailedException"

    sqs_http, sqs_direct = clients(endpoint, socket_path, "sqs")
    url = sqs_direct.create_queue(QueueName="transport-test")["QueueUrl"]
    assert url == sqs_http.get_queue_url(QueueName="transport-test")["QueueUrl"] and url.startswith(endpoint)
    sqs_direct.send_message(QueueUrl=url, MessageBody='{"doc_id": "ü"}')
    message = sqs_http.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
    assert message["Body"] == '{"doc_id": "ü"}'
    assert dynamo_direct.sender.sent == 4 and sqs_direct.sender.sent == 2


def test_unsigned_requests_keep_their_region_and_account(server):
    endpoint, socket_path = server
    over_http, direct = clients(endpoint, socket_path, "sqs", region="eu-west-1")
    sent = []
    direct.meta.events.register("before-send", lambda request, **_: sent.append(dict(request.headers)), unique_id="spy")
    url = direct.create_queue(QueueName="transport-region-test")["QueueUrl"]
    authorization = sent[0]["Authorization"]
    authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
    assert authorization.endswith("/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0")  # not computed
    assert over_http.get_queue_url(QueueName="transport-region-test")["QueueUrl"] == url
    assert "eu-west-1" in over_http.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    elsewhere = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    with pytest.raises(ClientError):
        elsewhere.client("sqs", endpoint_url=endpoint).get_queue_url(QueueName="transport-region-test")
    presigned = direct.generate_presigned_url("get_queue_attributes", Params={"QueueUrl": url})
    assert "X-Amz-Signature=" in presigned  # presigned URLs are still signed


def test_other_endpoints_are_left_to_http():
    sender = direct_transport.DirectSender("http://127.0.0.1:1234", "/nonexistent.sock")

    class Request:
        url, method, headers, body = "http://127.0.0.1:12345/", "GET", {}, b""

    assert sender(Request()) is None  # another port: not the emulator's


def test_plain_dynamodb_requests_are_written_as_botocore_writes_them():
    import json
    import random

    from botocore import serialize
    from botocore.session import get_session

    service = get_session().get_service_model("dynamodb")
    plain_class, usual = direct_transport.plain_json_serializer(), serialize.JSONSerializer()

    class WalkForbidden(plain_class):
        def _serialize(self, *args, **kwargs):
            raise AssertionError("the service model was walked")

    rng = random.Random(11)
    values = [{"S": "text é"}, {"N": "12.5"}, {"BOOL": True}, {"NULL": True}, {"SS": ["a", "b"]}, {"L": [{"S": "x"}, {"N": "1"}]},
              {"M": {"k": {"S": "v"}, "n": {"L": []}}}]
    for _ in range(300):
        item = {f"a{i}": rng.choice(values) for i in range(rng.randint(1, 6))}
        item["pk"] = {"S": f"p{rng.randint(0, 9)}"}
        operation, params = rng.choice([
            ("PutItem", {"TableName": "t", "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}),
            ("UpdateItem", {"TableName": "t", "Key": {"pk": item["pk"]}, "UpdateExpression": "SET #a = :v",
                            "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":v": item.get("a0", {"S": "x"})},
                            "ReturnValues": "ALL_NEW"}),
            ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": item}},
                                                     {"Update": {"TableName": "t", "Key": {"pk": {"S": "q"}},
                                                                 "UpdateExpression": "ADD c :one",
                                                                 "ExpressionAttributeValues": {":one": {"N": "1"}}}}]}),
            ("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": item}}]}}),
            ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"pk": item["pk"]}], "ConsistentRead": rng.random() < 0.5}}}),
            ("Query", {"TableName": "t", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": item["pk"]},
                       "Limit": rng.randint(1, 100), "ScanIndexForward": False}),
        ])
        model = service.operation_model(operation)
        expected, written = usual.serialize_to_request(params, model), WalkForbidden().serialize_to_request(params, model)
        assert json.loads(written.pop("body")) == json.loads(expected.pop("body"))
        assert written == expected
    binary = {"TableName": "t", "Item": {"pk": {"S": "p"}, "data": {"B": b"\x00\x01"}}}  # botocore's way: base64
    model = service.operation_model("PutItem")
    assert plain_class().serialize_to_request(binary, model)["body"] == usual.serialize_to_request(binary, model)["body"]
    with pytest.raises(AssertionError, match="walked"):
        WalkForbidden().serialize_to_request(binary, model)


def test_the_user_agent_is_the_same_with_its_cleaning_remembered(monkeypatch):
    from botocore import useragent
    from botocore.config import Config

    monkeypatch.setattr(useragent, "sanitize_user_agent_string_component", useragent.sanitize_user_agent_string_component)
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b",
                          config=Config(user_agent_extra="docingest tests/1 ñ#x", retries={"mode": "standard"}))
    before = client._user_agent_creator.to_string()
    direct_transport.cache_user_agent_sanitising()
    assert hasattr(useragent.sanitize_user_agent_string_component, "cache_info")
    assert client._user_agent_creator.to_string() == before == client._user_agent_creator.to_string()
    assert useragent.sanitize_user_agent_string_component("a b#c", allow_hash=True) == "a-b#c"
