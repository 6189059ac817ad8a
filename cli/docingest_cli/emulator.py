"""The embedded emulator: moto's server on loopback, the template's resources created on it, and
one poller per SQS event-source mapping calling the function handlers in this process.

A development tool beside the product: no function imports it.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import boto3

from docingest_cli import direct_transport, lambda_runtime
from docingest_cli.deployment import Deployment, Function, QueueMapping
from docingest_cli.lambda_runtime import LambdaContext

log = logging.getLogger("docingest.emulator")
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
DEFAULT_RETRY_DELAY = 1
# Function logs at WARNING locally. Metrics stay on: Powertools never clears a disabled metric set.
QUIET_POWERTOOLS = {"POWERTOOLS_LOG_LEVEL": "WARNING"}


def reset_clients() -> None:
    """Forget boto3 clients and settings cached by the shared code (they hold the endpoint)."""
    from docingest import handler
    from docingest.adapters import aws

    aws.client.cache_clear()
    aws.resource.cache_clear()
    handler.services.cache_clear()


# Variables that would send boto3 elsewhere than AWS_ENDPOINT_URL, or to AWS despite it.
_ENDPOINT_OVERRIDES = ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",)


def endpoint_environment(endpoint: str | None, region: str, keep_credentials: bool = True) -> dict[str, str | None]:
    """What the functions' own boto3 clients need to reach ``endpoint`` (None: AWS itself); None unsets.

    Service-specific endpoints (``AWS_ENDPOINT_URL_S3``...) and ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``
    are unset: either would send a function's calls past the emulator to AWS. The user's credentials
    are kept when ``keep_credentials`` and some are set (LocalStack may check them); else local ones.
    """
    variables: dict[str, str | None] = {key: None for key in os.environ
                                        if key.startswith("AWS_ENDPOINT_URL_") or key in _ENDPOINT_OVERRIDES}
    variables.update({"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": region, "AWS_REGION": region})
    if endpoint and not (keep_credentials and ("AWS_ACCESS_KEY_ID" in os.environ or "AWS_PROFILE" in os.environ)):
        variables.update(LOCAL_CREDENTIALS)
    return variables


@contextlib.contextmanager
def patched_environment(variables: dict[str, str | None]):
    """Set (or, for None, unset) environment variables, and restore them on exit; cached clients are reset."""
    saved = {key: os.environ.get(key) for key in variables}
    _apply_environment(variables)
    reset_clients()
    try:
        yield
    finally:
        _apply_environment(saved)
        reset_clients()


def _apply_environment(variables: dict[str, str | None]) -> None:
    for key, value in variables.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class EmulatorError(RuntimeError):
    """The emulator could not start: the message says why (a busy port, a state folder in use...)."""


class EmbeddedServer:
    """moto's server on 127.0.0.1 in a child process (port 0 picks a free one) that dies with this one."""

    def __init__(self, port: int = 0, state_dir: Path | None = None, direct: bool = True):
        self.port = port
        self.state_dir = state_dir
        self._process: subprocess.Popen | None = None
        self._socket_dir = tempfile.mkdtemp(prefix="docingest-") if direct else None
        # the emulator's own processes reach moto here, without HTTP (direct_transport)
        self.direct_socket = os.path.join(self._socket_dir, "moto.sock") if self._socket_dir else None

    def start(self, timeout: float = 60) -> str:
        command = [sys.executable, "-m", "docingest_cli.moto_process", str(self.port)]
        if self.state_dir:
            command += ["--state", str(self.state_dir)]
        if self.direct_socket:
            command += ["--direct", self.direct_socket]
        # stdin: a pipe the child watches, closed by the kernel when this process dies (see moto_process)
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self._first_line(timeout)
        if line.startswith("ready "):
            self.port = int(line.split()[1])
            return f"http://127.0.0.1:{self.port}"
        self.stop()
        if line.startswith("error "):
            raise EmulatorError(line[len("error "):])
        raise EmulatorError(f"the emulator did not start on port {self.port} within {timeout:.0f}s")

    def _first_line(self, timeout: float) -> str:
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        line = self._process.stdout.readline().decode(errors="replace").strip() if ready else ""
        self._process.stdout.close()
        return line

    def stop(self, timeout: float = 30) -> None:
        if not self._process:
            return
        with contextlib.suppress(OSError):
            self._process.stdin.close()  # the child stops serving (and saves its state) when its stdin closes
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


