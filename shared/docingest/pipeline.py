"""The service layer: what each function does with a message, given the adapters.

Handlers parse their event and call one of ``fetch_s3_object``, ``fetch_url``, ``clean_document``,
``detect_document_language`` or ``extract_document_entities``. Each step is idempotent: the document
id is the content hash, objects are content-addressed, and a status moves only from the state the
stage expects, so a redelivered message changes nothing.
"""
from __future__ import annotations

import posixpath
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from docingest.adapters.documents import DocumentRepository
from docingest.adapters.entity_index import EntityIndex
from docingest.adapters.http import download
from docingest.adapters.line_counts import SourceLineCounts
from docingest.adapters.queues import Queues
from docingest.adapters.storage import DocumentStore, InboxObject, ObjectExists
from docingest.config import Settings
from docingest.deadline import OutOfTime
from docingest.errors import BadInput
from docingest.lifecycle import STAGE_RESULT, Stage, Status, expected_before, is_past
from docingest.messages import UrlMessage, document_message
from docingest.models import Entity
from docingest.stages import fetch as fetch_stage
from docingest.stages.repeated_lines import RepeatedLines

BAD_INPUT = "bad_input"  # error_kind of a permanent failure: never retried
GAVE_UP = "gave_up"  # error_kind after the last delivery attempt: a redrive retries it
TIMED_OUT = "timed_out"  # error_kind when the function's time ran out: the next delivery or a redrive retries it
RETRYABLE = frozenset((GAVE_UP, TIMED_OUT))
TOP_ENTITIES = 10
MAX_INDEXED_ENTITIES = 1_000  # a document's most mentioned entities go to the entity index
REPEATED_LINES = RepeatedLines()
MIN_KEPT_SHARE = 0.5  # repeated lines are chrome only while they are a minority of the document


class Outcome(StrEnum):
    ADVANCED = "advanced"
    FAILED = "failed"
    SKIPPED = "skipped"  # a duplicate delivery or a test event


@dataclass(frozen=True)
class Services:
    settings: Settings
    documents: DocumentRepository
    store: DocumentStore
    queues: Queues
    line_counts: SourceLineCounts | None = None  # None: no learning of repeated lines
    entity_index: EntityIndex | None = None  # None: entities are not indexed across documents

    @classmethod
    def from_env(cls) -> "Services":
        settings = Settings.from_env()
        line_counts = SourceLineCounts(settings.source_line_table) if settings.source_line_table else None
        entity_index = EntityIndex(settings.entity_index_table) if settings.entity_index_table else None
        return cls(settings, DocumentRepository(settings.document_table), DocumentStore(settings.document_bucket), Queues(),
                   line_counts, entity_index)

    def next_queue(self, stage: Stage) -> str | None:
        return {
            Stage.FETCH: self.settings.clean_queue_url,
            Stage.CLEAN: self.settings.detect_language_queue_url,
            Stage.DETECT_LANGUAGE: self.settings.extract_entities_queue_url,
        }.get(stage)


# fetch ----------------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One delivery of a message: what the final-attempt guard needs to leave a FAILED record behind."""

    stage: Stage
    receive_count: int = 1
    doc_id: str | None = None  # set as soon as the document is known
    source: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # of the record to create if none exists
    received_at: str | None = None


def fetch_s3_object(services: Services, bucket: str, key: str, received_at: str | None = None,
                    attempt: Attempt | None = None) -> tuple[str, Outcome]:
    """A file dropped into the inbox: keep its bytes, create the record, hand it to clean."""
    source = f"s3://{bucket}/{key}"
    attempt = attempt or Attempt(Stage.FETCH)
    attempt.source, attempt.received_at = source, received_at
    attempt.doc_id = fetch_stage.request_id(source)  # until the bytes are read
    attempt.attributes = {"kind": "document", "source_name": posixpath.basename(key)}
    inbox = services.store.open_inbox(bucket, key)  # one GetObject: its ContentLength decides before the body is read
    if inbox.size > services.settings.max_document_bytes:
        return _refuse_large_object(services, inbox, source, received_at)
    data = inbox.read()
    return _accept(services, data, source=source, name=key, declared_type=inbox.content_type, received_at=received_at,
                   attempt=attempt)


