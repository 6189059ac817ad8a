"""The `ingest` command line: run the pipeline locally, drop files, inspect documents, run stages."""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

from docingest.adapters.documents import now
from docingest_cli import stage_runner
from docingest_cli.deployment import DEFAULT_STACK, Deployment
from docingest_cli.emulator import (DEFAULT_RETRY_DELAY, Emulator, EmulatorError, LambdaContext, endpoint_environment, load_handler,
                                    patched_environment, sqs_event)
from docingest_cli.target import Target, default_template

DEFAULT_REGION = "us-east-1"
FINAL_STATUSES = ("DONE", "FAILED")
DEFAULT_PORT = 4577
DEFAULT_STATE = Path(".docingest") / "state"  # relative to the current directory


class FunctionOutput(io.TextIOBase):
    """The functions' stdout (their logs) while the CLI runs them: stderr, metric blobs left out."""

    def __init__(self) -> None:
        self._skipping = False

    def write(self, text: str) -> int:
        if text.startswith('{"_aws"'):
            self._skipping = True
        elif not (self._skipping and text == "\n"):
            self._skipping = False
            sys.stderr.write(text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


_results = sys.stdout


def say(*values: Any, **options: Any) -> None:
    """Print a result of the command (stdout stays free of function logs)."""
    print(*values, file=_results, **options)


class CommandError(Exception):
    """A failure the user can act on: one line on stderr, no traceback, exit status ``status``."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


USAGE = 2  # exit status of a bad argument or input file, as argparse's
RUN_FAILED = 3  # `ingest run`: every document finished, some FAILED (1: some unfinished)
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away


def main(argv: list[str] | None = None) -> int:
    global _results
    _results, sys.stdout = sys.stdout, FunctionOutput()
    try:
        status = _main(argv)
        _results.flush()
        return status
    except CommandError as error:
        print(f"ingest: {error}", file=sys.stderr)
        return error.status
    except EmulatorError as error:
        print(f"ingest: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `ingest status | head -2`: the reader has what it wanted
        _discard_output(_results)
        return BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout = _results


def _discard_output(stream: io.TextIOBase) -> None:
    """Point a closed pipe's descriptor at /dev/null, so that Python's exit flush does not fail again."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(_results)
        return 2
    return args.command(args) or 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--template", type=Path, default=None, help="SAM template (default: ./template.yaml)")
    common.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"),
                        help="use this endpoint (a running `ingest up`, moto_server, LocalStack) instead of the embedded emulator")
    common.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION))
    common.add_argument("--stack-name", default=DEFAULT_STACK, help="CloudFormation stack to look resources up in")
    common.add_argument("--aws", action="store_true", help="target real AWS (the deployed stack), not an emulator")

    faults = argparse.ArgumentParser(add_help=False)
    faults.add_argument("--chaos", type=_probability, default=0.0, metavar="RATE",
                        help="a testing aid: each SQS record delivered to a function fails before the handler with "
                             "probability RATE, and is reported failed after the handler succeeded with probability RATE")
    faults.add_argument("--chaos-seed", type=int, default=None, metavar="N", help="repeatable --chaos draws")
    faults.add_argument("--concurrency", type=_positive, default=None, metavar="N",
                        help="worker processes per function (default: one per core, up to 4; "
                             "a function's ReservedConcurrentExecutions caps it)")

    parser = argparse.ArgumentParser(prog="ingest", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    up = commands.add_parser("up", parents=[common, faults], help="start the local emulator and run the pipeline until interrupted")
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--state", default=str(DEFAULT_STATE), metavar="DIR",
                    help=f"keep buckets, tables and queues in DIR across restarts (default {DEFAULT_STATE}; none: in memory only)")
    up.add_argument("--retry-delay", type=int, default=DEFAULT_RETRY_DELAY,
                    help="seconds before a failed message is retried (-1: the queue's full visibility timeout)")
    up.set_defaults(command=cmd_up)

    run = commands.add_parser("run", parents=[common, faults], help="process files end to end and print the results")
    run.add_argument("paths", nargs="+", type=Path)
    run.add_argument("--output", choices=("table", "json"), default="table")
    run.add_argument("--timeout", type=float, default=300, help="seconds to wait for every document")
    run.set_defaults(command=cmd_run)

    drop = commands.add_parser("drop", parents=[common], help="copy files into the inbox bucket")
    drop.add_argument("paths", nargs="+", type=Path)
    drop.set_defaults(command=cmd_drop)

    status = commands.add_parser("status", parents=[common], help="documents by status, queue and DLQ depths")
    status.set_defaults(command=cmd_status)

    show = commands.add_parser("show", parents=[common], help="one document: record, clean text head, entities")
    show.add_argument("doc_id")
    show.set_defaults(command=cmd_show)

    entities = commands.add_parser("entities", parents=[common], help="the most mentioned entities across documents")
    entities.add_argument("--type", choices=("PER", "ORG", "LOC", "MISC"), dest="entity_type")
    entities.add_argument("--language", help="only entities mentioned in documents of this language (ISO code)")
    entities.add_argument("--top", type=int, default=20)
    entities.add_argument("--output", choices=("table", "json"), default="table")
    entities.set_defaults(command=cmd_entities)

    search = commands.add_parser("search-entity", parents=[common],
                                 help="documents mentioning an entity (any language), with the first mention's sentence")
    search.add_argument("name", nargs="+", help='a name as written, e.g. "Vladimir Putin" or Putin')
    search.add_argument("--output", choices=("table", "json"), default="table")
    search.set_defaults(command=cmd_search_entity)

    invoke = commands.add_parser("invoke", parents=[common], help="call one function's handler with a sample event")
    invoke.add_argument("function", help="fetch, clean, detect_language, extract_entities (or a logical id)")
    invoke.add_argument("--event", type=Path, required=True)
    invoke.set_defaults(command=cmd_invoke)

    redrive = commands.add_parser("redrive", parents=[common], help="move messages from dead-letter queues back")
    redrive.add_argument("queue", nargs="?", help="fetch, clean, detect_language, extract_entities (default: all)")
    redrive.set_defaults(command=cmd_redrive)

    stage = commands.add_parser("stage", help="run one stage offline over JSONL (stdin to stdout)")
    stage.add_argument("name", choices=stage_runner.STAGES)
    stage.set_defaults(command=cmd_stage)
    return parser


