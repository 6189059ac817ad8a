"""The `ingest` command as a user runs it: subprocesses, the real AWS CLI against `ingest up`."""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
INGEST = str(BIN / "ingest")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment() -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**environment, "SAM_CLI_TELEMETRY": "0"}


def test_run_json_output_follows_the_contract(tmp_path):
    result = subprocess.run([INGEST, "run", str(SAMPLES / "pt"), str(SAMPLES / "bad" / "empty.txt"), "--output", "json"],
                            capture_output=True, text=True, timeout=180, cwd=ROOT, env=clean_environment())
    assert result.returncode == 3 and result.stderr.endswith("1 document(s) FAILED\n"), result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    by_name = {Path(row["source"]).name: row for row in rows}
    assert by_name["empty.txt"]["status"] == "FAILED" and "empty" in by_name["empty.txt"]["error"]
    for name in ("cimeira-regional.html", "porto-novo.txt"):
        row = by_name[name]
        assert row["status"] == "DONE" and row["language"] == "pt"
        assert row["doc_id"] == hashlib.sha256((SAMPLES / "pt" / name).read_bytes()).hexdigest()
        assert row["text"] and "title" in row
        for entity in row["entities"]:
            assert set(entity) >= {"text", "type", "start", "end"}
            assert row["text"][entity["start"]:entity["end"]] == entity["text"]


def test_run_waits_for_the_urls_of_a_url_list_and_fails_when_they_fail(tmp_path):
    urls = ["http://127.0.0.1/private-page", "ftp://example.org/file"]
    listing = tmp_path / "reading.urls"
    listing.write_text("# to read\n" + "\n".join(urls) + "\n")
    result = subprocess.run([INGEST, "run", str(listing), "--output", "json"], capture_output=True, text=True, timeout=180,
                            cwd=ROOT, env=clean_environment())
    assert result.returncode == 3 and "2 document(s) FAILED" in result.stderr, result.stderr[-2000:]
    first, *children = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["source"] == str(listing) and first["status"] == "DONE" and first["urls_queued"] == 2 and first["via"] is None
    assert [row["source"] for row in children] == urls
    for row in children:
        assert row["via"] == str(listing) and row["status"] == "FAILED" and row["failed_stage"] == "fetch" and row["error"]
        assert row["doc_id"] == hashlib.sha256(b"url:" + row["source"].encode()).hexdigest()