def fetch_url(services: Services, message: UrlMessage, attempt: Attempt | None = None) -> tuple[str, Outcome]:
    """A URL message: download it within the limits, then as for a dropped file."""
    settings = services.settings
    request_id = url_request_id(message)
    attempt = attempt or Attempt(Stage.FETCH)
    attempt.doc_id, attempt.source, attempt.attributes = request_id, message.url, url_request_attributes(message)
    try:
        result = download(
            message.url,
            max_bytes=settings.max_document_bytes,
            max_redirects=settings.max_redirects,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            total_timeout=settings.download_timeout,
            allow_private=settings.allow_private_urls,
        )
    except BadInput as error:
        raw_key = services.store.put_request(request_id, message.model_dump(exclude_none=True))
        return request_id, _refuse(services, request_id, message.url, {**attempt.attributes, "raw_key": raw_key}, str(error))
    name = posixpath.basename(urlsplit(result.url).path)
    doc_id, outcome = _accept(services, result.data, source=message.url, name=name, declared_type=result.content_type,
                              url=result.url, via=message.source, depth=message.depth, attempt=attempt)
    services.documents.delete_failed(request_id)  # an earlier failure of this URL is superseded
    return doc_id, outcome


def url_request_id(message: UrlMessage | str) -> str:
    return fetch_stage.request_id(message if isinstance(message, str) else message.url)


def url_request_attributes(message: UrlMessage) -> dict[str, Any]:
    return {"kind": "url", "url": message.url, "via": message.source}


def _refuse_large_object(services: Services, inbox: InboxObject, source: str, received_at: str | None) -> tuple[str, Outcome]:
    doc_id = inbox.sha256()  # the body streamed, never loaded whole
    attributes = {"kind": "document", "source_name": posixpath.basename(inbox.key), "size_bytes": inbox.size, "raw_key": source}
    reason = f"too large: {inbox.size} bytes, the limit is {services.settings.max_document_bytes} (raw input kept at {source})"
    return doc_id, _refuse(services, doc_id, source, attributes, reason, received_at)


def _refuse(services: Services, doc_id: str, source: str, attributes: dict[str, Any], reason: str,
            received_at: str | None = None) -> Outcome:
    """A record that ends FAILED at fetch right away; a repeated refusal changes nothing."""
    if not services.documents.create(doc_id, source, attributes, received_at):
        record = services.documents.get(doc_id)
        if not (record and record["status"] == Status.FAILED and record.get("error_kind") in RETRYABLE):
            return Outcome.SKIPPED
    return _fail(services, doc_id, Stage.FETCH, reason)


def _accept(
    services: Services,
    data: bytes,
    *,
    source: str,
    name: str,
    declared_type: str | None,
    received_at: str | None = None,
    url: str | None = None,
    via: str | None = None,
    depth: int = 0,
    attempt: Attempt | None = None,
) -> tuple[str, Outcome]:
    doc_id = fetch_stage.document_id(data)
    content_type = fetch_stage.sniff_content_type(data, name, declared_type)
    attributes = {
        "kind": "url_list" if content_type == fetch_stage.URL_LIST else "document",
        "source_name": posixpath.basename(name) or source,
        "content_type": content_type,
        "size_bytes": len(data),
        "url": url,
        "via": via,
    }
    if attempt is not None:  # from here on, a failure belongs to this document
        attempt.doc_id, attempt.attributes = doc_id, attributes
    attributes["raw_key"] = services.store.put_raw(doc_id, data, content_type)

    def decode() -> dict[str, Any]:
        return {"charset": fetch_stage.decode_bytes(data, fetch_stage.declared_charset(data, declared_type)).charset}

    if content_type == fetch_stage.URL_LIST:
        services.documents.create(doc_id, source, attributes, received_at)
        return doc_id, _split_url_list(services, doc_id, data, declared_type, source, depth)
    try:
        decoded = decode()
    except Exception:  # bad input or an error to retry: as before, from a RECEIVED record (run_stage fails or raises)
        services.documents.create(doc_id, source, attributes, received_at)
        return doc_id, run_stage(services, Stage.FETCH, doc_id, lambda record, carried: decode())
    # The usual case: one conditional PutItem creates the record as create + advance(FETCH) would leave it.
    record = services.documents.create_fetched(doc_id, source, {**attributes, **decoded}, received_at)
    if record is not None:
        text = fetch_stage.decode_bytes(data, decoded["charset"]).text  # exactly what clean decodes from raw/
        _hand_on(services, Stage.FETCH, doc_id, record, text)
        return doc_id, Outcome.ADVANCED
    # The document exists already (its source was added): a duplicate, a redelivery or a retry, as before.
    return doc_id, run_stage(services, Stage.FETCH, doc_id, lambda record, carried: decoded)


