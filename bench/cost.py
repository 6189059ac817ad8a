"""Cost per million documents: the pipeline's own AWS bill against Amazon Comprehend on the same text.

    .venv/bin/python bench/cost.py [--docs-4kb 30] [--docs-100kb 6] [--call-ms 15] [--batch-size 10]

What is MEASURED, on documents generated from samples/ (as bench/pipeline.py does) and sized to ~4 KB
and ~100 KB:

- every AWS request the service layer makes (``docingest.pipeline``: fetch_s3_object, clean_document,
  detect_document_language, extract_document_entities) against moto in-process, counted per stage,
  service and operation by a botocore ``before-call``/``after-call`` hook on the pipeline's clients;
- DynamoDB request units from item sizes (the sizing rules of the DynamoDB developer guide, applied
  to the items before and after each write, read back from moto by a client that is not counted):
  1 WRU per started KB of the larger of the old and new item, 2x inside TransactWriteItems, plus the
  writes to every global secondary index the change touches (2 when an index key changes: a delete and
  a put); 1 RRU per started 4 KB for a strongly consistent read, half for an eventually consistent one,
  a missing item still costs the minimum;
- S3 PUT and GET/HEAD requests and the bytes written per document (raw + clean + enriched);
- each stage's pure work per document (no AWS calls, one process, like bench/pipeline.py run_direct).

What is MODELLED (each figure printed, most of them flags):

- Lambda's SQS event source mapping: one ReceiveMessage and one DeleteMessageBatch per full batch of
  ``--batch-size`` messages (BatchSize in template.yaml), per stage; the S3 event notification that
  puts each dropped file on the fetch queue is one SendMessage. Idle long polling (about 5 pollers per
  queue, 20 s waits: roughly 0.65 M requests a month per queue) is a fixed monthly cost, not per
  document, and is left out.
- The hand-on: the service layer is run one document at a time, so it sends one SendMessage per
  document; the handlers send a batch's messages together (``Queues.held``), so it is priced as
  SendMessageBatch requests of ``--batch-size`` (at most 10) of the measured messages.
- Billed Lambda time per batch = sum over its documents of (pure work / CPU share + AWS calls x
  ``--call-ms``) + ``--invoke-overhead-ms``, rounded up to 1 ms; GB-s = MemorySize (template.yaml) x
  billed seconds. CPU share = MemorySize / 1769 MB (Lambda allocates CPU in proportion to memory, one
  full vCPU at 1,769 MB); ``--full-cpu`` turns that off. This machine is x86_64, the functions are
  arm64 (Graviton): ``--arm-slowdown`` scales the pure work (1.0 = same speed per core).
  Calls made from a worker thread pool (the repeated-line increments) overlap ``--pool-width`` at a time.
- CloudWatch Logs ingestion: the Powertools log line and metrics blob measured by formatting them,
  plus ``--platform-log-bytes`` per invocation for Lambda's START/END/REPORT lines.
- Cold starts (init billed since 2025-08-01) and storage are left out; bytes written are printed.

Prices are us-east-1 list prices as published on the pages named in PRICES, as known on PRICE_DATE; the
Lambda arm64 GB-s rate was confirmed against a third-party copy of aws.amazon.com/lambda/pricing/
(artillery's prices.js); the others are from memory of the pages named. Override them in PRICES.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import math
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = [p for p in sorted((ROOT / "samples").rglob("*")) if p.is_file() and "bad" not in p.parts]
REGION = "us-east-1"
MILLION = 1_000_000
PRICE_DATE = "2025-06-01"


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str


PRICES = {
    "lambda_gb_s": Price(0.0000133334, "GB-second", "aws.amazon.com/lambda/pricing/, Arm (arm64), us-east-1, "
                         "first 6 billion GB-s/month tier"),
    "lambda_request": Price(0.20 / MILLION, "request", "aws.amazon.com/lambda/pricing/, requests, us-east-1"),
    "sqs_request": Price(0.40 / MILLION, "request", "aws.amazon.com/sqs/pricing/, standard queue, us-east-1, "
                         "after the first 1 M free, each 64 KB of payload one request"),
    "s3_put": Price(0.005 / 1000, "request", "aws.amazon.com/s3/pricing/, S3 Standard, PUT, COPY, POST, LIST, us-east-1"),
    "s3_get": Price(0.0004 / 1000, "request", "aws.amazon.com/s3/pricing/, S3 Standard, GET, SELECT and all other "
                    "requests (HEAD), us-east-1"),
    "dynamodb_wru": Price(0.625 / MILLION, "write request unit", "aws.amazon.com/dynamodb/pricing/on-demand/, "
                          "Standard table class, us-east-1 (the price since 2024-11-01)"),
    "dynamodb_rru": Price(0.125 / MILLION, "read request unit", "aws.amazon.com/dynamodb/pricing/on-demand/, "
                          "Standard table class, us-east-1 (the price since 2024-11-01)"),
    "logs_gb": Price(0.50, "GB ingested", "aws.amazon.com/cloudwatch/pricing/, Logs, Standard ingestion, us-east-1, "
                     "first tier"),
    "comprehend_unit": Price(0.0001, "unit of 100 characters", "aws.amazon.com/comprehend/pricing/, NLP requests "
                             "(DetectEntities, DetectDominantLanguage), up to 10 M units a month, 3-unit minimum "
                             "per request"),
}
# Comprehend's monthly volume tiers per API (units, price per unit), aws.amazon.com/comprehend/pricing/
COMPREHEND_TIERS = ((10 * MILLION, 0.0001), (40 * MILLION, 0.00005), (math.inf, 0.000025))
COMPREHEND_MIN_UNITS = 3
COMPREHEND_UNIT_CHARS = 100
COMPREHEND_MAX_REQUEST_BYTES = 100_000  # DetectEntities / DetectDominantLanguage, per request (UTF-8)
LAMBDA_FULL_VCPU_MB = 1769
SQS_CHUNK_BYTES = 64 * 1024
TARGET_PER_MILLION_4KB = 5.0

COMPREHEND_ENTITY_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})
STAGES = ("drop", "fetch", "clean", "detect_language", "extract_entities")
FUNCTIONS = {"fetch": "FetchFunction", "clean": "CleanFunction", "detect_language": "DetectLanguageFunction",
             "extract_entities": "ExtractEntitiesFunction"}
QUEUES = {"fetch": "FetchQueue", "clean": "CleanQueue", "detect_language": "DetectLanguageQueue",
          "extract_entities": "ExtractEntitiesQueue"}


# the arithmetic (tests/unit/test_cost_model.py) ---------------------------------------------------


def billed_ms(duration_ms: float) -> int:
    """Lambda bills duration rounded up to the next millisecond (at least 1 ms)."""
    return max(1, math.ceil(duration_ms - 1e-9))


def gb_seconds(memory_mb: int, duration_ms: float) -> float:
    """The GB-s of one invocation: configured memory (GB = MB / 1024) x billed seconds."""
    return memory_mb / 1024 * billed_ms(duration_ms) / 1000


def cpu_share(memory_mb: int) -> float:
    """Lambda's CPU allocation relative to one vCPU: proportional to memory, one vCPU at 1,769 MB."""
    return min(1.0, memory_mb / LAMBDA_FULL_VCPU_MB)


