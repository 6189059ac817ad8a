"""The emulator's function workers: one Lambda execution environment per process."""
import pytest

from docingest_cli.deployment import Function
from docingest_cli.emulator import FunctionTimeout, FunctionWorker, LambdaContext

APP = '''
import os, sys, time

def lambda_handler(event, context):
    print("a log line")  # goes to stderr, never into the protocol
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("fail"):
        raise ValueError("bad batch")
    return {"pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis(), "answer": event.get("x", 0) * 2,
            "setting": os.environ.get("SOME_SETTING")}
'''


@pytest.fixture
def worker(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    function = Function(logical_id="Slow", code_path=tmp_path, handler="app.lambda_handler", timeout=2,
                        environment={"SOME_SETTING": "from-the-template"})
    worker = FunctionWorker(function)
    yield worker
    worker.stop()


def test_a_worker_runs_invocations_in_one_process_with_the_function_environment(worker):
    first = worker({"x": 21}, LambdaContext("Slow", 2, "us-east-1"))
    second = worker({"x": 1}, LambdaContext("Slow", 2, "us-east-1"))
    assert first["answer"] == 42 and second["answer"] == 2 and first["pid"] == second["pid"]
    assert first["setting"] == "from-the-template" and 0 < first["remaining_ms"] <= 2000
    assert worker.cold_starts == 1


def test_an_error_in_the_handler_fails_the_invocation_and_keeps_the_worker(worker):
    with pytest.raises(RuntimeError, match="ValueError: bad batch"):
        worker({"fail": True}, LambdaContext("Slow", 2, "us-east-1"))
    assert worker({"x": 1}, LambdaContext("Slow", 2, "us-east-1"))["answer"] == 2
    assert worker.cold_starts == 1


def test_an_invocation_past_the_timeout_kills_the_worker_and_the_next_one_starts_cold(worker):
    before = worker({"x": 1}, LambdaContext("Slow", 2, "us-east-1"))["pid"]
    with pytest.raises(FunctionTimeout, match="Slow timed out after 2 s"):
        worker({"sleep": 30}, LambdaContext("Slow", 2, "us-east-1"))
    after = worker({"x": 1}, LambdaContext("Slow", 2, "us-east-1"))["pid"]
    assert after != before and worker.cold_starts == 2