def _split_url_list(services: Services, doc_id: str, data: bytes, declared_type: str | None, source: str, depth: int) -> Outcome:
    """A URL list is done once each of its URLs is queued for fetching as a document of its own."""
    settings = services.settings
    record = services.documents.get(doc_id)
    if record is None or not (record["status"] == Status.RECEIVED or _retryable_here(record, Stage.FETCH)):
        return Outcome.SKIPPED
    try:
        if depth >= settings.max_url_list_depth:
            raise BadInput(f"URL lists nested too deep: this list is {depth + 1} levels down, the limit is {settings.max_url_list_depth}")
        decoded = fetch_stage.decode_bytes(data, fetch_stage.declared_charset(data, declared_type))
        urls = fetch_stage.parse_url_list(decoded.text)
        if not urls:
            raise BadInput("empty URL list: no URL found")
        if len(urls) > settings.max_urls_per_list:
            raise BadInput(f"too many URLs: {len(urls)} in one list, the limit is {settings.max_urls_per_list} (split the list)")
    except BadInput as error:
        return _fail(services, doc_id, Stage.FETCH, str(error))
    services.queues.send_many(settings.fetch_queue_url, [{"url": url, "source": source, "depth": depth + 1} for url in urls])
    services.documents.complete_url_list(doc_id, {"charset": decoded.charset, "urls_queued": len(urls), "list_depth": depth + 1})
    return Outcome.ADVANCED


# clean, detect_language, extract_entities -------------------------------------------------------


# Each function imports only its own stage: a cold start pays for one stage's modules and models.


def clean_document(services: Services, doc_id: str, record: dict[str, Any] | None = None,
                   text: str | None = None) -> Outcome:
    """``record`` and ``text``: what the message carried (None: read from DynamoDB and S3)."""
    from docingest.stages.clean import clean

    handoff: dict[str, str] = {}
    decoded = text

    def work(record: dict[str, Any], carried: bool) -> dict[str, Any]:
        text = decoded
        if text is None:
            text = fetch_stage.decode_bytes(services.store.read_raw(doc_id), record.get("charset")).text
        result = clean(text, record.get("content_type", fetch_stage.PLAIN_TEXT), record.get("url"),
                       max_elements=services.settings.max_html_elements, max_lines=services.settings.max_text_lines)
        clean_text, repeated = _without_repeated_lines(services, record, result.text)
        metadata = result.model_dump(exclude={"text", "removed_lines"}, exclude_none=True)
        key = services.store.put_clean(doc_id, clean_text, metadata, if_absent=carried)
        handoff["text"] = clean_text
        return {**metadata, "clean_key": key, "text_chars": len(clean_text), "removed_lines": result.removed_lines,
                "repeated_lines_removed": repeated, "line_source": line_source(record)}

    return run_stage(services, Stage.CLEAN, doc_id, work, record, handoff=handoff)


def line_source(record: dict[str, Any]) -> str:
    """Where a document's repeated lines are learnt: the site of a URL, the folder of a dropped file."""
    if record.get("url"):
        host = (urlsplit(record["url"]).hostname or "").lower()
        return host.removeprefix("www.")
    return posixpath.dirname(record["source"]) or record["source"]


def _without_repeated_lines(services: Services, record: dict[str, Any], text: str) -> tuple[str, int]:
    """Drop the lines other documents of the same source repeat; count this document's lines once."""
    if services.line_counts is None:
        return text, 0
    source, doc_id = line_source(record), record["doc_id"]
    fingerprints = REPEATED_LINES.lines_to_count(text)
    counts, documents_seen, counted = services.line_counts.lookup(source, doc_id, fingerprints)
    kept, removed = REPEATED_LINES.filter(text, counts, documents_seen, counted_this_document=counted)
    if not counted:
        services.line_counts.add(source, doc_id, fingerprints)
    if len(kept) < MIN_KEPT_SHARE * len(text):  # mostly repeated: a near-duplicate article, not chrome
        return text, 0
    return kept, len(removed)


def detect_document_language(services: Services, doc_id: str, record: dict[str, Any] | None = None,
                             text: str | None = None) -> Outcome:
    from docingest.stages.detect_language import detect_language

    handoff: dict[str, str] = {}

    def work(record: dict[str, Any], carried: bool) -> dict[str, Any]:
        clean_text = text if text is not None else services.store.read_clean(doc_id)
        result = detect_language(clean_text)
        handoff["text"] = clean_text  # extract_entities reads the same text
        return {"language": result.language, "language_confidence": result.confidence}

    return run_stage(services, Stage.DETECT_LANGUAGE, doc_id, work, record, handoff=handoff)