def test_up_then_the_aws_cli_drops_a_file_and_the_commands_inspect_it(tmp_path):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    up = subprocess.Popen([INGEST, "up", "--port", str(port), "--state", "none", "--retry-delay", "0"], cwd=ROOT, env=clean_environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert endpoint in up.stdout.readline()
        environment = {**clean_environment(), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}
        sample = SAMPLES / "en" / "council-vote.txt"
        copied = subprocess.run([str(BIN / "aws"), "--endpoint-url", endpoint, "s3", "cp", str(sample),
                                 "s3://docingest-inbox-bucket/my uploads/council vote.txt"],
                                capture_output=True, text=True, timeout=60, env=environment)
        assert copied.returncode == 0, copied.stderr
        doc_id = hashlib.sha256(sample.read_bytes()).hexdigest()
        deadline, shown = time.time() + 60, None
        while time.time() < deadline:
            shown = subprocess.run([INGEST, "show", doc_id, "--endpoint-url", endpoint], capture_output=True, text=True,
                                   timeout=60, cwd=ROOT, env=environment)
            if '"status": "DONE"' in shown.stdout:
                break
            time.sleep(1)
        assert '"status": "DONE"' in shown.stdout, shown.stdout + shown.stderr
        assert "council vote.txt" in shown.stdout and "--- entities" in shown.stdout
        listed = subprocess.run([INGEST, "entities", "--type", "PER", "--output", "json", "--endpoint-url", endpoint],
                                capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment)
        people = [json.loads(line) for line in listed.stdout.splitlines()]
        assert people and all(p["type"] == "PER" and p["documents"] == 1 for p in people), listed.stdout + listed.stderr
        assert [p["mentions"] for p in people] == sorted((p["mentions"] for p in people), reverse=True)
        searched = subprocess.run([INGEST, "search-entity", people[0]["name"], "--endpoint-url", endpoint],
                                  capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment)
        assert searched.returncode == 0 and people[0]["key"] in searched.stdout and doc_id[:12] in searched.stdout
        missing = subprocess.run([INGEST, "search-entity", "Nobody Anywhere", "--endpoint-url", endpoint],
                                 capture_output=True, text=True, timeout=60, cwd=ROOT, env=environment)
        assert missing.returncode == 1 and "no entity matches" in missing.stdout
        status = subprocess.run([INGEST, "status", "--endpoint-url", endpoint], capture_output=True, text=True,
                                timeout=60, cwd=ROOT, env=environment)
        assert "DONE" in status.stdout and "FetchDeadLetterQueue" in status.stdout
        redrive = subprocess.run([INGEST, "redrive", "clean", "--endpoint-url", endpoint], capture_output=True,
                                 text=True, timeout=60, cwd=ROOT, env=environment)
        assert "CleanDeadLetterQueue -> CleanQueue: 0 message(s)" in redrive.stdout, redrive.stderr
    finally:
        up.terminate()
        up.wait(timeout=20)


def test_invoke_runs_a_handler_with_a_sample_event():
    result = subprocess.run([INGEST, "invoke", "fetch", "--event", "events/fetch-s3-notification-moto.json"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env=clean_environment())
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"batchItemFailures": []}


@pytest.fixture(scope="module")
def up_endpoint():
    """One `ingest up` for the tests that inspect a running emulator."""
    port = free_port()
    up = subprocess.Popen([INGEST, "up", "--port", str(port), "--state", "none", "--retry-delay", "0"], cwd=ROOT, env=clean_environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        assert endpoint in up.stdout.readline()
        yield endpoint
    finally:
        up.terminate()
        up.wait(timeout=20)


def put_sample(endpoint: str, key: str, path: Path) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.put_object(Bucket="docingest-inbox-bucket", Key=key, Body=path.read_bytes())


def s3_put_event(bucket: str, key: str) -> dict:
    """What `sam local generate-event s3 put --bucket B --key K` prints (not wrapped in SQS)."""
    return {"Records": [{
        "eventVersion": "2.0", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "1970-01-01T00:00:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"}, "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": key, "size": 1024, "eTag": "0123456789abcdef0123456789abcdef", "sequencer": "0A1B2C3D4E5F678901"}},
    }]}


def test_invoke_with_an_endpoint_sends_the_handlers_calls_there_too(up_endpoint, tmp_path):
    """With credentials set, the handler's own clients used to reach AWS: only AWS_ENDPOINT_URL was honoured."""
    put_sample(up_endpoint, "samples/en/council-vote.txt", SAMPLES / "en" / "council-vote.txt")
    someones_credentials = {**clean_environment(), "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
                            "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com"}
    result = subprocess.run([INGEST, "invoke", "fetch", "--event", "events/fetch-s3-notification.json", "--endpoint-url", up_endpoint],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env=someones_credentials)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"batchItemFailures": []}


def test_invoke_wraps_a_raw_s3_event_for_the_fetch_function(up_endpoint, tmp_path):
    put_sample(up_endpoint, "samples/pt/porto-novo.txt", SAMPLES / "pt" / "porto-novo.txt")
    event = tmp_path / "s3-put.json"
    event.write_text(json.dumps(s3_put_event("docingest-inbox-bucket", "samples/pt/porto-novo.txt")))
    result = subprocess.run([INGEST, "invoke", "fetch", "--event", str(event), "--endpoint-url", up_endpoint],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env=clean_environment())
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == {"batchItemFailures": []}


