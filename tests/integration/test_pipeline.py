"""The service layer and the handlers against moto in-process, with the template's resources."""
import json

import boto3
import pytest

from docingest import pipeline
from docingest.lifecycle import Stage, Status
from docingest.messages import UrlMessage
from tests.conftest import REGION, SAMPLES, receive_all

ARTICLE = (
    "Harbour of Eastvale reopens\n\n"
    "The harbour of Eastvale reopened on Monday after two years of repairs, the port authority said.\n"
    "Mayor Joanna Pike thanked the engineers of the Eastvale Port Authority for their patience.\n"
    "READ MORE: Ferry timetable changes\n"
    "Share\n"
).encode()


def put_inbox(provisioned, key: str, data: bytes) -> str:
    bucket = provisioned.inbox_bucket()
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)
    return bucket


def run_all_stages(services, doc_id):
    assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED
    assert pipeline.detect_document_language(services, doc_id) == pipeline.Outcome.ADVANCED
    assert pipeline.extract_document_entities(services, doc_id) == pipeline.Outcome.ADVANCED


def test_a_dropped_file_goes_through_every_stage(provisioned, services):
    bucket = put_inbox(provisioned, "news/eastvale.txt", ARTICLE)
    doc_id, outcome = pipeline.fetch_s3_object(services, bucket, "news/eastvale.txt")
    assert outcome == pipeline.Outcome.ADVANCED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FETCHED and record["content_type"] == "text/plain"
    assert services.store.read_raw(doc_id) == ARTICLE
    (message,) = receive_all(services.settings.clean_queue_url)  # the record rides along, without its sources
    assert message["doc_id"] == doc_id and message["record"] == {k: v for k, v in record.items() if k != "sources"}

    run_all_stages(services, doc_id)
    record = services.documents.get(doc_id)
    assert record["status"] == Status.DONE
    assert record["language"] == "en"
    for stamp in ("received_at", "fetched_at", "cleaned_at", "language_detected_at", "done_at"):
        assert record[stamp]
    clean_text = services.store.read_clean(doc_id)
    assert "READ MORE" not in clean_text and "Mayor Joanna Pike" in clean_text
    enriched = services.store.read_enriched(doc_id)
    assert enriched["text"] == clean_text and enriched["language"] == "en"
    for entity in enriched["entities"]:
        assert clean_text[entity["start"]:entity["end"]] == entity["text"]
    assert {"PER", "ORG"} <= {entity["type"] for entity in enriched["entities"]}