def extract_document_entities(services: Services, doc_id: str, record: dict[str, Any] | None = None,
                              text: str | None = None) -> Outcome:
    from docingest.stages.entity_keys import summarise
    from docingest.stages.extract_entities import extract_entities

    settings = services.settings
    written: dict[str, Any] = {}  # the enriched document, to correct its sources once the record is known

    clean_text = text

    def work(record: dict[str, Any], carried: bool) -> dict[str, Any]:
        text = clean_text if clean_text is not None else services.store.read_clean(doc_id)
        language = record.get("language")
        searched = text_within(text, settings.max_entity_text_chars)
        entities = extract_entities(searched, language, settings.entity_backend)
        limits = {}
        if len(searched) < len(text):
            limits["entities_searched_chars"] = len(searched)
        if len(entities) > settings.max_entities:
            entities, limits["entities_dropped"] = entities[:settings.max_entities], len(entities) - settings.max_entities
        written.clear()
        written.update(enriched_document(record, text, entities), **limits)
        key = services.store.put_enriched(doc_id, written, if_absent=carried)
        if services.entity_index is not None:  # before advancing: a crash here is retried, and indexing is idempotent
            summaries = summarise(searched, entities)[:MAX_INDEXED_ENTITIES]
            services.entity_index.add_document(doc_id, language if language != "und" else None, summaries)
        return {"enriched_key": key, "entity_count": len(entities), "top_entities": top_entities(entities), **limits}

    def correct_sources(record: dict[str, Any]) -> None:
        """A carried record has no ``sources`` (the enriched object got the first source): the advanced
        record tells them; the object is written again only for a document dropped more than once."""
        metadata = written.get("metadata", {})
        if written and record.get("sources") and metadata.get("sources") != record["sources"]:
            written["metadata"] = {**metadata, "sources": record["sources"]}
            services.store.put_enriched(doc_id, written)

    return run_stage(services, Stage.EXTRACT_ENTITIES, doc_id, work, record, correct_sources)


