"""Settings read once from environment variables (set by template.yaml or the local emulator)."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    document_table: str
    document_bucket: str
    source_line_table: str
    fetch_queue_url: str
    clean_queue_url: str
    detect_language_queue_url: str
    extract_entities_queue_url: str
    entity_index_table: str = ""
    entity_backend: str = "crf"
    max_receive_count: int = 3
    max_document_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    download_timeout: float = 30.0  # wall clock for a whole download, redirects included
    allow_private_urls: bool = False
    max_urls_per_list: int = 10_000
    max_url_list_depth: int = 3  # a URL list fetched from a URL list fetched from...
    max_html_elements: int = 100_000
    max_text_lines: int = 200_000
    max_entity_text_chars: int = 1_000_000  # entities come from this much of the clean text (documented truncation)
    max_entities: int = 10_000  # per document, the first ones kept
    time_margin_seconds: float = 5.0  # a document still in work this close to the function's timeout ends FAILED

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            document_table=env.get("DOCUMENT_TABLE", ""),
            document_bucket=env.get("DOCUMENT_BUCKET", ""),
            source_line_table=env.get("SOURCE_LINE_TABLE", ""),
            fetch_queue_url=env.get("FETCH_QUEUE_URL", ""),
            clean_queue_url=env.get("CLEAN_QUEUE_URL", ""),
            detect_language_queue_url=env.get("DETECT_LANGUAGE_QUEUE_URL", ""),
            extract_entities_queue_url=env.get("EXTRACT_ENTITIES_QUEUE_URL", ""),
            entity_index_table=env.get("ENTITY_INDEX_TABLE", ""),
            entity_backend=env.get("ENTITY_BACKEND", "crf"),
            max_receive_count=int(env.get("MAX_RECEIVE_COUNT", "3")),
            max_document_bytes=int(env.get("MAX_DOCUMENT_BYTES", str(10 * 1024 * 1024))),
            max_redirects=int(env.get("MAX_REDIRECTS", "5")),
            connect_timeout=float(env.get("CONNECT_TIMEOUT_SECONDS", "5")),
            read_timeout=float(env.get("READ_TIMEOUT_SECONDS", "10")),
            download_timeout=float(env.get("DOWNLOAD_TIMEOUT_SECONDS", "30")),
            allow_private_urls=_flag("ALLOW_PRIVATE_URLS"),
            max_urls_per_list=int(env.get("MAX_URLS_PER_LIST", "10000")),
            max_url_list_depth=int(env.get("MAX_URL_LIST_DEPTH", "3")),
            max_html_elements=int(env.get("MAX_HTML_ELEMENTS", "100000")),
            max_text_lines=int(env.get("MAX_TEXT_LINES", "200000")),
            max_entity_text_chars=int(env.get("MAX_ENTITY_TEXT_CHARS", "1000000")),
            max_entities=int(env.get("MAX_ENTITIES", "10000")),
            time_margin_seconds=float(env.get("TIME_MARGIN_SECONDS", "5")),
        )