def _probability(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"a probability from 0 to below 1, not {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {text}")
    return value


# targets ----------------------------------------------------------------------------------------


def _template(args: argparse.Namespace) -> Path:
    return args.template or default_template()


@contextlib.contextmanager
def target_for(args: argparse.Namespace, start_pipeline: bool = False) -> Iterator[Target]:
    """AWS only with ``--aws``; else the endpoint given, a running `ingest up`, or a fresh embedded emulator.

    The environment is set for the whole command, so the handlers `ingest invoke` calls reach the same
    target as the CLI: never AWS unless ``--aws`` was given.
    """
    template = _template(args)
    if args.aws:  # AWS_ENDPOINT_URL and the like would send the functions' calls elsewhere
        with patched_environment(endpoint_environment(None, args.region)):
            yield Target.connect(template, args.region, args.stack_name, None)
        return
    endpoint = args.endpoint_url
    if endpoint and getattr(args, "chaos", 0):
        raise CommandError("--chaos needs the embedded emulator's pollers: drop --endpoint-url, or use `ingest up --chaos`", USAGE)
    if not endpoint and not start_pipeline:
        if not _listening("localhost", DEFAULT_PORT):
            raise CommandError("nothing to inspect: start `ingest up` (or pass --endpoint-url), or target AWS with --aws")
        endpoint = f"http://localhost:{DEFAULT_PORT}"  # a running `ingest up` on its default port
    if endpoint:
        with patched_environment(endpoint_environment(endpoint, args.region)):
            yield Target.connect(template, args.region, args.stack_name, endpoint)
        return
    with Emulator(Deployment.load(template, args.region, args.stack_name), chaos=getattr(args, "chaos", 0.0),
                  chaos_seed=getattr(args, "chaos_seed", None), concurrency=getattr(args, "concurrency", None)) as emulator:
        yield Target(emulator.deployment, emulator.endpoint, emulator.direct_socket)


