"""End to end on the embedded emulator: files dropped into the inbox come out as enriched records."""
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from docingest_cli.deployment import Deployment
from docingest_cli.emulator import Emulator
from docingest_cli.main import collect_files, drop_files, move_messages, wait_for
from docingest_cli.target import Target
from tests.conftest import REGION, SAMPLES, TEMPLATE

pytestmark = pytest.mark.e2e

EXPECTED_LANGUAGE = {"en": "en", "pt": "pt", "id": "id"}
CHROME = ["READ MORE", "Baca juga", "Leia mais", "Veja também", "[iklan", "Komentar (", "Bagikan", "cookies", "Share this article",
          "Partilhe", "Inicie sessão", "All rights reserved"]


@pytest.fixture(scope="module")
def target():
    emulator = Emulator(Deployment.load(TEMPLATE, REGION), retry_delay=0, extra_environment={"ALLOW_PRIVATE_URLS": "true"})
    emulator.start()
    yield Target(emulator.deployment, emulator.endpoint)
    emulator.stop()


@pytest.fixture(scope="module")
def sample_results(target):
    dropped = drop_files(target, collect_files([SAMPLES]), progress=False)
    records = wait_for(target, dropped, timeout=120)
    return [(item, records.get(item["doc_id"])) for item in dropped]


def test_every_sample_ends_in_a_known_state(sample_results):
    statuses = {item["source"].split("samples/")[1]: record["status"] for item, record in sample_results}
    assert statuses == {
        "bad/binary.txt": "FAILED",
        "bad/empty.txt": "FAILED",
        "en/council-vote.txt": "DONE",
        "en/harbour-reopens.html": "DONE",
        "id/banjir-jakarta.txt": "DONE",
        "pt/cimeira-regional.html": "DONE",
        "pt/porto-novo.txt": "DONE",
    }


def test_bad_files_fail_at_fetch_with_a_reason_and_their_raw_bytes_kept(target, sample_results):
    for item, record in sample_results:
        if "/bad/" in item["source"]:
            assert record["failed_stage"] == "fetch" and record["error"]
            assert target.store.read_raw(item["doc_id"]) == open(item["source"], "rb").read()


def test_done_documents_are_clean_language_tagged_and_annotated(target, sample_results):
    for item, record in sample_results:
        if record["status"] != "DONE":
            continue
        language = item["source"].split("samples/")[1].split("/")[0]
        assert record["language"] == EXPECTED_LANGUAGE[language], item["source"]
        for stamp in ("received_at", "fetched_at", "cleaned_at", "language_detected_at", "done_at"):
            assert record[stamp] <= record["done_at"]
        enriched = target.store.read_enriched(item["doc_id"])
        text = enriched["text"]
        assert text == target.store.read_clean(item["doc_id"])
        for marker in CHROME:
            assert marker not in text, (item["source"], marker)
        types = {entity["type"] for entity in enriched["entities"]}
        assert {"PER", "ORG", "LOC"} <= types, (item["source"], types)
        for entity in enriched["entities"]:
            assert text[entity["start"]:entity["end"]] == entity["text"]
        assert target.store.read_raw(item["doc_id"]) == open(item["source"], "rb").read()


def test_html_pages_get_their_title(sample_results):
    titles = {item["source"].rsplit("/", 1)[1]: record.get("title") for item, record in sample_results}
    assert titles["harbour-reopens.html"] and titles["cimeira-regional.html"]


def test_the_same_file_dropped_twice_gives_one_record(target, tmp_path):
    page = "Councillor Ruth Mbeki opened the new bridge over the River Lune in Lancaster on Tuesday.\n" * 3
    first, second = tmp_path / "bridge.txt", tmp_path / "bridge copy.txt"
    first.write_text(page)
    second.write_text(page)
    dropped = drop_files(target, [(first, "twice/bridge.txt"), (second, "twice/bridge copy.txt")], progress=False)
    assert dropped[0]["doc_id"] == dropped[1]["doc_id"]
    record = wait_for(target, dropped, timeout=60)[dropped[0]["doc_id"]]
    assert record["status"] == "DONE"
    time.sleep(1.5)  # let the second notification through
    record = target.documents.get(dropped[0]["doc_id"])
    assert len(record["sources"]) == 2
    items = target.client("dynamodb").scan(TableName=target.environment["DOCUMENT_TABLE"],
                                           FilterExpression="doc_id = :id",
                                           ExpressionAttributeValues={":id": {"S": dropped[0]["doc_id"]}})["Items"]
    assert len(items) == 1


