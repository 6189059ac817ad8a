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
    assert result.returncode == 0, result.stderr[-2000:]
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


def test_up_then_the_aws_cli_drops_a_file_and_the_commands_inspect_it(tmp_path):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    up = subprocess.Popen([INGEST, "up", "--port", str(port), "--retry-delay", "0"], cwd=ROOT, env=clean_environment(),
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