def _listening(host: str, port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def cmd_up(args: argparse.Namespace) -> int:
    if args.aws:
        raise CommandError("`ingest up` runs the pipeline locally; on AWS the deployed stack runs it (sam deploy)", USAGE)
    deployment = Deployment.load(_template(args), args.region, args.stack_name)
    retry_delay = None if args.retry_delay < 0 else args.retry_delay
    state_dir = None if args.state.lower() == "none" or args.endpoint_url else Path(args.state)
    emulator = Emulator(deployment, port=args.port, retry_delay=retry_delay, external_endpoint=args.endpoint_url,
                        chaos=args.chaos, chaos_seed=args.chaos_seed, state_dir=state_dir, concurrency=args.concurrency)
    emulator.start()
    target = Target(deployment, emulator.endpoint)
    say(f"docingest emulator at {emulator.endpoint} (region {args.region})")
    say(f"  inbox:  s3://{target.inbox_bucket}/   e.g. aws --endpoint-url {emulator.endpoint} s3 cp page.html s3://{target.inbox_bucket}/")
    say(f"  table:  {target.environment['DOCUMENT_TABLE']}   bucket: {target.environment['DOCUMENT_BUCKET']}")
    say(f"  others: ingest status --endpoint-url {emulator.endpoint}")
    say(f"  state:  {state_dir} (saved every 2 s while it changes, and on exit)" if state_dir else "  state:  in memory only")
    if args.chaos:
        say(f"  chaos:  {args.chaos:.0%} of records fail before their handler, {args.chaos:.0%} of the rest after it")
    say("Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    emulator.stop()
    if args.chaos:
        counts = emulator.chaos_counts()
        print(f"chaos: {counts['failed_before']} record(s) failed before the handler, "
              f"{counts['failed_after']} reported failed after it", file=sys.stderr)
    return 0


# dropping and waiting ------------------------------------------------------------------------------


def collect_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """Files to drop with their inbox keys: ``<folder>/<path inside it>``, or ``<parent>/<name>`` for a file.

    The folder part is the source whose repeated lines (headers, footers) the clean stage learns.
    """
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve().name or "root"
            files.extend((p, f"{root}/{p.relative_to(path).as_posix()}") for p in sorted(path.rglob("*"))
                         if p.is_file() and not _hidden(p.relative_to(path)))
        elif path.is_file():
            files.append((path, f"{path.resolve().parent.name or 'root'}/{path.name}"))
        else:
            raise CommandError(f"no such file or directory: {path}", USAGE)
    return _unique_keys(files)


def _unique_keys(files: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Two files must never share a key in one drop (the second would replace the first)."""
    seen: set[str] = set()
    unique = []
    for path, key in files:
        candidate, n = key, 1
        while candidate in seen:
            n += 1
            candidate = f"{key.split('/', 1)[0]}-{n}/{key.split('/', 1)[1]}"
        seen.add(candidate)
        unique.append((path, candidate))
    return unique


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def drop_files(target: Target, files: list[tuple[Path, str]], progress: bool = True) -> list[dict[str, Any]]:
    """Put files into the inbox; one item per file (``urls``: what a URL list will ask for)."""
    from docingest.stages.fetch import document_id

    s3 = target.client("s3")
    dropped = []
    for index, (path, key) in enumerate(files, 1):
        data = path.read_bytes()
        s3.put_object(Bucket=target.inbox_bucket, Key=key, Body=data)
        item = {"source": str(path), "doc_id": document_id(data), "key": key, "dropped_at": time.monotonic()}
        urls = url_list_urls(data, key)
        if urls is not None:
            item["urls"] = urls
        dropped.append(item)
        if progress:
            _progress(index, len(files), path.name)
    return dropped


def url_list_urls(data: bytes, name: str) -> list[str] | None:
    """The URLs a file asks for, read as the fetch stage reads them; None when it is no URL list."""
    from docingest.errors import BadInput
    from docingest.stages import fetch

    if fetch.sniff_content_type(data, name) != fetch.URL_LIST:
        return None
    try:
        return list(dict.fromkeys(fetch.parse_url_list(fetch.decode_bytes(data, fetch.declared_charset(data)).text)))
    except BadInput:
        return []  # the list itself ends FAILED


def _progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


class WaitProgress:
    """One status line on ``stream`` while `ingest run` waits, when it is a terminal: documents finished
    (DONE/FAILED), where the others are in the pipeline, the rate and an ETA. Silent otherwise."""

    def __init__(self, target: Target, stream=None, every: float = 1.0):
        self.target, self.stream, self.every = target, stream or sys.stderr, every
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self._shown_at = 0.0
        self._in_stages: dict[str, int] = {}
        self._counted_at = 0.0

    def update(self, watch: "_Watch", total: int, final: bool = False) -> None:
        if not self.enabled or (not final and time.monotonic() - self._shown_at < self.every):
            return
        self._shown_at = time.monotonic()
        if time.monotonic() - self._counted_at > 3 * self.every:  # six COUNT queries: not on every update
            with contextlib.suppress(Exception):
                self._in_stages = self.target.documents.count_by_status()
            self._counted_at = time.monotonic()
        self.stream.write("\r\033[K" + self.line(len(watch.finished_at), total, watch.outcomes, self._in_stages,
                                                 time.monotonic() - self.started) + ("\n" if final else ""))
        self.stream.flush()

    @staticmethod
    def line(finished: int, total: int, outcomes: Counter, in_stages: dict[str, int], elapsed: float) -> str:
        rate = finished / elapsed if elapsed > 0 else 0.0
        eta = f"ETA {int((total - finished) / rate) // 60}:{int((total - finished) / rate) % 60:02d}" if rate and finished < total else ""
        stages = " ".join(f"{label} {in_stages[status]}" for status, label in
                          (("RECEIVED", "fetching"), ("FETCHED", "cleaning"), ("CLEANED", "language"),
                           ("LANGUAGE_DETECTED", "entities")) if in_stages.get(status))
        parts = [f"{finished}/{total} finished (DONE {outcomes.get('DONE', 0)}, FAILED {outcomes.get('FAILED', 0)})",
                 f"in the pipeline: {stages}" if stages else "", f"{rate:.1f} docs/s", eta]
        return " · ".join(part for part in parts if part)


def wait_for(target: Target, dropped: list[dict[str, Any]], timeout: float, progress: WaitProgress | None = None,
             on_final: Callable[[dict[str, Any]], None] | None = None) -> dict[str, dict[str, Any]]:
    """Wait until every dropped document is DONE or FAILED (or the timeout), then read the records.

    A URL list's URLs are documents of their own: once the list is DONE its item gets ``children``, one
    item per URL (``source`` the URL, ``via`` the list), and they are waited for too. A URL is finished
    when a final record has it in ``sources``, or when its request record (``request_id(URL)``) is FAILED.
    After one full look, only the documents that reached a final status since the last look are read
    (the by-status index), so waiting costs little however many documents are in flight; a full look
    follows every URL list that finishes (its URLs may be documents already), and every 15 s.
    ``on_final`` is called with each record seen final (``doc_id``, ``status``, ``sources``, ``enriched_key``).
    """
    deadline = time.monotonic() + timeout
    watch = _Watch(dropped, on_final)
    since = now()
    watch.sweep(target)
    last_sweep = time.monotonic()
    while watch.pending() and time.monotonic() < deadline:
        pending = watch.pending_count()
        time.sleep(0.5 if pending < 200 else 2.0 if pending < 2000 else 4.0)  # each look is a table scan in moto
        checked_at = now()
        watch.saw(_finished_since(target, since))
        since = checked_at
        if watch.pending() and (watch.lists_opened or time.monotonic() - last_sweep > 15):
            watch.sweep(target)
            last_sweep = time.monotonic()
        if progress:
            progress.update(watch, watch.total())
    if progress:
        progress.update(watch, watch.total(), final=True)
    items = [*dropped, *(child for item in dropped for child in item.get("children", []))]
    for item in items:
        finished = watch.finished_at.get(id(item))
        item["seconds"] = round(finished - item["dropped_at"], 2) if finished is not None else None
    return target.documents.get_many([item["doc_id"] for item in items if item.get("doc_id")])


class _Watch:
    """What `wait_for` still waits for: dropped documents by id, and the URLs of finished URL lists."""

    def __init__(self, dropped: list[dict[str, Any]], on_final: Callable[[dict[str, Any]], None] | None = None):
        self.on_final = on_final
        self.files: dict[str, list[dict[str, Any]]] = {}
        for item in dropped:
            self.files.setdefault(item["doc_id"], []).append(item)
        self.urls: dict[str, list[dict[str, Any]]] = {}  # URL -> the children waiting for it
        self.finished_at: dict[int, float] = {}  # id(item) -> when it was seen final
        self.outcomes: Counter = Counter()  # final status -> documents
        self.lists_opened = False
        self._dropped = dropped

    def pending(self) -> bool:
        return bool(self.files or self.urls)

    def pending_count(self) -> int:
        return len(self.files) + len(self.urls)

    def total(self) -> int:
        return len(self._dropped) + sum(len(item.get("children", ())) for item in self._dropped)

    def saw(self, records: list[dict[str, Any]]) -> None:
        """Records seen in a final status: ``doc_id``, ``status`` and ``sources``."""
        from docingest.stages.fetch import request_id

        self.lists_opened = False
        for record in records:
            awaited = False
            for item in self.files.pop(record["doc_id"], []):
                awaited = True
                self.finished_at[id(item)] = time.monotonic()
                self.outcomes[record["status"]] += 1
                if "urls" in item:
                    self._open_list(item, record["status"] == "DONE")
            for url in [*record.get("sources", ()), *(u for u in list(self.urls) if request_id(u) == record["doc_id"])]:
                for child in self.urls.pop(url, []):
                    awaited = True
                    child["doc_id"] = record["doc_id"]
                    self.finished_at[id(child)] = time.monotonic()
                    self.outcomes[record["status"]] += 1
            if awaited and self.on_final:
                self.on_final(record)

    def _open_list(self, item: dict[str, Any], done: bool) -> None:
        item["children"] = [{"source": url, "via": item["source"], "doc_id": None, "dropped_at": item["dropped_at"]}
                            for url in (item["urls"] if done else [])]
        for child in item["children"]:
            self.urls.setdefault(child["source"], []).append(child)
        self.lists_opened = self.lists_opened or bool(item["children"])

    def sweep(self, target: Target) -> None:
        """A full look: the pending documents by id, then (while URLs are pending) every final record."""
        from docingest.stages.fetch import request_id

        ids = [*self.files, *(request_id(url) for url in self.urls)]
        found = target.documents.get_many(ids, attributes=FINAL_FIELDS) if ids else {}
        self.saw([record for record in found.values() if record.get("status") in FINAL_STATUSES])
        if self.urls:  # a URL whose content is a document already adds a source to it, nothing more
            self.saw(_final_records(target))


FINAL_FIELDS = ("status", "sources", "enriched_key")  # what waiting reads of a final record (and doc_id)


def _finished_since(target: Target, since: str) -> list[dict[str, Any]]:
    """``FINAL_FIELDS`` of the documents that became DONE or FAILED at or after ``since``."""
    from boto3.dynamodb.conditions import Key

    records = []
    for status in FINAL_STATUSES:
        kwargs: dict[str, Any] = {"IndexName": "by-status", "ProjectionExpression": "doc_id, #s, sources, enriched_key",
                                  "ExpressionAttributeNames": {"#s": "status"},
                                  "KeyConditionExpression": Key("status").eq(status) & Key("updated_at").gte(since)}
        records.extend(_pages(target.documents.table.query, kwargs))
    return records


def _final_records(target: Target) -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Attr

    return _pages(target.documents.table.scan, {"ProjectionExpression": "doc_id, #s, sources, enriched_key", "ExpressionAttributeNames": {"#s": "status"},
                                                "FilterExpression": Attr("status").is_in(list(FINAL_STATUSES))})


def _pages(operation, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    items = []
    while True:
        page = operation(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def cmd_run(args: argparse.Namespace) -> int:
    files = collect_files(args.paths)
    if not files:
        raise CommandError("no files to process", USAGE)
    with target_for(args, start_pipeline=True) as target, ThreadPoolExecutor(max_workers=4) as readers:
        enriched: dict[str, Future] = {}  # read as each document is seen DONE, while the others are in the pipeline

        def read_enriched(record: dict[str, Any]) -> None:
            if record.get("enriched_key") and record["doc_id"] not in enriched:
                enriched[record["doc_id"]] = readers.submit(target.store.read_enriched, record["doc_id"])

        dropped = drop_files(target, files, progress=args.output == "table" and sys.stderr.isatty())
        records = wait_for(target, dropped, args.timeout, WaitProgress(target), on_final=read_enriched)
        items = [entry for item in dropped for entry in (item, *item.get("children", ()))]
        results = list(readers.map(lambda item: result_row(target, item, records.get(item["doc_id"]), enriched.get(item["doc_id"])),
                                   items))
        shared = [e for e in target.entity_index.top(limit=200) if e["documents"] > 1][:12] if len(results) > 1 else []
    if args.output == "json":
        for row in results:
            say(json.dumps(row, ensure_ascii=False))
    else:
        print_table(results)
        if shared:
            say("\nentities in more than one document (ingest entities / ingest search-entity NAME on `ingest up`)")
            _print_columns(("entity", "type", "documents", "languages", "key"),
                           [(_shorten(e["name"], 40), e["type"], e["documents"], ",".join(e["languages"]), e["key"])
                            for e in shared])
    unfinished = [row for row in results if row["status"] not in ("DONE", "FAILED")]
    failed = [row for row in results if row["status"] == "FAILED"]
    if unfinished:
        print(f"{len(unfinished)} document(s) unfinished after {args.timeout:.0f}s", file=sys.stderr)
        return 1
    if failed:
        print(f"{len(failed)} document(s) FAILED", file=sys.stderr)
        return RUN_FAILED
    return 0


def result_row(target: Target, item: dict[str, Any], record: dict[str, Any] | None,
               enriched: Future | None = None) -> dict[str, Any]:
    """One document's row; ``enriched``: its enriched object being read already."""
    record = record or {}
    row: dict[str, Any] = {
        "source": item["source"],
        "via": item.get("via"),
        "doc_id": item["doc_id"],
        "status": record.get("status", "MISSING"),
        "error": record.get("error"),
        "failed_stage": record.get("failed_stage"),
        "language": record.get("language"),
        "language_confidence": record.get("language_confidence"),
        "title": record.get("title"),
        "published": record.get("published"),
        "seconds": item.get("seconds"),
        "urls_queued": record.get("urls_queued"),
        "text": None,
        "entities": [],
    }
    if record.get("status") == "DONE" and record.get("enriched_key"):
        document = enriched.result() if enriched is not None else target.store.read_enriched(item["doc_id"])
        row["text"] = document["text"]
        row["entities"] = [{k: e[k] for k in ("text", "type", "start", "end", "value") if k in e} for e in document["entities"]]
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ("file", "lang", "status", "top entities", "time")
    table = []
    for row in rows:
        if row["status"] == "FAILED":
            detail = f"{row['failed_stage']}: {row['error']}"
        elif row["urls_queued"] is not None:
            detail = f"URL list: {row['urls_queued']} URL(s), each a document below"
        else:
            detail = ", ".join(f"{text} ({kind})" for text, kind in top_by_type(row["entities"]))
        seconds = f"{row['seconds']:.1f}s" if row["seconds"] is not None else "-"
        table.append((_shorten_left(row["source"], 36), row["language"] or "-", row["status"], _shorten(detail, 70), seconds))
    _print_columns(headers, table)
    done = sum(row["status"] == "DONE" for row in rows)
    failed = sum(row["status"] == "FAILED" for row in rows)
    urls = sum(row["via"] is not None for row in rows)
    counted = f"{len(rows)} files" if not urls else f"{len(rows)} documents ({len(rows) - urls} files, {urls} URLs)"
    say(f"\n{counted}: {done} DONE, {failed} FAILED, {len(rows) - done - failed} unfinished")


def top_by_type(entities: list[dict[str, Any]], types: tuple[str, ...] = ("PER", "ORG", "LOC", "MISC")) -> list[tuple[str, str]]:
    """The most mentioned entity of each type, in the order of ``types``."""
    counts = Counter((entity["text"], entity["type"]) for entity in entities)
    best = {}
    for (text, kind), _ in counts.most_common():
        best.setdefault(kind, text)
    return [(best[kind], kind) for kind in types if kind in best]


def _shorten_left(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_drop(args: argparse.Namespace) -> int:
    files = collect_files(args.paths)
    with target_for(args) as target:
        for item in drop_files(target, files, progress=True):
            say(f"{item['doc_id']}  s3://{target.inbox_bucket}/{item['key']}")
    return 0


# inspecting ------------------------------------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    with target_for(args) as target:
        counts = target.documents.count_by_status()
        say("documents")
        for status, count in counts.items():
            say(f"  {status:<18} {count}")
        sqs = target.client("sqs")
        say("queues                             visible  in flight")
        for logical_id, url in target.queue_urls().items():
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            say(f"  {logical_id:<32} {attributes['ApproximateNumberOfMessages']:>7}  {attributes['ApproximateNumberOfMessagesNotVisible']:>9}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with target_for(args) as target:
        record = target.documents.get(args.doc_id)
        if not record:
            print(f"no document {args.doc_id}", file=sys.stderr)
            return 1
        say(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        if record.get("clean_key"):
            text = target.store.read_clean(args.doc_id)
            say("\n--- clean text (head) ---")
            say(text[:800] + ("…" if len(text) > 800 else ""))
        if record.get("enriched_key"):
            entities = target.store.read_enriched(args.doc_id)["entities"]
            say(f"\n--- entities ({len(entities)}) ---")
            for entity in entities[:50]:
                say(f"  {entity['type']:<5} {entity['start']:>6}-{entity['end']:<6} {entity['text']}")
    return 0


def cmd_entities(args: argparse.Namespace) -> int:
    with target_for(args) as target:
        rows = target.entity_index.top(args.entity_type, args.language, args.top)
    if args.output == "json":
        for row in rows:
            say(json.dumps(row, ensure_ascii=False))
        return 0
    headers = ("entity", "type", "mentions", "documents", "languages", "key")
    table = [(_shorten(r["name"], 40), r["type"], r["mentions"], r["documents"], ",".join(r["languages"]), r["key"])
             for r in rows]
    _print_columns(headers, table)
    if not rows:
        say("no entities indexed yet" + (" for these filters" if args.entity_type or args.language else ""))
    return 0


def cmd_search_entity(args: argparse.Namespace) -> int:
    name = " ".join(args.name)
    with target_for(args) as target:
        index = target.entity_index
        found = [(key, index.entity(key), index.documents(key)) for key in index.search(name)]
        titles = target.documents.get_many(sorted({d.doc_id for _, _, docs in found for d in docs}),
                                           attributes=("title", "source", "url")) if found else {}
    if args.output == "json":
        for key, summary, documents in found:
            for document in documents:
                record = titles.get(document.doc_id, {})
                say(json.dumps({"key": key, "doc_id": document.doc_id, "name": document.name, "mentions": document.mentions,
                                "language": document.language, "title": record.get("title"),
                                "source": record.get("url") or record.get("source"),
                                "first_sentence": document.first_sentence}, ensure_ascii=False))
        return 0 if found else 1
    if not found:
        say(f"no entity matches {name!r}")
        return 1
    for key, summary, documents in found:
        total = summary["mentions"] if summary else sum(d.mentions for d in documents)
        say(f"{key}  ({total} mentions in {len(documents)} documents)")
        for document in documents:
            record = titles.get(document.doc_id, {})
            label = record.get("title") or record.get("url") or record.get("source") or ""
            say(f"  {document.doc_id[:12]}  {document.language or '-':<3} x{document.mentions:<3} {_shorten(label, 60)}")
            say(f"      {_shorten(document.first_sentence, 110)}")
    return 0


def _print_columns(headers: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(len(str(line[i])) for line in [headers, *rows]) for i in range(len(headers))]
    for line in [headers, tuple("-" * w for w in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())


FUNCTION_ALIASES = {"fetch": "FetchFunction", "clean": "CleanFunction", "detect_language": "DetectLanguageFunction",
                    "detect-language": "DetectLanguageFunction", "extract_entities": "ExtractEntitiesFunction",
                    "extract-entities": "ExtractEntitiesFunction"}
QUEUE_ALIASES = {"fetch": "FetchQueue", "clean": "CleanQueue", "detect_language": "DetectLanguageQueue",
                 "detect-language": "DetectLanguageQueue", "extract_entities": "ExtractEntitiesQueue",
                 "extract-entities": "ExtractEntitiesQueue"}


def cmd_invoke(args: argparse.Namespace) -> int:
    """Like `sam local invoke`, without Docker: the handler runs here against the target."""
    event = read_event(args.event)
    logical_id = FUNCTION_ALIASES.get(args.function, args.function)
    deployment = Deployment.load(_template(args), args.region, args.stack_name)
    functions = deployment.functions()
    if logical_id not in functions:
        raise CommandError(f"unknown function {args.function}: one of {', '.join(sorted(functions))}", USAGE)
    event = function_event(deployment, logical_id, event, args.event)
    with target_for(args, start_pipeline=True) as target:
        function = target.deployment.functions(target.endpoint)[logical_id]
        if not (args.endpoint_url or args.aws):
            upload_missing_objects(target, event, _template(args).parent)
        check_objects_exist(target, event)
        os.environ.update(function.environment)
        handler = load_handler(function)
        try:
            response = handler(event, LambdaContext(logical_id, function.timeout, target.deployment.region))
        except Exception as error:  # Powertools raises when every record failed: Lambda retries the batch
            print(f"{logical_id} raised {error.__class__.__name__}: {error}", file=sys.stderr)
            return 1
        say(json.dumps(response, indent=2, ensure_ascii=False, default=str))
    return 0


def read_event(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CommandError(f"no event file {path}", USAGE)
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CommandError(f"{path} is not a JSON event: {error}", USAGE) from None
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list) or not event["Records"]:
        raise CommandError(f"{path} is not an SQS or S3 event: no Records", USAGE)
    return event


def function_event(deployment: Deployment, logical_id: str, event: dict[str, Any], path: Path) -> dict[str, Any]:
    """The SQS event the function takes: a raw S3 notification (`sam local generate-event s3 put`) is
    wrapped, as the inbox's notification reaches the fetch queue; every body must be a message the
    function takes, else one clear error (exit status 2) instead of a failed batch and its traceback."""
    from pydantic import ValidationError

    from docingest.messages import DocumentMessage, parse_fetch_message

    records = event["Records"]
    mapping = next((m for m in deployment.queue_mappings() if m.function == logical_id), None)
    if all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records):
        if logical_id != "FetchFunction" or mapping is None:
            raise CommandError(f"{path} is an S3 notification: only the fetch function takes one", USAGE)
        queue_arn = deployment.resolver().attributes[(mapping.queue_logical_id, "Arn")]
        body = json.dumps({"Records": records})
        message = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": f"ingest-invoke-{uuid.uuid4()}", "Body": body,
                   "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
                   "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                                  "SenderId": deployment.account_id,
                                  "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))}}
        return sqs_event([message], queue_arn, deployment.region)
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict) or record.get("eventSource") != "aws:sqs" or not isinstance(record.get("body"), str):
            raise CommandError(f"{path}: record {number} is not an SQS message (eventSource aws:sqs with a body)", USAGE)
        try:
            if logical_id == "FetchFunction":
                parse_fetch_message(record["body"])
            else:
                DocumentMessage.model_validate_json(record["body"])
        except ValidationError as error:
            reason = f"{error.errors()[0]['msg']} ({'.'.join(map(str, error.errors()[0]['loc'])) or 'body'})"
            raise CommandError(f"{path}: record {number} is not a message {logical_id} takes: {reason}; "
                               'it takes {"doc_id": "<sha256>"}', USAGE) from None
        except ValueError as error:
            raise CommandError(f"{path}: record {number} is not a message {logical_id} takes: {error}", USAGE) from None
    return event


def check_objects_exist(target: Target, event: dict[str, Any]) -> None:
    """The objects an S3 notification names must exist on the target, else the fetch would only fail."""
    from botocore.exceptions import ClientError

    from docingest.messages import parse_fetch_message

    s3 = target.client("s3")
    for record in event["Records"]:
        with contextlib.suppress(ValueError):
            for item in parse_fetch_message(record.get("body", "")).objects:
                try:
                    s3.head_object(Bucket=item.s3.bucket.name, Key=item.key)
                except ClientError:
                    raise CommandError(f"s3://{item.s3.bucket.name}/{item.key}, named by the event, does not exist on the "
                                       f"target: drop it first, or name a file of this folder in the inbox (`sam local "
                                       f"generate-event s3 put --bucket {target.inbox_bucket} --key samples/en/council-vote.txt`)",
                                       USAGE) from None


def upload_missing_objects(target: Target, event: dict[str, Any], root: Path) -> None:
    """On a fresh emulator, put the objects an S3 event names into the inbox from files of the same path."""
    from docingest.messages import parse_fetch_message

    s3 = target.client("s3")
    for record in event.get("Records", []):
        with contextlib.suppress(ValueError):
            for item in parse_fetch_message(record.get("body", "")).objects:
                local = root / item.key
                if item.s3.bucket.name == target.inbox_bucket and local.is_file():
                    s3.put_object(Bucket=target.inbox_bucket, Key=item.key, Body=local.read_bytes())


def cmd_redrive(args: argparse.Namespace) -> int:
    with target_for(args) as target:
        sqs = target.client("sqs")
        urls = target.queue_urls()
        pairs = target.deployment.dead_letter_queues()
        chosen = [QUEUE_ALIASES.get(args.queue, args.queue)] if args.queue else list(pairs)
        for queue in chosen:
            if queue not in pairs:
                raise CommandError(f"unknown queue {args.queue}: one of {', '.join(pairs)}", USAGE)
            moved = move_messages(sqs, urls[pairs[queue]], urls[queue])
            say(f"{pairs[queue]} -> {queue}: {moved} message(s)")
    return 0


def move_messages(sqs, source_url: str, destination_url: str) -> int:
    moved = 0
    while True:
        messages = sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            sqs.send_message(QueueUrl=destination_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def cmd_stage(args: argparse.Namespace) -> int:
    return stage_runner.run(args.name, sys.stdin, _results)


if __name__ == "__main__":
    sys.exit(main())