# provisioning ------------------------------------------------------------------------------


def provision(deployment: Deployment, session: boto3.session.Session, endpoint: str) -> None:
    """Create every queue, table and bucket the template declares, and wire bucket notifications."""
    resolver = deployment.resolver(endpoint)
    sqs, s3, dynamodb = (session.client(name, endpoint_url=endpoint) for name in ("sqs", "s3", "dynamodb"))
    queues = deployment.of_type("AWS::SQS::Queue")
    for logical_id in sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid].get("Properties", {})):
        properties = resolver.resolve(queues[logical_id].get("Properties", {}))
        name, attributes = deployment.physical_ids[logical_id], _queue_attributes(properties)
        try:
            sqs.create_queue(QueueName=name, Attributes=attributes)
        except sqs.exceptions.QueueNameExists:  # restored from a state folder, and the template changed since
            sqs.set_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], Attributes=attributes)
    for logical_id, resource in deployment.of_type("AWS::DynamoDB::Table").items():
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(TableName=deployment.physical_ids[logical_id], **_table_arguments(resolver.resolve(resource["Properties"])))
    for logical_id, resource in deployment.of_type("AWS::S3::Bucket").items():
        bucket = deployment.physical_ids[logical_id]
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            s3.create_bucket(Bucket=bucket, **({} if deployment.region == "us-east-1" else
                                               {"CreateBucketConfiguration": {"LocationConstraint": deployment.region}}))
        notifications = resolver.resolve(resource.get("Properties", {}).get("NotificationConfiguration", {}))
        if notifications.get("QueueConfigurations"):
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
                {"QueueArn": item["Queue"], "Events": [item["Event"]], **({"Filter": item["Filter"]} if "Filter" in item else {})}
                for item in notifications["QueueConfigurations"]
            ]})


def _queue_attributes(properties: dict[str, Any]) -> dict[str, str]:
    attributes = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize"):
        if key in properties:
            attributes[key] = str(properties[key])
    if "RedrivePolicy" in properties:
        policy = properties["RedrivePolicy"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": policy["deadLetterTargetArn"],
                                                  "maxReceiveCount": int(policy["maxReceiveCount"])})
    return attributes


def _table_arguments(properties: dict[str, Any]) -> dict[str, Any]:
    keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode", "ProvisionedThroughput")
    return {key: properties[key] for key in keys if key in properties}


# handlers -----------------------------------------------------------------------------------


def load_handler(function: Function) -> Callable[[dict, Any], Any]:
    """Import ``app.lambda_handler`` from the function's CodeUri, as Lambda would."""
    return lambda_runtime.load_handler(function.code_path, function.handler, function.logical_id)


class FunctionTimeout(RuntimeError):
    """An invocation ran past the function's timeout: its worker was killed, as Lambda ends the environment."""


class FunctionWorker:
    """A function's execution environment in a process of its own (``docingest_cli.function_worker``).

    Called like a handler, ``worker(event, context)``; an invocation that outlives ``context``'s
    remaining time kills the process (the next call starts a new one: a cold start), and the call
    raises FunctionTimeout, so the poller retries the whole batch as Lambda's event-source mapping does.
    """

    def __init__(self, function: Function, startup_timeout: float = 120):
        self.function = function
        self.startup_timeout = startup_timeout
        self._process: Any = None  # a multiprocessing Process (forked by the worker server)
        self._connection: Any = None
        self._lock = threading.Lock()  # one invocation at a time, as in one Lambda environment
        self._closed = False  # the emulator is stopping: a cold start cut short is no error
        self.cold_starts = 0

    def start(self) -> None:
        with self._lock:
            if not self._alive():
                self._start()

    def _alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _start(self) -> None:
        from docingest_cli import function_worker

        function = self.function
        environment = {**function.environment, **os.environ}  # the emulator's settings (endpoint, log level) win
        context = worker_context()
        connection, child_end = context.Pipe()
        process = context.Process(target=function_worker.run, name=f"worker-{function.logical_id}", daemon=False,
                                  args=(child_end, str(function.code_path), function.handler, function.logical_id,
                                        function.memory, environment))
        with _without_main_module():
            process.start()
        child_end.close()
        self._process, self._connection = process, connection
        self.cold_starts += 1
        if self._receive(self.startup_timeout) is None:
            if self._closed:
                return
            self.stop()
            raise EmulatorError(f"the {function.logical_id} worker did not start within {self.startup_timeout:.0f}s")

    def __call__(self, event: dict[str, Any], context: "LambdaContext") -> Any:
        with self._lock:
            return self._invoke(event, context)

    def _invoke(self, event: dict[str, Any], context: "LambdaContext") -> Any:
        if not self._alive():
            self._start()
        seconds = context.get_remaining_time_in_millis() / 1000
        self._connection.send_bytes(json.dumps({"event": event, "timeout": seconds}).encode())
        reply = self._receive(seconds + 1)
        if reply is None:
            self.stop(kill=True)
            raise FunctionTimeout(f"{self.function.logical_id} timed out after {seconds:.0f} s")
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["response"]

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """The worker's next message, or None if none came within ``timeout`` (or the worker ended)."""
        connection = self._connection
        try:
            if connection is None or not connection.poll(timeout):
                return None
            return json.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return None

    def close(self) -> None:
        """Stop for good (the emulator stops): a cold start still under way ends quietly."""
        self._closed = True
        self.stop()

    def stop(self, kill: bool = False) -> None:
        process, connection, self._process, self._connection = self._process, self._connection, None, None
        if not process:
            return
        if kill:
            process.kill()
        if connection is not None:
            connection.close()  # the worker's pipe ends: it exits
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