def number_size(text: str) -> int:
    """DynamoDB size of a number: about one byte per two significant digits, plus one."""
    digits = text.lstrip("-").replace(".", "").lstrip("0")
    digits = digits.split("e")[0].split("E")[0].rstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """Size in bytes of one typed attribute value ({"S": ...}, {"N": ...}, {"M": ...}...)."""
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in content)
    if kind == "NS":
        return sum(number_size(n) for n in content)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) if isinstance(b, str) else len(b) for b in content)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in content.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Size of a typed DynamoDB item: attribute names (UTF-8) plus values."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in (item or {}).items())


def write_units(size_bytes: int, transactional: bool = False) -> int:
    """WRU of one item write: one per started KB (at least one), twice that in a transaction."""
    units = max(1, math.ceil(size_bytes / 1024))
    return 2 * units if transactional else units


def read_units(size_bytes: int, consistent: bool = True, transactional: bool = False) -> float:
    """RRU of one item read: one per started 4 KB strongly consistent, half eventually consistent,
    two transactional; a missing item costs the minimum."""
    units = max(1, math.ceil(size_bytes / 4096))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def projected(item: dict[str, Any] | None, attributes: tuple[str, ...] | None) -> dict[str, Any] | None:
    """The part of an item an index stores (``attributes`` None: ProjectionType ALL)."""
    if item is None or attributes is None:
        return item
    return {k: v for k, v in item.items() if k in attributes}


def index_write_units(old: dict[str, Any] | None, new: dict[str, Any] | None, index_keys: tuple[str, ...],
                      projection: tuple[str, ...] | None = None) -> int:
    """Writes a base-table change costs in one global secondary index (standard, not transactional):
    an item entering or leaving the index is one write, a changed index key a delete plus a put, a
    changed projected attribute one write, anything else nothing."""
    old_in = old is not None and all(k in old for k in index_keys)
    new_in = new is not None and all(k in new for k in index_keys)
    old_p, new_p = projected(old, projection), projected(new, projection)
    if old_in and new_in:
        if any(old[k] != new[k] for k in index_keys):
            return write_units(item_size(old_p)) + write_units(item_size(new_p))
        return write_units(item_size(new_p)) if old_p != new_p else 0
    if new_in:
        return write_units(item_size(new_p))
    if old_in:
        return write_units(item_size(old_p))
    return 0


def sqs_requests(payload_bytes: int) -> int:
    """SQS bills each 64 KB chunk of a request's payload as one request."""
    return max(1, math.ceil(payload_bytes / SQS_CHUNK_BYTES))


def comprehend_units(chars: int) -> int:
    """Units of one Comprehend request: 100 characters each, 3 units at least."""
    return max(COMPREHEND_MIN_UNITS, math.ceil(chars / COMPREHEND_UNIT_CHARS))


def comprehend_request_units(parts: Iterable[str]) -> int:
    """Units of a document sent as several requests (or batch items): the minimum applies to each."""
    return sum(comprehend_units(len(part)) for part in parts)


def tiered_cost(units: float, tiers: tuple[tuple[float, float], ...] = COMPREHEND_TIERS) -> float:
    """Dollars for a month's units over volume tiers ((tier size, price per unit), ...)."""
    cost, left = 0.0, units
    for size, price in tiers:
        taken = min(left, size)
        cost += taken * price
        left -= taken
        if left <= 0:
            break
    return cost


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """Pieces of ``text`` of at most ``max_bytes`` UTF-8 bytes (one per Comprehend request)."""
    pieces, current, size = [], [], 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > max_bytes:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