def text_within(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters of the text, cut after the last line or sentence break in them."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    cut = max(head.rfind("\n"), head.rfind(". "))
    return head[:cut + 1] if cut > max_chars // 2 else head[:head.rfind(" ") + 1 or max_chars]


def enriched_document(record: dict[str, Any], text: str, entities: list[Entity]) -> dict[str, Any]:
    metadata_fields = ("source", "sources", "source_name", "url", "content_type", "charset", "title", "published",
                       "author", "site_name", "description", "canonical_url", "received_at")
    if "sources" not in record:  # a carried record: until the advanced record tells them all
        record = {**record, "sources": [record["source"]]}
    return {
        "doc_id": record["doc_id"],
        "language": record.get("language"),
        "language_confidence": record.get("language_confidence"),
        "title": record.get("title"),
        "text": text,
        "entities": [entity.model_dump(exclude_none=True) for entity in entities],
        "metadata": {field: record[field] for field in metadata_fields if record.get(field) is not None},
    }


def top_entities(entities: list[Entity], limit: int = TOP_ENTITIES) -> list[str]:
    counts = Counter(entity.key for entity in entities if entity.key)
    names = {entity.key: entity.text for entity in sorted(entities, key=lambda e: len(e.text)) if entity.key}
    return [f"{names[key]} ({key.split(':', 1)[0]})" for key, _ in counts.most_common(limit)]


# the stage protocol ----------------------------------------------------------------------------


def run_stage(services: Services, stage: Stage, doc_id: str, work: Callable[[dict[str, Any], bool], dict[str, Any]],
              carried: dict[str, Any] | None = None,
              on_advanced: Callable[[dict[str, Any]], None] | None = None, handoff: dict[str, str] | None = None) -> Outcome:
    """Run ``work`` on a document if it is where ``stage`` expects it, then advance and hand on.

    - already at this stage's result (a crash between advancing and handing on): hand on again;
    - further on, or FAILED for good: a duplicate delivery, nothing changes;
    - ``work`` raising BadInput: the document ends FAILED with the reason, and the message is done.

    ``carried``: the record the message carried. The work then runs on it without reading the record,
    writes its objects only if absent, and the conditional advance is the guard; when that guard says
    the document is elsewhere (or an earlier attempt wrote the objects), the record is read and the
    stage goes on as without it. ``handoff["text"]``, set by ``work``: the text the next stage reads,
    carried by its message when small.
    """
    if carried is not None:
        outcome = _run_on_carried(services, stage, doc_id, work, carried, on_advanced, handoff)
        if outcome is not None:
            return outcome
    record = services.documents.get(doc_id)
    if record is None:
        raise LookupError(f"no document record for {doc_id}")
    status = record["status"]
    if status == STAGE_RESULT[stage]:
        _hand_on(services, stage, doc_id, record)
        return Outcome.SKIPPED
    if is_past(status, stage) or (status == Status.FAILED and not _retryable_here(record, stage)):
        return Outcome.SKIPPED
    if status not in (expected_before(stage), Status.FAILED):
        raise RuntimeError(f"document {doc_id} is {status}, not ready for {stage}: retry later")
    try:
        attributes = work(record, False)
    except BadInput as error:
        return _fail(services, doc_id, stage, str(error))
    except OutOfTime as error:  # recorded now, retried by the next delivery
        services.documents.fail(doc_id, stage, f"timed out in {stage.value}: {error}", {"error_kind": TIMED_OUT})
        raise
    return _advance(services, stage, doc_id, attributes, on_advanced, handoff) or Outcome.SKIPPED


def _run_on_carried(services: Services, stage: Stage, doc_id: str, work: Callable[[dict[str, Any], bool], dict[str, Any]],
                    record: dict[str, Any], on_advanced: Callable[[dict[str, Any]], None] | None,
                    handoff: dict[str, str] | None) -> Outcome | None:
    """The stage on the record its message carried; None when the record must be read to decide."""
    try:
        attributes = work({**record, "doc_id": doc_id}, True)
    except ObjectExists:  # an earlier attempt of this stage got as far as its objects
        return None
    except BadInput as error:
        if services.documents.fail_if_ready(doc_id, stage, str(error), {"error_kind": BAD_INPUT}):
            return Outcome.FAILED
        return None
    except OutOfTime as error:  # recorded if the document is still this stage's, retried by the next delivery
        services.documents.fail_if_ready(doc_id, stage, f"timed out in {stage.value}: {error}", {"error_kind": TIMED_OUT})
        raise
    return _advance(services, stage, doc_id, attributes, on_advanced, handoff)


def _advance(services: Services, stage: Stage, doc_id: str, attributes: dict[str, Any],
             on_advanced: Callable[[dict[str, Any]], None] | None, handoff: dict[str, str] | None) -> Outcome | None:
    record = services.documents.advance(doc_id, stage, attributes)
    if record is None:  # the document is elsewhere: a duplicate or stale delivery
        return None
    if on_advanced is not None:
        on_advanced(record)
    _hand_on(services, stage, doc_id, record, (handoff or {}).get("text"))
    return Outcome.ADVANCED


def _retryable_here(record: dict[str, Any], stage: Stage) -> bool:
    return record.get("failed_stage") == stage.value and record.get("error_kind") in RETRYABLE


def _hand_on(services: Services, stage: Stage, doc_id: str, record: dict[str, Any] | None = None,
             text: str | None = None) -> None:
    """The next stage's message, carrying the record as it now is and the text the stage reads when small
    enough (see ``document_message``)."""
    queue = services.next_queue(stage)
    if queue:
        services.queues.send(queue, document_message(doc_id, record, text))


def _fail(services: Services, doc_id: str, stage: Stage, reason: str) -> Outcome:
    services.documents.fail(doc_id, stage, reason, {"error_kind": BAD_INPUT})
    return Outcome.FAILED


@contextmanager
def final_attempt_marks_failed(services: Services, attempt: Attempt) -> Iterator[Attempt]:
    """On the last delivery attempt, any error marks the document FAILED before the message goes to the DLQ.

    A document not yet known (its bytes never read) gets a record under ``attempt.doc_id`` first.
    """
    try:
        yield attempt
    except Exception as error:
        if attempt.doc_id and attempt.receive_count >= services.settings.max_receive_count:
            reason = f"gave up after {attempt.receive_count} attempts: {error.__class__.__name__}: {error}"
            if attempt.source:
                services.documents.create(attempt.doc_id, attempt.source, attempt.attributes, attempt.received_at)
            services.documents.fail(attempt.doc_id, attempt.stage, reason, {"error_kind": GAVE_UP})
        raise


def mark_timed_out(services: Services, stage: Stage, doc_id: str, seconds: float) -> None:
    """Called by the handler's watchdog: the function is about to time out with this document in work."""
    services.documents.fail(doc_id, stage, f"timed out in {stage.value}: still running close to the function's timeout "
                            f"({seconds:.0f} s left when the document started)", {"error_kind": TIMED_OUT})