_main_module_lock = threading.Lock()


@contextlib.contextmanager
def _without_main_module():
    """multiprocessing runs the parent's main script again in each child (``ingest`` itself, a user's
    script): a worker needs none of it, so the child is told of no main module."""
    import types

    with _main_module_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


@functools.cache
def worker_context():
    """The multiprocessing context the workers are forked from: a server process that imported
    ``function_worker.PRELOADED`` once (Unix)."""
    import multiprocessing

    from docingest_cli import function_worker

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(function_worker.PRELOADED)
    return context


def start_worker_server() -> None:
    """Start the workers' forkserver now rather than at the first worker (it takes a core for half a second)."""
    import multiprocessing.forkserver

    worker_context()
    with _without_main_module():
        multiprocessing.forkserver.ensure_running()


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event-source mapping delivers, built from ReceiveMessage output."""
    return {"Records": [{
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for message in messages]}


# polling -------------------------------------------------------------------------------------


class QueuePoller(threading.Thread):
    """Polls one queue the way Lambda's event-source mapping does.

    Batches up to BatchSize within MaximumBatchingWindowInSeconds, honours partial batch failure
    responses, deletes what succeeded, and leaves failures to the queue: they come back after
    ``retry_delay`` seconds (None: after the full visibility timeout, as on AWS) and go to the
    DLQ after maxReceiveCount deliveries (moto applies the redrive policy).
    """

    def __init__(self, sqs, mapping: QueueMapping, queue_url: str, queue_arn: str, function: Function,
                 handler: Callable, region: str, invoke_lock: threading.Lock, stop: threading.Event,
                 retry_delay: int | None = DEFAULT_RETRY_DELAY, chaos: float = 0.0, chaos_seed: int | None = None,
                 receive_lock: threading.Lock | None = None):
        super().__init__(name=f"poller-{mapping.function}", daemon=True)
        # shared by the pollers of one queue: moto's ReceiveMessage takes no lock, and two at once could both
        # take the same message (SQS may deliver a message twice too, but rarely: here it wasted work)
        self.receive_lock = receive_lock or threading.Lock()
        self.sqs, self.mapping, self.queue_url, self.queue_arn = sqs, mapping, queue_url, queue_arn
        self.function, self.handler, self.region = function, handler, region
        self.invoke_lock, self.stop_event, self.retry_delay = invoke_lock, stop, retry_delay
        self.invocations = 0
        self.chaos = chaos
        self.chaos_counts = {"failed_before": 0, "failed_after": 0}
        self._random = random.Random(f"{chaos_seed}:{mapping.function}" if chaos_seed is not None else None)
        self._max_receive_count = _max_receive_count(sqs, queue_url) if chaos else None
        self._phase = threading.Lock()
        self.invoking = False

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                messages = self._receive_batch()
                with self._phase:
                    if self.stop_event.is_set():  # messages received as the emulator stops stay in flight: like
                        break  # any consumer's that died, they come back after their visibility timeout
                    self.invoking = bool(messages)
                if messages:
                    try:
                        self._invoke(messages)
                    finally:
                        self.invoking = False
            except Exception:  # keep polling, as the real service does
                if not self.stop_event.is_set():
                    log.exception("poller %s failed", self.mapping.function)
                    time.sleep(0.5)

    def stop_and_wait(self, timeout: float) -> None:
        """Stop polling; wait for the invocation in flight, if any (a long poll in progress is not waited for)."""
        self.stop_event.set()
        with self._phase:
            invoking = self.invoking
        if invoking:
            self.join(timeout)

    def _receive_batch(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.mapping.batching_window
        while len(messages) < self.mapping.batch_size and not self.stop_event.is_set():
            with self.receive_lock:
                response = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                    WaitTimeSeconds=1 if not messages else 0,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            received = response.get("Messages", [])
            messages.extend(received)
            if not messages or not received or time.monotonic() >= deadline:
                break
        return messages

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        before, after = self._chaos(messages) if self.chaos else (set(), set())
        given = [message for message in messages if message["MessageId"] not in before]
        failed = before | after
        if given:
            event = sqs_event(given, self.queue_arn, self.region)
            context = LambdaContext(self.function.logical_id, self.function.timeout, self.region)
            with self.invoke_lock:
                self.invocations += 1
                try:
                    response = self.handler(event, context)
                    failed |= self._failed_ids(response, given)
                except Exception:
                    log.exception("%s raised: the whole batch is retried", self.function.logical_id)
                    failed |= {message["MessageId"] for message in given}
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded[start:start + 10])])
        if self.retry_delay is not None:
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                       VisibilityTimeout=self.retry_delay)

    def _chaos(self, messages: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
        """Records to fail before the handler sees them, and records to report failed after it succeeded.

        A message's last delivery (maxReceiveCount) always reaches the handler: a stage that raises there
        marks its document FAILED, which it cannot do for a record it never saw.
        """
        before, after = set(), set()
        for message in messages:
            receive_count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            last = self._max_receive_count is not None and receive_count >= self._max_receive_count
            if not last and self._random.random() < self.chaos:
                before.add(message["MessageId"])
            elif self._random.random() < self.chaos:
                after.add(message["MessageId"])
        self.chaos_counts["failed_before"] += len(before)
        self.chaos_counts["failed_after"] += len(after)
        return before, after

    def _failed_ids(self, response: Any, messages: list[dict[str, Any]]) -> set[str]:
        if not self.mapping.report_batch_item_failures or not isinstance(response, dict):
            return set()
        ids = {item.get("itemIdentifier") for item in response.get("batchItemFailures", [])}
        known = {message["MessageId"] for message in messages}
        return ids if ids <= known else known  # an unknown id fails the whole batch, as on AWS


def default_concurrency() -> int:
    """Workers per function when not asked: one per core, up to 4 (Lambda starts an SQS mapping at 5)."""
    return max(1, min(os.cpu_count() or 1, 4))


def _max_receive_count(sqs, queue_url: str) -> int | None:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    return int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"]) if "RedrivePolicy" in attributes else None


class Emulator:
    """Start with ``with Emulator(deployment) as emulator:``; ``emulator.endpoint`` is its URL.

    ``chaos`` (0 to 1, a testing aid): each SQS record delivered to a function fails before the handler
    sees it with that probability (it stays on the queue, comes back and counts toward maxReceiveCount),
    and a record the handler did see is reported failed anyway with that probability (delivered again
    after it succeeded). ``chaos_seed`` makes the draws repeatable per poller. ``chaos_counts()`` says
    how many of each there were.

    ``state_dir``: moto's buckets, tables and queues are restored from this folder and saved to it (see
    ``moto_state``), so a restarted emulator resumes the documents in flight; None keeps them in memory.
    """

    def __init__(self, deployment: Deployment, port: int = 0, retry_delay: int | None = DEFAULT_RETRY_DELAY,
                 extra_environment: dict[str, str] | None = None, external_endpoint: str | None = None,
                 chaos: float = 0.0, chaos_seed: int | None = None, state_dir: Path | None = None,
                 in_process: bool = False, concurrency: int | None = None):
        if not 0 <= chaos < 1:
            raise ValueError(f"chaos is a probability below 1, not {chaos}")
        self.chaos, self.chaos_seed = chaos, chaos_seed
        self.state_dir = state_dir
        self.deployment = deployment
        self.port = port
        self.external_endpoint = external_endpoint
        self.retry_delay = retry_delay
        self.extra_environment = extra_environment or {}
        self.endpoint = ""
        self.pollers: list[QueuePoller] = []
        self.handlers: dict[str, Callable] = {}
        self.in_process = in_process
        self.concurrency = concurrency or default_concurrency()
        self.workers: list[FunctionWorker] = []
        self.direct_socket: str | None = None  # the embedded server's short cut for the emulator's own processes
        self._server: EmbeddedServer | None = None
        self._stop = threading.Event()
        self._environment: contextlib.AbstractContextManager | None = None

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        if not self.in_process:  # the workers' forkserver imports its libraries while moto starts
            threading.Thread(target=start_worker_server, name="forkserver-start", daemon=True).start()
        if self.external_endpoint:
            self.endpoint = self.external_endpoint
        else:
            self._server = EmbeddedServer(self.port, self.state_dir)
            self.endpoint = self._server.start()
            self.direct_socket = self._server.direct_socket
        region = self.deployment.region
        # the embedded emulator always gets local credentials; LocalStack and the like keep the user's
        endpoint = endpoint_environment(self.endpoint, region, keep_credentials=bool(self.external_endpoint))
        direct = {direct_transport.SOCKET_VARIABLE: self.direct_socket} if self.direct_socket else {}
        self._environment = patched_environment({**self.deployment.settings_environment(self.endpoint), **QUIET_POWERTOOLS,
                                                 **endpoint, **direct, **self.extra_environment})
        self._environment.__enter__()
        session = boto3.session.Session(region_name=region)
        provision(self.deployment, session, self.endpoint)
        functions = self.deployment.functions(self.endpoint)
        sqs = session.client("sqs", endpoint_url=self.endpoint)
        if self.direct_socket:
            direct_transport.attach(sqs, self.endpoint, self.direct_socket)
        resolver = self.deployment.resolver(self.endpoint)
        shared_lock = threading.Lock()  # in one process, one invocation at a time (Powertools' metric set is shared)
        for mapping in self.deployment.queue_mappings():
            function = functions[mapping.function]
            receive_lock = threading.Lock()
            for _ in range(self._concurrency(function)):
                handler, lock = self._handler(function), shared_lock if self.in_process else threading.Lock()
                poller = QueuePoller(
                    sqs, mapping,
                    queue_url=resolver.refs[mapping.queue_logical_id],
                    queue_arn=resolver.attributes[(mapping.queue_logical_id, "Arn")],
                    function=function, handler=handler, region=region, invoke_lock=lock, stop=self._stop,
                    retry_delay=self.retry_delay, chaos=self.chaos, chaos_seed=self.chaos_seed, receive_lock=receive_lock,
                )
                self.pollers.append(poller)
        started = set()
        for worker in self.workers:  # one environment per function starts now; more when batches overlap, as on Lambda
            if worker.function.logical_id not in started:
                started.add(worker.function.logical_id)
                threading.Thread(target=worker.start, daemon=True).start()
        for poller in self.pollers:
            poller.start()

    def _concurrency(self, function: Function) -> int:
        """Workers per function: the template's reserved concurrency caps ``concurrency``; one in-process."""
        if self.in_process:
            return 1
        reserved = function.reserved_concurrency
        return max(1, min(self.concurrency, reserved) if reserved else self.concurrency)

    def _handler(self, function: Function) -> Callable:
        if self.in_process:
            if function.logical_id not in self.handlers:
                self.handlers[function.logical_id] = load_handler(function)
            return self.handlers[function.logical_id]
        worker = FunctionWorker(function)
        self.workers.append(worker)
        return worker

    def chaos_counts(self) -> dict[str, int]:
        """Records failed on purpose so far (``failed_before`` / ``failed_after`` the handler), all pollers."""
        return {kind: sum(poller.chaos_counts[kind] for poller in self.pollers) for kind in ("failed_before", "failed_after")}

    def stop(self) -> None:
        self._stop.set()
        for poller in self.pollers:  # each ends its invocation in flight
            poller.stop_and_wait(timeout=5)
        stopping = [threading.Thread(target=worker.close) for worker in self.workers]
        if self._server:
            stopping.append(threading.Thread(target=self._server.stop))
        for thread in stopping:  # the processes end in parallel
            thread.start()
        for thread in stopping:
            thread.join()
        if self._environment:
            self._environment.__exit__(None, None, None)
            self._environment = None
