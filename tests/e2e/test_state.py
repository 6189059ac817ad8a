"""`ingest up --state DIR`: killed with kill -9 mid-run and restarted, it finishes every document once."""
import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from tests.conftest import ROOT, SAMPLES
from tests.e2e.test_cli import INGEST, clean_environment, free_port

pytestmark = pytest.mark.e2e
DOCUMENTS = 80  # enough that the run outlasts the first snapshot after the drop (every 2 s)


def start_up(port: int, state: Path) -> subprocess.Popen:
    up = subprocess.Popen([INGEST, "up", "--port", str(port), "--state", str(state), "--retry-delay", "0"], cwd=ROOT,
                          env=clean_environment(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert f"http://127.0.0.1:{port}" in up.stdout.readline()
    return up


def kill_everything(up: subprocess.Popen) -> None:
    """kill -9 of moto's process and of `ingest up`: no last snapshot, only the periodic ones count."""
    children = Path(f"/proc/{up.pid}/task/{up.pid}/children").read_text().split()
    for pid in children:
        os.kill(int(pid), signal.SIGKILL)
    up.kill()
    up.wait(timeout=20)


def records(endpoint: str) -> list[dict]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")
    items, kwargs = [], {"TableName": "docingest-document-table"}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_killed_emulator_resumes_its_documents_from_the_state_folder(tmp_path):
    state, port = tmp_path / "state", free_port()
    endpoint = f"http://127.0.0.1:{port}"
    texts = sorted((SAMPLES / "en").glob("*.txt")) + sorted((SAMPLES / "pt").glob("*.txt"))
    up = start_up(port, state)
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        for n in range(DOCUMENTS):
            body = texts[n % len(texts)].read_text(encoding="utf-8") + f"\nRef. {n}\n"
            s3.put_object(Bucket="docingest-inbox-bucket", Key=f"site/{n:02d}.txt", Body=body.encode())
        dropped_at = time.time()
        deadline = time.time() + 60
        while time.time() < deadline:  # mid-run, after a snapshot that holds every drop
            done = [r for r in records(endpoint) if r["status"]["S"] == "DONE"]
            saved = (state / "moto-state.pickle").exists() and (state / "moto-state.pickle").stat().st_mtime > dropped_at + 0.5
            if saved and done:
                break
            time.sleep(0.2)
        assert 0 < len(done) < DOCUMENTS, "not killed mid-run"
        kill_everything(up)
        up = start_up(port, state)
        deadline = time.time() + 60
        while time.time() < deadline:
            found = records(endpoint)
            if len(found) == DOCUMENTS and all(r["status"]["S"] in ("DONE", "FAILED") for r in found):
                break
            time.sleep(0.3)
        assert sorted(r["source"]["S"] for r in found) == [f"s3://docingest-inbox-bucket/site/{n:02d}.txt" for n in range(DOCUMENTS)]
        assert all(r["status"]["S"] == "DONE" and len(r["sources"]["SS"]) == 1 for r in found), [
            (r["source"]["S"], r["status"]["S"], r.get("error")) for r in found if r["status"]["S"] != "DONE"]
    finally:
        up.terminate()
        up.wait(timeout=30)