def test_invoke_refuses_a_bad_event_in_one_line(tmp_path):
    hello = tmp_path / "sqs.json"  # `sam local generate-event sqs receive-message`
    hello.write_text(json.dumps({"Records": [{
        "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78", "receiptHandle": "MessageReceiptHandle", "body": "Hello from SQS!",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1523232000000", "SenderId": "123456789012",
                       "ApproximateFirstReceiveTimestamp": "1523232000001"},
        "messageAttributes": {}, "md5OfBody": "7b270e59b47ff90a553787216d55d91d", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:MyQueue", "awsRegion": "us-east-1"}]}))
    elsewhere = tmp_path / "s3-put.json"
    elsewhere.write_text(json.dumps(s3_put_event("example-bucket", "test/key")))
    for event, expected in ((hello, "is not a message FetchFunction takes"), (tmp_path / "missing.json", "no event file"),
                            (elsewhere, "s3://example-bucket/test/key, named by the event, does not exist")):
        result = subprocess.run([INGEST, "invoke", "fetch", "--event", str(event)], capture_output=True, text=True,
                                timeout=120, cwd=ROOT, env=clean_environment())
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr


def test_status_into_a_closed_pipe_stops_quietly(up_endpoint):
    """`ingest status | head -2`: the reader goes away; no BrokenPipeError on stderr."""
    read, write = os.pipe()
    os.close(read)
    status = subprocess.Popen([INGEST, "status", "--endpoint-url", up_endpoint], stdout=write, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, env=clean_environment())
    os.close(write)
    _, errors = status.communicate(timeout=60)
    assert "BrokenPipeError" not in errors and "Traceback" not in errors, errors
    assert status.returncode == 141


def test_stage_commands_follow_the_jsonl_contract():
    lines = "\n".join([
        json.dumps({"id": 1, "content": "<html><body><article><p>Mayor Ana Lima opened the market in Recife on Monday. "
                    "The market will sell fish and fruit every day.</p></article></body></html>", "content_type": "text/html"}),
        "{broken",
        json.dumps({"id": "b", "content": "", "content_type": "text/plain"}),
        json.dumps({"id": 4, "text": "missing the content field"}),
    ]) + "\n"
    result = subprocess.run([INGEST, "stage", "clean"], input=lines, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["id"] for row in rows] == [1, None, "b", 4]
    assert "Mayor Ana Lima" in rows[0]["text"] and "error" not in rows[0]
    assert all("error" in row for row in rows[1:])

    text = "A presidente Ana Ribeiro visitou Lisboa em 3 de maio de 2024."
    detected = subprocess.run([INGEST, "stage", "detect-language"], input=json.dumps({"id": "x", "text": text}) + "\n",
                              capture_output=True, text=True, timeout=60)
    (row,) = [json.loads(line) for line in detected.stdout.splitlines()]
    assert row["id"] == "x" and row["language"] == "pt" and 0 < row["confidence"] <= 1

    extracted = subprocess.run([INGEST, "stage", "extract-entities"],
                               input=json.dumps({"id": "x", "text": text, "language": "pt"}) + "\n",
                               capture_output=True, text=True, timeout=60)
    (row,) = [json.loads(line) for line in extracted.stdout.splitlines()]
    assert row["id"] == "x"
    found = {(e["text"], e["type"]) for e in row["entities"]}
    assert {("Ana Ribeiro", "PER"), ("Lisboa", "LOC")} <= found
    for entity in row["entities"]:
        assert text[entity["start"]:entity["end"]] == entity["text"]


def test_up_refuses_a_busy_port_and_its_server_dies_with_it():
    port = free_port()
    up = subprocess.Popen([INGEST, "up", "--port", str(port), "--state", "none"], cwd=ROOT, env=clean_environment(),
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert f"http://127.0.0.1:{port}" in up.stdout.readline()
        second = subprocess.run([INGEST, "up", "--port", str(port), "--state", "none"], capture_output=True, text=True, timeout=60, cwd=ROOT,
                                env=clean_environment())
        assert second.returncode != 0 and f"port {port} of 127.0.0.1 is in use" in second.stderr, second.stderr
        assert second.stderr.count("\n") == 1 and not second.stdout
        assert listening(port)  # the first one still serves
    finally:
        up.kill()  # kill -9: no chance to stop its moto server
        up.wait(timeout=20)
    deadline = time.time() + 5
    while listening(port) and time.time() < deadline:
        time.sleep(0.1)
    assert not listening(port), "the moto server outlived `ingest up`"


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