def test_a_poison_message_ends_in_the_dead_letter_queue_and_can_be_redriven(target):
    sqs = target.client("sqs")
    urls = target.queue_urls()
    sqs.send_message(QueueUrl=urls["CleanQueue"], MessageBody="this is not a message")
    deadline = time.time() + 60
    dead = []
    while time.time() < deadline and not dead:
        dead = sqs.receive_message(QueueUrl=urls["CleanDeadLetterQueue"], VisibilityTimeout=0).get("Messages", [])
        time.sleep(0.3)
    assert [message["Body"] for message in dead] == ["this is not a message"]
    moved = move_messages(sqs, urls["CleanDeadLetterQueue"], urls["CleanQueue"])
    assert moved == 1


class PageHandler(BaseHTTPRequestHandler):
    page = ("<html><head><title>Ferry link restored</title></head><body><article><h1>Ferry link restored</h1>"
            "<p>The ferry between Portsmouth and Cherbourg sailed again on Monday, the operator Channel Lines said.</p>"
            "<p>Captain Aled Morgan told passengers the crossing had been calm and on time.</p>"
            "</article></body></html>").encode()

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)


def test_a_url_message_is_downloaded_and_processed(target):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ferry"
        target.client("sqs").send_message(QueueUrl=target.queue_urls()["FetchQueue"], MessageBody=json.dumps({"url": url}))
        doc_id = hashlib.sha256(PageHandler.page).hexdigest()
        record = wait_for(target, [{"doc_id": doc_id, "dropped_at": time.monotonic()}], timeout=60)[doc_id]
    finally:
        server.shutdown()
    assert record["status"] == "DONE" and record["url"] == url and record["language"] == "en"
    assert record["title"] == "Ferry link restored"


def test_a_url_list_is_waited_for_with_the_documents_of_its_urls(target, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = f"http://127.0.0.1:{server.server_address[1]}/ferry-again"
        listing = tmp_path / "list.urls"
        listing.write_text(f"{page}\nftp://example.org/refused\n")
        for attempt in range(2):  # the second time the list and its URLs are documents already
            (item,) = drop_files(target, [(listing, f"lists-{attempt}/list.urls")], progress=False)
            records = wait_for(target, [item], timeout=60)
            assert records[item["doc_id"]]["status"] == "DONE" and records[item["doc_id"]]["urls_queued"] == 2
            children = {child["source"]: child for child in item["children"]}
            assert set(children) == {page, "ftp://example.org/refused"}
            assert children[page]["doc_id"] == hashlib.sha256(PageHandler.page).hexdigest()
            assert records[children[page]["doc_id"]]["status"] == "DONE"
            refused = records[hashlib.sha256(b"url:ftp://example.org/refused").hexdigest()]
            assert refused["status"] == "FAILED" and refused["via"] == f"s3://{target.inbox_bucket}/lists-0/list.urls"
            assert all(child["via"] == str(listing) and child["seconds"] is not None for child in children.values())
    finally:
        server.shutdown()


def test_with_chaos_every_document_still_ends_once(tmp_path):
    """Records fail before and after their handler at random: each document still ends DONE or FAILED, once."""
    emulator = Emulator(Deployment.load(TEMPLATE, REGION), retry_delay=0, chaos=0.3, chaos_seed=3, concurrency=2)
    with emulator:
        target = Target(emulator.deployment, emulator.endpoint)
        dropped = drop_files(target, collect_files([SAMPLES]), progress=False)
        records = wait_for(target, dropped, timeout=120)
        assert {item["doc_id"]: records[item["doc_id"]]["status"] for item in dropped} == {
            item["doc_id"]: "FAILED" if "/bad/" in item["source"] else "DONE" for item in dropped}
        items = target.client("dynamodb").scan(TableName=target.environment["DOCUMENT_TABLE"])["Items"]
        assert sorted(item["doc_id"]["S"] for item in items) == sorted(item["doc_id"] for item in dropped)
        assert all(len(item["sources"]["SS"]) == 1 for item in items)
        index = target.client("dynamodb").scan(TableName=target.environment["ENTITY_INDEX_TABLE"])["Items"]
        documents_of = {}
        for item in index:
            if item["sk"]["S"].startswith("DOC#"):
                documents_of[item["pk"]["S"]] = documents_of.get(item["pk"]["S"], 0) + 1
        summaries = {item["pk"]["S"]: int(item["document_count"]["N"]) for item in index if item["sk"]["S"] == "#SUMMARY"}
        assert summaries == documents_of  # no document indexed twice
        counts = emulator.chaos_counts()
        locks_of_queue = {}
        for poller in emulator.pollers:
            locks_of_queue.setdefault(poller.queue_url, set()).add(id(poller.receive_lock))
        assert len(emulator.pollers) > len(locks_of_queue)  # several pollers per queue (concurrency)
        assert all(len(locks) == 1 for locks in locks_of_queue.values())  # one receive at a time per queue
    assert counts["failed_before"] > 0 and counts["failed_after"] > 0