# documents -----------------------------------------------------------------------------------------


def letters(number: int) -> str:
    """A number written in letters (the repeated-line fingerprint masks digits)."""
    word = ""
    while True:
        number, rest = divmod(number, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
        if number == 0:
            return word


def generate(directory: Path, count: int, target_bytes: int, seed: int, html: bool) -> list[Path]:
    """``count`` distinct documents of about ``target_bytes`` from the samples (text only when ``html`` is
    False: the HTML samples alone are over 8 KB). As in bench/pipeline.py, each sample's page chrome is
    kept (it repeats across a source's documents), while every article paragraph of each document carries
    a tag of its own, so documents of a source share chrome but not article lines, as real ones do."""
    rng = random.Random(seed)
    samples = [s for s in SAMPLES if html or s.suffix != ".html"]
    paths = []
    for index in range(count):
        sample = samples[index % len(samples)]
        text = sample.read_text(encoding="utf-8")
        if sample.suffix == ".html":
            paragraphs = re.findall(r"<p>(.*?)</p>", text, flags=re.S)
            closing = "</article>" if "</article>" in text else "</body>"
            head, tail = text.split(closing, 1)
            body, copy = head, 0
            while len((body + closing + tail).encode("utf-8")) < target_bytes:
                paragraph = rng.choice(paragraphs)
                body += f"\n<p>{paragraph} ({letters(index)} {letters(copy)})</p>"
                copy += 1
            body = body + closing + tail
        else:
            lines = text.split("\n")
            prose = [line for line in lines if len(line) > 80]
            tagged = [f"{line} ({letters(index)} {letters(i)})" if len(line) > 80 else line for i, line in enumerate(lines)]
            body, copy = "", 0
            for line in tagged:  # the sample itself, cut to the target when it is larger
                if len((body + line + "\n").encode("utf-8")) > target_bytes and copy:
                    break
                body += line + "\n"
                copy += 1
            while len(body.encode("utf-8")) < target_bytes * 0.97:
                line = f"{rng.choice(prose)} ({letters(index)} {letters(copy)})"
                if len((body + "\n" + line + "\n").encode("utf-8")) > target_bytes:
                    break
                body += "\n" + line + "\n"
                copy += 1
        path = directory / sample.parent.name / f"{index:05d}{sample.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        paths.append(path)
    return paths


# measuring AWS calls -------------------------------------------------------------------------------


@dataclass
class Usage:
    """What one stage did, summed over the documents: requests and request units per (service, operation)."""

    requests: Counter = field(default_factory=Counter)  # (service, operation) -> API calls
    billed: Counter = field(default_factory=Counter)  # (service, line) -> billed units (requests, WRU, RRU)
    bytes_written: Counter = field(default_factory=Counter)  # S3 prefix -> bytes
    message_bytes: int = 0  # of the SendMessage bodies (the hand-on to the next stage)
    main_thread_calls: int = 0
    pool_calls: int = 0


class Meter:
    """Counts the requests of the clients it is attached to, per stage, with DynamoDB request units."""

    def __init__(self, reader):
        self.reader = reader  # a DynamoDB client that is not counted: reads items before and after writes
        self.stage = "setup"
        self.inbox = ""
        self.usage: dict[str, Usage] = defaultdict(Usage)
        self.lock = threading.Lock()
        self._tables: dict[str, tuple[tuple[str, ...], list[tuple[tuple[str, ...], tuple[str, ...] | None]]]] = {}

    def attach(self, client) -> None:
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)
        client.meta.events.register("provide-client-params.s3.PutObject", self._s3_bytes)

    # the hooks
    def _before(self, model, params, context, **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        body = _request_body(params)
        usage = self.usage[self.stage]
        with self.lock:
            usage.requests[(service, operation)] += 1
            if threading.current_thread() is threading.main_thread():
                usage.main_thread_calls += 1
            else:
                usage.pool_calls += 1
        if service == "dynamodb":
            context["cost_items"] = self._dynamodb_before(operation, body)
            with self.lock:
                usage.requests[(service, f"{operation} items")] += len(context["cost_items"])
                for table in dict.fromkeys(table for table, *_ in context["cost_items"]):
                    usage.requests[(service, f"{table} {operation}")] += 1
        elif service == "s3":
            self._s3(usage, operation)
        elif service == "sqs":
            self._sqs(usage, operation, body)
        context["cost_stage"] = self.stage

    def _after(self, model, http_response, context, **_: Any) -> None:
        if model.service_model.service_name != "dynamodb" or "cost_items" not in context:
            return
        failed = http_response.status_code >= 300
        usage = self.usage[context["cost_stage"]]
        for table, key, old, kind in context["cost_items"]:
            line = f"{table} {model.name}"
            if kind in ("read", "read-eventual"):
                with self.lock:
                    usage.billed[("dynamodb", f"{line} RRU")] += read_units(item_size(old), consistent=kind == "read")
                continue
            new = old if failed else self._get(table, key)
            units = write_units(max(item_size(old), item_size(new)), transactional=kind == "transact")
            gsi = 0 if failed else sum(index_write_units(old, new, keys, projection) for keys, projection in self._schema(table)[1])
            with self.lock:
                usage.billed[("dynamodb", f"{line} WRU")] += units
                if gsi:
                    usage.billed[("dynamodb", f"{table} GSI writes ({model.name}) WRU")] += gsi

    # DynamoDB: which items a request touches, as they are before it
    def _dynamodb_before(self, operation: str, body: dict[str, Any]) -> list[tuple[str, dict, dict | None, str]]:
        items: list[tuple[str, dict, dict | None, str]] = []

        def add(table: str, key_or_item: dict, kind: str) -> None:
            key = {k: key_or_item[k] for k in self._schema(table)[0]}
            items.append((table, key, self._get(table, key), kind))

        if operation in ("PutItem",):
            add(body["TableName"], body["Item"], "write")
        elif operation in ("UpdateItem", "DeleteItem"):
            add(body["TableName"], body["Key"], "write")
        elif operation == "GetItem":
            add(body["TableName"], body["Key"], "read" if body.get("ConsistentRead") else "read-eventual")
        elif operation == "BatchGetItem":
            for table, request in body["RequestItems"].items():
                for key in request["Keys"]:
                    add(table, key, "read" if request.get("ConsistentRead") else "read-eventual")
        elif operation == "BatchWriteItem":
            for table, requests in body["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        add(table, request["PutRequest"]["Item"], "write")
                    else:
                        add(table, request["DeleteRequest"]["Key"], "write")
        elif operation == "TransactWriteItems":
            for action in body["TransactItems"]:
                (kind, spec), = action.items()
                add(spec["TableName"], spec.get("Item") or spec["Key"], "transact")
        else:
            raise NotImplementedError(f"cost of DynamoDB {operation} is not modelled")
        return items

    def _schema(self, table: str):
        if table not in self._tables:
            description = self.reader.describe_table(TableName=table)["Table"]
            keys = tuple(k["AttributeName"] for k in description["KeySchema"])
            indexes = []
            for index in description.get("GlobalSecondaryIndexes", []):
                index_keys = tuple(k["AttributeName"] for k in index["KeySchema"])
                projection = index["Projection"]
                attributes = None if projection["ProjectionType"] == "ALL" else \
                    tuple(dict.fromkeys((*keys, *index_keys, *projection.get("NonKeyAttributes", []))))
                indexes.append((index_keys, attributes))
            self._tables[table] = (keys, indexes)
        return self._tables[table]

    def _get(self, table: str, key: dict) -> dict | None:
        return self.reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    # S3 and SQS
    def _s3(self, usage: Usage, operation: str) -> None:
        with self.lock:
            if operation in ("PutObject", "CopyObject", "PostObject", "ListObjectsV2", "ListObjects"):
                usage.billed[("s3", f"{operation} (PUT class)")] += 1
            else:
                usage.billed[("s3", f"{operation} (GET class)")] += 1

    def _s3_bytes(self, params: dict[str, Any], **_: Any) -> None:
        prefix = params["Key"].split("/")[0] if params["Bucket"] != self.inbox else "inbox"
        with self.lock:
            self.usage[self.stage].bytes_written[prefix] += _payload_length(params.get("Body", b""))

    def _sqs(self, usage: Usage, operation: str, body: dict[str, Any]) -> None:
        if operation == "SendMessage":
            size = len(body.get("MessageBody", "").encode("utf-8"))
            chunks = sqs_requests(size)
            with self.lock:
                usage.message_bytes += size
        elif operation == "SendMessageBatch":
            chunks = sqs_requests(sum(len(e["MessageBody"].encode("utf-8")) for e in body["Entries"]))
        else:
            chunks = 1
        with self.lock:
            usage.billed[("sqs", operation)] += chunks


def _request_body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body")
    if isinstance(body, (bytes, str)) and body[:1] in (b"{", "{"):
        return json.loads(body)
    return body if isinstance(body, dict) else {}


def _payload_length(body: Any) -> int:
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    if hasattr(body, "seek"):
        position = body.tell()
        body.seek(0, io.SEEK_END)
        size = body.tell() - position
        body.seek(position)
        return size
    return 0


# the runs ------------------------------------------------------------------------------------------


@dataclass
class SizeRun:
    label: str
    documents: int
    raw_bytes: float  # mean per document
    usage: dict[str, Usage]
    pure_ms: dict[str, float]  # stage -> mean ms per document
    clean_texts: list[str]
    languages: list[str]
    distinct_lines: float
    indexed_entities: float
    failed: int


def measure(paths: list[Path], label: str, deployment) -> SizeRun:
    """The documents through the service layer on moto (requests), then the pure stage work (time)."""
    import boto3
    from moto import mock_aws

    from docingest import pipeline
    from docingest.adapters import aws
    from docingest_cli import moto_patches
    from docingest_cli.emulator import provision

    moto_patches.apply()
    with mock_aws():
        aws.client.cache_clear()
        aws.resource.cache_clear()
        provision(deployment, boto3.session.Session(region_name=REGION), None)
        for key, value in deployment.settings_environment(None).items():
            os.environ[key] = value
        services = pipeline.Services.from_env()
        meter = Meter(boto3.session.Session(region_name=REGION).client("dynamodb"))
        clients = {id(c): c for c in (services.store._s3, services.queues._sqs, services.documents.table.meta.client,
                                      services.line_counts.client, services.entity_index.client)}
        for client in clients.values():
            meter.attach(client)
        inbox = meter.inbox = deployment.inbox_bucket()
        uploader = boto3.session.Session(region_name=REGION).client("s3")
        meter.attach(uploader)
        failed = 0
        doc_ids = []
        handed_on: list[dict] = []  # each stage's message to the next, as the handlers pass it on
        send = services.queues.send
        services.queues.send = lambda queue, message: (handed_on.append(message), send(queue, message))[1]
        for path in paths:
            key = f"{path.parent.name}/{path.name}"
            meter.stage = "drop"
            uploader.put_object(Bucket=inbox, Key=key, Body=path.read_bytes())
            meter.stage = "fetch"
            doc_id, outcome = pipeline.fetch_s3_object(services, inbox, key)
            steps = (("clean", pipeline.clean_document), ("detect_language", pipeline.detect_document_language),
                     ("extract_entities", pipeline.extract_document_entities))
            for stage, step in steps:
                meter.stage = stage
                message = handed_on[-1] if handed_on and handed_on[-1].get("doc_id") == doc_id else {}
                outcome = step(services, doc_id, record=message.get("record"), text=message.get("text"))
            meter.stage = "done"
            failed += outcome != pipeline.Outcome.ADVANCED
            doc_ids.append(doc_id)
        reader = boto3.session.Session(region_name=REGION).client("dynamodb")
        records = [reader.get_item(TableName=services.documents.table.name, Key={"doc_id": {"S": d}})["Item"] for d in doc_ids]
        clean_texts = [services.store.read_clean(d) for d in doc_ids]
        distinct = sum(len(pipeline.REPEATED_LINES.lines_to_count(t)) for t in clean_texts) / len(paths)
        usage = dict(meter.usage)
    languages = [r.get("language", {}).get("S", "und") for r in records]
    entities = (usage["extract_entities"].requests[("dynamodb", "TransactWriteItems items")] - usage["extract_entities"].requests[
        ("dynamodb", "TransactWriteItems")]) / len(paths)  # one summary update per entity, plus one marker per transaction
    return SizeRun(label, len(paths), sum(p.stat().st_size for p in paths) / len(paths), usage, pure_times(paths),
                   clean_texts, languages, distinct, entities, failed)


def pure_times(paths: list[Path]) -> dict[str, float]:
    """Mean ms per document of each stage's work without AWS calls (as run_direct in bench/pipeline.py,
    plus what the service layer adds: repeated-line fingerprints, JSON objects, entity summaries)."""
    from docingest.pipeline import REPEATED_LINES, enriched_document, text_within
    from docingest.stages.clean import clean
    from docingest.stages.detect_language import detect_language
    from docingest.stages.entity_keys import summarise
    from docingest.stages.extract_entities import extract_entities
    from docingest.stages.fetch import declared_charset, decode_bytes, document_id, sniff_content_type

    detect_language("warm up the model")
    extract_entities("Warm up the model in Berlin.", "en")
    totals = Counter()
    for path in paths:
        data = path.read_bytes()
        t0 = time.perf_counter()
        doc_id = document_id(data)
        content_type = sniff_content_type(data, path.name)
        text = decode_bytes(data, declared_charset(data)).text
        t1 = time.perf_counter()
        result = clean(decode_bytes(data, declared_charset(data)).text, content_type)
        fingerprints = REPEATED_LINES.lines_to_count(result.text)
        REPEATED_LINES.filter(result.text, {}, 0, counted_this_document=False)
        clean_body = json.dumps({"doc_id": doc_id, "text": result.text, **result.model_dump(exclude={"text", "removed_lines"}, exclude_none=True)},
                                ensure_ascii=False)
        t2 = time.perf_counter()
        clean_text = json.loads(clean_body)["text"]
        language = detect_language(clean_text).language
        t3 = time.perf_counter()
        clean_text = json.loads(clean_body)["text"]
        searched = text_within(clean_text, 1_000_000)
        entities = extract_entities(searched, language)
        json.dumps(enriched_document({"doc_id": doc_id, "language": language, "source": f"s3://inbox/{doc_id}"}, clean_text, entities), ensure_ascii=False)
        summarise(searched, entities)
        t4 = time.perf_counter()
        del text, fingerprints
        for stage, seconds in zip(("fetch", "clean", "detect_language", "extract_entities"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            totals[stage] += seconds * 1000
    return {stage: ms / len(paths) for stage, ms in totals.items()}


# logs ----------------------------------------------------------------------------------------------


def log_bytes() -> tuple[int, int]:
    """Bytes of the handler's per-document log line and of its per-invocation metrics blob (EMF), as
    Powertools formats them with a Lambda context like AWS's."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    stream = io.StringIO()
    probe = "docingest-cost-probe"  # a logger of its own: the pipeline's "docingest" logger may exist already
    logger = Logger(service=probe, stream=stream)
    logger.append_keys(cold_start=False, function_name="docingest-extract-entities", function_memory_size="1024",
                       function_arn="arn:aws:lambda:us-east-1:123456789012:function:docingest-extract-entities",
                       function_request_id="c6af9ac6-7b61-11e6-9a41-93e812345678",
                       xray_trace_id="1-5759e988-bd862e3fe1be46a994272793")
    doc_id = "0" * 64
    logger.info("extract_entities: advanced", extra={"doc_id": doc_id, "stage": "extract_entities", "outcome": "advanced"})
    line = len(stream.getvalue().encode("utf-8")) - len(probe) + len("docingest")
    metrics = Metrics(namespace="DocIngest", service="docingest")
    metrics.add_metric(name="DocumentsAdvanced", unit=MetricUnit.Count, value=1)
    blob = len(json.dumps(metrics.serialize_metric_set(), separators=(",", ":")).encode("utf-8")) + 1
    metrics.clear_metrics()
    return line, blob


# the bill ------------------------------------------------------------------------------------------


@dataclass
class Line:
    stage: str
    service: str
    item: str
    quantity: float  # per document
    unit: str
    dollars: float  # per million documents
    how: str  # measured / modelled


def bill(run: SizeRun, deployment, args) -> tuple[list[Line], dict[str, float]]:
    n = run.documents
    memory = {stage: int(deployment.of_type("AWS::Lambda::Function")[fid]["Properties"].get("MemorySize", 128))
              for stage, fid in FUNCTIONS.items()}
    batch = args.batch_size
    lines: list[Line] = []
    line_bytes, emf_bytes = log_bytes()
    detail: dict[str, float] = {}
    price_of = {("s3", "PUT"): PRICES["s3_put"], ("s3", "GET"): PRICES["s3_get"]}
    logical = {physical: logical_id for logical_id, physical in deployment.physical_ids.items()}
    for stage in STAGES:
        usage = run.usage.get(stage, Usage())
        for (service, item), units in sorted(usage.billed.items()):
            per_doc = units / n
            if (service, item) == ("sqs", "SendMessage") and usage.message_bytes:
                # the handler sends a batch's hand-on messages together: SendMessageBatch, 10 per request,
                # each 64 KB of a request's payload billed as one request
                per_doc = min(per_doc, sqs_requests(round(min(batch, 10) * usage.message_bytes / units)) / min(batch, 10))
                lines.append(Line(stage, service, f"SendMessageBatch (the hand-on, {min(batch, 10)} messages per request)",
                                  per_doc, "requests", per_doc * MILLION * PRICES["sqs_request"].usd, "measured"))
                continue
            if service == "s3":
                price = price_of[("s3", "PUT" if "PUT class" in item else "GET")]
                unit = "requests"
            elif service == "sqs":
                price, unit = PRICES["sqs_request"], "requests"
            elif item.endswith("WRU"):
                price, unit = PRICES["dynamodb_wru"], "WRU"
                item = item[:-4]
            else:
                price, unit = PRICES["dynamodb_rru"], "RRU"
                item = item[:-4]
            calls = ""
            if service == "dynamodb" and "GSI" not in item:
                calls = f" ({usage.requests[('dynamodb', item)] / n:.1f} calls)"
            table = item.split(" ")[0]
            item = item.replace(table, logical.get(table, table), 1) if service == "dynamodb" else item
            lines.append(Line(stage, service, item + calls, per_doc, unit, per_doc * MILLION * price.usd, "measured"))
        if stage == "drop":
            continue
        # SQS: the event source mapping's receive and delete, and S3's notification for fetch
        if stage == "fetch":
            lines.append(Line(stage, "sqs", "SendMessage by the S3 event notification", 1, "requests",
                              MILLION * PRICES["sqs_request"].usd, "modelled"))
        esm = 2 / batch
        lines.append(Line(stage, "sqs", f"ReceiveMessage + DeleteMessageBatch by Lambda, 1 each per {batch} messages",
                          esm, "requests", esm * MILLION * PRICES["sqs_request"].usd, "modelled"))
        # Lambda
        pure = run.pure_ms[stage] * args.arm_slowdown / (1.0 if args.full_cpu else cpu_share(memory[stage]))
        calls = (usage.main_thread_calls + usage.pool_calls / args.pool_width) / n
        per_doc_ms = pure + calls * args.call_ms
        batch_ms = billed_ms(batch * per_doc_ms + args.invoke_overhead_ms)
        gbs = gb_seconds(memory[stage], batch_ms) / batch
        detail[f"{stage} ms"] = per_doc_ms
        lines.append(Line(stage, "lambda", f"duration {memory[stage]} MB: {run.pure_ms[stage]:.1f} ms work here "
                          f"-> {pure:.1f} ms on Lambda + {calls:.1f} calls x {args.call_ms:g} ms", gbs, "GB-s",
                          gbs * MILLION * PRICES["lambda_gb_s"].usd, "measured + modelled"))
        lines.append(Line(stage, "lambda", f"invocations, 1 per {batch} documents", 1 / batch, "requests",
                          MILLION / batch * PRICES["lambda_request"].usd, "modelled"))
        log_gb = (line_bytes + (emf_bytes + args.platform_log_bytes) / batch) / 1e9
        lines.append(Line(stage, "logs", "CloudWatch Logs ingestion", log_gb * 1e9, "bytes",
                          log_gb * MILLION * PRICES["logs_gb"].usd, "measured + modelled"))
    return lines, detail


def comprehend_cost(run: SizeRun) -> dict[str, float]:
    """Comprehend on the clean text, per million documents like these: DetectEntities as the pipeline's
    comprehend backend sends it (BatchDetectEntities, parts under 4,900 bytes, each part billed with the
    3-unit minimum) and DetectDominantLanguage (one request per 100 KB)."""
    from docingest.adapters.comprehend import split_parts

    n = len(run.clean_texts)
    entity_units = sum(comprehend_request_units(text[a:b] for a, b in split_parts(text)) for text in run.clean_texts) / n
    whole_units = sum(comprehend_request_units(split_utf8(text, COMPREHEND_MAX_REQUEST_BYTES)) for text in run.clean_texts) / n
    language_units = whole_units
    unit = PRICES["comprehend_unit"].usd
    return {
        "chars": sum(len(t) for t in run.clean_texts) / n,
        "entity_units": entity_units,
        "language_units": language_units,
        "whole_entity_units": whole_units,
        "entities": entity_units * MILLION * unit,
        "language": language_units * MILLION * unit,
        "entities_tiered": tiered_cost(entity_units * MILLION),
        "language_tiered": tiered_cost(language_units * MILLION),
    }


ENTITY_INDEX = "entity index (EntityIndexTable and its by-type GSI)"
LINE_COUNTS = "repeated-line counts (SourceLineTable)"


def driver(line: Line) -> str:
    """The part of the design a line item pays for."""
    if line.service == "dynamodb":
        if line.item.startswith("EntityIndexTable"):
            return ENTITY_INDEX
        if line.item.startswith("SourceLineTable"):
            return LINE_COUNTS
        return "document records (DocumentTable and its 2 GSIs)"
    return {"s3": "S3 objects (inbox drop, raw/, clean/, enriched/ PUTs; GETs)", "sqs": "SQS messages",
            "lambda": "Lambda (GB-s and invocations)", "logs": "CloudWatch Logs"}[line.service]


def money(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.995 else f"{value:.3f}"


def report(run: SizeRun, lines: list[Line], detail: dict[str, float], args) -> float:
    total = sum(line.dollars for line in lines)
    ranked = sorted(lines, key=lambda line: -line.dollars)
    top = {id(line) for line in ranked[:3]}
    written = Counter()
    for usage in run.usage.values():
        written.update(usage.bytes_written)
    print(f"\n## {run.label}: {run.documents} documents, {run.raw_bytes / 1024:.1f} KB raw on average, "
          f"{sum(len(t) for t in run.clean_texts) / run.documents:,.0f} clean characters, "
          f"{run.distinct_lines:.0f} distinct lines, about {run.indexed_entities:.0f} indexed entities per document"
          + (f", {run.failed} not DONE" if run.failed else ""))
    print(f"S3 bytes written per document: " + ", ".join(f"{prefix} {b / run.documents / 1024:.1f} KB" for prefix, b in sorted(written.items()))
          + f" (raw + clean + enriched {sum(b for p, b in written.items() if p in ('raw', 'clean', 'enriched')) / run.documents / 1024:.1f} KB)")
    print()
    print(f"| stage | service | what | per document | $ per 1 M docs | share |")
    print(f"|---|---|---|---:|---:|---:|")
    for stage in STAGES:
        for line in [l for l in lines if l.stage == stage]:
            flag = " **<<**" if id(line) in top else ""
            quantity = f"{line.quantity:,.4g} {line.unit}"
            print(f"| {stage} | {line.service} | {line.item} | {quantity} | {money(line.dollars)}{flag} | "
                  f"{100 * line.dollars / total:.1f}% |")
    by_stage = defaultdict(float)
    by_service = defaultdict(float)
    for line in lines:
        by_stage[line.stage] += line.dollars
        by_service[line.service] += line.dollars
    print(f"| **total** | | | | **{money(total)}** | 100% |")
    print()
    print("per stage: " + ", ".join(f"{s} ${money(by_stage[s])}" for s in STAGES)
          + "; per service: " + ", ".join(f"{s} ${money(v)}" for s, v in sorted(by_service.items(), key=lambda kv: -kv[1])))
    drivers = defaultdict(float)
    for line in lines:
        drivers[driver(line)] += line.dollars
    print("\nwhere the money goes (per 1 M documents):")
    for name, dollars in sorted(drivers.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<58} ${money(dollars):>9}  {100 * dollars / total:5.1f}%")
    if run.indexed_entities:
        print(f"  marginal: each indexed entity per document ${money(drivers[ENTITY_INDEX] / run.indexed_entities)} per 1 M "
              f"documents; each distinct line per document ${money(drivers[LINE_COUNTS] / max(run.distinct_lines, 1))}")
    comprehend = comprehend_cost(run)
    ours = by_stage["detect_language"] + by_stage["extract_entities"]
    print(f"\nAmazon Comprehend on the same clean text ({comprehend['chars']:,.0f} characters per document), per 1 M documents:")
    print(f"| API | units per document | $ at {PRICES['comprehend_unit'].usd} per unit | $ with the monthly volume tiers, "
          f"if the 1 M are one month |")
    print("|---|---:|---:|---:|")
    print(f"| DetectEntities (as the comprehend backend sends it: parts under 4,900 bytes, 3-unit minimum each) | "
          f"{comprehend['entity_units']:.1f} | {money(comprehend['entities'])} | {money(comprehend['entities_tiered'])} |")
    print(f"| DetectDominantLanguage (one request per 100 KB) | {comprehend['language_units']:.1f} | "
          f"{money(comprehend['language'])} | {money(comprehend['language_tiered'])} |")
    print(f"| **both** | {comprehend['entity_units'] + comprehend['language_units']:.1f} | "
          f"**{money(comprehend['entities'] + comprehend['language'])}** | "
          f"**{money(comprehend['entities_tiered'] + comprehend['language_tiered'])}** |")
    print(f"\nbeside them, this pipeline's detect_language + extract_entities stages: ${money(ours)} per 1 M "
          f"(all of its stages: ${money(total)}); Comprehend replaces only the models, every request above "
          f"stays (and the comprehend backend adds its calls' latency to extract_entities' GB-s)")
    print("\nlargest line items: " + "; ".join(f"{l.stage} {l.service} {l.item.split(' (')[0]} ${money(l.dollars)} "
                                                 f"({100 * l.dollars / total:.0f}%)" for l in ranked[:3]))
    unsupported = sum(language not in COMPREHEND_ENTITY_LANGUAGES for language in run.languages)
    if unsupported:
        print(f"({unsupported} of {run.documents} documents are in a language DetectEntities does not take, e.g. "
              f"Indonesian: priced as if it did; the comprehend backend sends them to the shipped model)")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs-4kb", type=int, default=30, help="documents of ~4 KB to measure (text samples)")
    parser.add_argument("--docs-100kb", type=int, default=6, help="documents of ~100 KB to measure (text and HTML)")
    parser.add_argument("--call-ms", type=float, default=15.0, help="assumed latency of one AWS call from Lambda, ms")
    parser.add_argument("--batch-size", type=int, default=None, help="messages per invocation (default: the template's BatchSize)")
    parser.add_argument("--arm-slowdown", type=float, default=1.0, help="arm64 time / this machine's time for the same work")
    parser.add_argument("--full-cpu", action="store_true", help="do not scale CPU-bound time by MemorySize / 1769 MB")
    parser.add_argument("--pool-width", type=int, default=8, help="calls from the worker pool that overlap (line_counts: 8)")
    parser.add_argument("--invoke-overhead-ms", type=float, default=5.0, help="per invocation: Powertools batch, logs, metrics")
    parser.add_argument("--platform-log-bytes", type=int, default=350, help="Lambda's START/END/REPORT lines per invocation")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                       "AWS_DEFAULT_REGION": REGION, "POWERTOOLS_SERVICE_NAME": "docingest",
                       "POWERTOOLS_METRICS_NAMESPACE": "DocIngest"})
    for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(variable, None)
    from docingest_cli.deployment import Deployment

    deployment = Deployment.load(ROOT / "template.yaml", REGION)
    sizes = {mapping.batch_size for mapping in deployment.queue_mappings()}
    args.batch_size = args.batch_size or max(sizes)
    started = time.perf_counter()
    print(f"# Cost per million documents (bench/cost.py), prices as of {PRICE_DATE}, us-east-1")
    print(f"\nassumed: {args.call_ms:g} ms per AWS call, batches of {args.batch_size} (template BatchSize {sorted(sizes)}), "
          f"CPU share = MemorySize / {LAMBDA_FULL_VCPU_MB} MB{' (off)' if args.full_cpu else ''}, "
          f"arm64 / x86_64 ({os.uname().machine} here) time ratio {args.arm_slowdown:g}, {args.invoke_overhead_ms:g} ms "
          f"per invocation, {args.platform_log_bytes} bytes of platform log lines per invocation; cold starts, storage "
          f"and idle queue polling left out")
    totals = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, count, target, html in (("4 KB documents", args.docs_4kb, 4096, False),
                                           ("100 KB documents", args.docs_100kb, 100 * 1024, True)):
            if count <= 0:
                continue
            paths = generate(Path(tmp) / label.split()[0], count, target, args.seed, html)
            run = measure(paths, label, deployment)
            lines, detail = bill(run, deployment, args)
            totals[label] = report(run, lines, detail, args)
    print("\nprices:")
    for name, price in PRICES.items():
        print(f"  {name:<16} ${price.usd:.10g} per {price.per}  ({price.source})")
    bounds, low = [], 0.0
    for size, unit_price in COMPREHEND_TIERS:
        bounds.append(f"${unit_price:g} from {low / MILLION:g} M" + (f" to {(low + size) / MILLION:g} M units" if size != math.inf else " units on"))
        low += size
    print(f"  comprehend tiers {', '.join(bounds)} (per API, per month; same page)")
    if "4 KB documents" in totals:
        total = totals["4 KB documents"]
        verdict = "within" if total <= TARGET_PER_MILLION_4KB else "OVER"
        print(f"\ntarget: <= ${TARGET_PER_MILLION_4KB:.2f} per 1 M 4-KB documents: ${money(total)}, {verdict} target")
        put = PRICES["s3_put"].usd * MILLION
        print(f"floor: each S3 PUT per document is ${money(put)} per 1 M documents and each DynamoDB WRU "
              f"${money(PRICES['dynamodb_wru'].usd * MILLION)}, so the drop plus one result object already cost "
              f"${money(2 * put)}; the target needs results written in batches and no per-line or per-entity writes "
              f"per document")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