def test_the_same_file_dropped_twice_gives_one_record(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    put_inbox(provisioned, "copy of a.txt", ARTICLE)
    first, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    second, outcome = pipeline.fetch_s3_object(services, bucket, "copy of a.txt")
    assert first == second
    assert outcome == pipeline.Outcome.SKIPPED
    record = services.documents.get(first)
    assert record["sources"] == [f"s3://{bucket}/a.txt", f"s3://{bucket}/copy of a.txt"]
    table = boto3.resource("dynamodb", region_name=REGION).Table(services.settings.document_table)
    assert table.scan()["Count"] == 1


def test_a_redelivered_message_changes_nothing(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    run_all_stages(services, doc_id)
    before = services.documents.get(doc_id)
    enriched_before = services.store.read_enriched(doc_id)
    for step in (pipeline.clean_document, pipeline.detect_document_language, pipeline.extract_document_entities):
        assert step(services, doc_id) == pipeline.Outcome.SKIPPED
    pipeline.fetch_s3_object(services, bucket, "a.txt")
    assert services.documents.get(doc_id) == before
    assert services.store.read_enriched(doc_id) == enriched_before


def test_a_crash_between_advancing_and_handing_on_is_repaired_by_the_redelivery(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.purge_queue(QueueUrl=services.settings.clean_queue_url)  # the hand-on was lost
    assert pipeline.fetch_s3_object(services, bucket, "a.txt")[1] == pipeline.Outcome.SKIPPED
    assert [message["doc_id"] for message in receive_all(services.settings.clean_queue_url)] == [doc_id]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty input"), (bytes(range(256)) * 4, "binary content")],
)
def test_bad_input_ends_failed_with_reason_and_raw_kept(provisioned, services, data, reason):
    bucket = put_inbox(provisioned, "bad.bin", data)
    doc_id, outcome = pipeline.fetch_s3_object(services, bucket, "bad.bin")
    assert outcome == pipeline.Outcome.FAILED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FAILED and record["failed_stage"] == "fetch"
    assert reason in record["error"] and record["error_kind"] == pipeline.BAD_INPUT
    assert services.store.read_raw(doc_id) == data
    assert receive_all(services.settings.clean_queue_url) == []
    assert pipeline.fetch_s3_object(services, bucket, "bad.bin")[1] == pipeline.Outcome.SKIPPED  # not retried


def test_an_oversized_object_fails_without_being_loaded(provisioned, services, monkeypatch):
    monkeypatch.setenv("MAX_DOCUMENT_BYTES", "100")
    limited = pipeline.Services.from_env()
    bucket = put_inbox(provisioned, "big.txt", b"word " * 100)
    doc_id, outcome = pipeline.fetch_s3_object(limited, bucket, "big.txt")
    assert outcome == pipeline.Outcome.FAILED
    record = limited.documents.get(doc_id)
    assert "too large" in record["error"] and record["raw_key"] == f"s3://{bucket}/big.txt"


def test_a_page_with_no_text_fails_at_clean(provisioned, services):
    bucket = put_inbox(provisioned, "empty.html", b"<html><head><title>x</title></head><body><script>var a = 1;</script><img src=a.png></body></html>")
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "empty.html")
    assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.FAILED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FAILED and record["failed_stage"] == "clean" and record["error"]


def test_a_url_list_queues_each_url(provisioned, services):
    bucket = put_inbox(provisioned, "feeds.urls", b"# two pages\nhttps://news.example/a\nhttps://news.example/b\n")
    doc_id, outcome = pipeline.fetch_s3_object(services, bucket, "feeds.urls")
    assert outcome == pipeline.Outcome.ADVANCED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.DONE and record["kind"] == "url_list" and record["urls_queued"] == 2
    urls = [message["url"] for message in receive_all(services.settings.fetch_queue_url) if "url" in message]
    assert sorted(urls) == ["https://news.example/a", "https://news.example/b"]


def test_a_refused_url_ends_failed_with_its_request_kept(provisioned, services):
    message = UrlMessage(url="http://169.254.169.254/latest/meta-data/")
    doc_id, outcome = pipeline.fetch_url(services, message)
    assert outcome == pipeline.Outcome.FAILED
    record = services.documents.get(doc_id)
    assert "internal address" in record["error"] and record["source"] == message.url
    raw = boto3.client("s3", region_name=REGION).get_object(Bucket=services.settings.document_bucket, Key=record["raw_key"])
    assert json.loads(raw["Body"].read())["url"] == message.url


def test_the_last_attempt_marks_the_document_failed(provisioned, services):
    bucket = put_inbox(provisioned, "a.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "a.txt")
    with pytest.raises(RuntimeError):
        with pipeline.final_attempt_marks_failed(services, pipeline.Attempt(Stage.CLEAN, 1, doc_id)):
            raise RuntimeError("S3 throttled")
    assert services.documents.get(doc_id)["status"] == Status.FETCHED
    with pytest.raises(RuntimeError):
        with pipeline.final_attempt_marks_failed(services, pipeline.Attempt(Stage.CLEAN, 3, doc_id)):
            raise RuntimeError("S3 throttled")
    record = services.documents.get(doc_id)
    assert record["status"] == Status.FAILED and "gave up after 3 attempts" in record["error"]
    # a redriven message retries it
    assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED
    record = services.documents.get(doc_id)
    assert record["status"] == Status.CLEANED and "error" not in record


def test_indexes_list_documents_by_status_and_language(provisioned, services):
    for name in ("en/council-vote.txt", "pt/porto-novo.txt"):
        bucket = put_inbox(provisioned, name, (SAMPLES / name).read_bytes())
        doc_id, _ = pipeline.fetch_s3_object(services, bucket, name)
        run_all_stages(services, doc_id)
    assert {r["language"] for r in services.documents.list_by_status("DONE")} == {"en", "pt"}
    assert [r["source_name"] for r in services.documents.list_by_language("pt")] == ["porto-novo.txt"]
    assert services.documents.count_by_status()["DONE"] == 2


FOOTER = "Support independent local journalism by becoming a member of our newsroom today."


PLACES = ["library", "swimming pool", "bus station", "market hall", "museum"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def article(n: int) -> bytes:
    place, day = PLACES[n - 1], DAYS[n - 1]
    return (f"The town of Eastvale opened its new {place} on {day}, after a long wait.\n"
            f"Librarian Ruth Adeyemi said the {place} would change life in the town centre.\n"
            f"{FOOTER}\n").encode()


def test_lines_repeated_across_a_sources_documents_are_learnt_and_removed(provisioned, services):
    texts = []
    for n in range(1, 6):
        key = f"eastvale-news/story-{n}.txt"
        bucket = put_inbox(provisioned, key, article(n))
        doc_id, _ = pipeline.fetch_s3_object(services, bucket, key)
        assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED
        texts.append(services.store.read_clean(doc_id))
    assert all(FOOTER in text for text in texts[:3])  # seen in fewer than 3 other documents
    assert all(FOOTER not in text for text in texts[3:])
    assert all("Librarian Ruth Adeyemi" in text for text in texts)
    record = services.documents.get(doc_id)
    assert record["repeated_lines_removed"] == 1 and record["line_source"] == f"s3://{bucket}/eastvale-news"


def test_another_source_does_not_share_the_counts_and_redelivery_counts_once(provisioned, services):
    counts = services.line_counts
    assert counts.add("site-a", "d1", ["f1", "f2"]) is True
    assert counts.add("site-a", "d1", ["f1", "f2"]) is False
    counts.add("site-a", "d2", ["f1"])
    assert counts.counts("site-a", ["f1", "f2", "f3"]) == ({"f1": 2, "f2": 1}, 2)
    assert counts.counts("site-b", ["f1"]) == ({}, 0)
    assert counts.is_counted("site-a", "d2") and not counts.is_counted("site-b", "d2")


def test_a_near_duplicate_article_keeps_its_text(provisioned, services):
    body = ("The harbour of Eastvale reopened on Monday after two years of repairs.\n"
            "Mayor Joanna Pike thanked the engineers for their patience and their work.\n")
    texts = []
    for n in range(5):
        key = f"wire/copy-{n}.txt"
        bucket = put_inbox(provisioned, key, f"{body}Updated version {'I' * (n + 1)}.\n".encode())
        doc_id, _ = pipeline.fetch_s3_object(services, bucket, key)
        assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED
        texts.append(services.store.read_clean(doc_id))
    assert all("Mayor Joanna Pike" in text for text in texts)


def test_entities_are_indexed_once_even_when_the_stage_reruns_after_a_crash(provisioned, services, monkeypatch):
    bucket = put_inbox(provisioned, "news/eastvale.txt", ARTICLE)
    doc_id, _ = pipeline.fetch_s3_object(services, bucket, "news/eastvale.txt")
    assert pipeline.clean_document(services, doc_id) == pipeline.Outcome.ADVANCED
    assert pipeline.detect_document_language(services, doc_id) == pipeline.Outcome.ADVANCED
    advance = services.documents.advance

    def crash_once(*args, **kwargs):
        monkeypatch.setattr(services.documents, "advance", advance)
        raise ConnectionError("lost the connection after indexing")

    monkeypatch.setattr(services.documents, "advance", crash_once)
    with pytest.raises(ConnectionError):
        pipeline.extract_document_entities(services, doc_id)
    index = services.entity_index
    keys = [e["key"] for e in services.store.read_enriched(doc_id)["entities"] if e.get("key")]
    counts = {key: index.entity(key)["mentions"] for key in keys}
    assert counts and all(n >= 1 for n in counts.values())

    assert pipeline.extract_document_entities(services, doc_id) == pipeline.Outcome.ADVANCED  # the redelivery
    assert {key: index.entity(key)["mentions"] for key in keys} == counts
    assert all(index.entity(key)["documents"] == 1 for key in keys)
    pike = [key for key in keys if "pike" in key]
    assert pike and [d.doc_id for d in index.documents(pike[0])] == [doc_id]
    assert services.documents.get(doc_id)["top_entities"]


SAME_EVENT = {
    "en.txt": ("Mayor Helga Andersen opened the new bridge in Rotterdam on Monday. Andersen said the bridge would "
               "carry trams by 2027. The Rotterdam Port Authority paid for half of the work.\n"),
    "pt.txt": ("A presidente da câmara Helga Andersen inaugurou na segunda-feira a nova ponte de Roterdão. "
               "Andersen disse que a ponte terá elétricos em 2027.\n"),
    "id.txt": ("Wali kota Helga Andersen meresmikan jembatan baru di Rotterdam pada hari Senin. Menurut Andersen, "
               "jembatan itu akan dilalui trem pada 2027.\n"),
}


def test_one_person_in_three_languages_is_one_entity_of_the_index(provisioned, services):
    doc_ids = {}
    for name, text in SAME_EVENT.items():
        bucket = put_inbox(provisioned, f"bridge/{name}", text.encode())
        doc_ids[name], _ = pipeline.fetch_s3_object(services, bucket, f"bridge/{name}")
        run_all_stages(services, doc_ids[name])
    languages = {services.documents.get(d)["language"] for d in doc_ids.values()}
    assert languages == {"en", "pt", "id"}
    index = services.entity_index
    assert index.search("Andersen") == ["PER:helga andersen"]
    person = index.entity("PER:helga andersen")
    assert (person["documents"], person["languages"]) == (3, ["en", "id", "pt"])
    assert person["mentions"] == 6  # "Helga Andersen" and "Andersen" in each
    documents = index.documents("PER:helga andersen")
    assert {d.doc_id for d in documents} == set(doc_ids.values())
    assert all(d.first_sentence.startswith(("Mayor", "A presidente", "Wali kota")) for d in documents)
    assert index.top("PER", language="pt")[0]["key"] == "PER:helga andersen"
