"""The entity index on DynamoDB: for each canonical entity, the documents that mention it.

One table, three kinds of item (``pk``, ``sk``):

- ``ENTITY#<key>``, ``#SUMMARY``: type, display name, total mentions, documents, languages;
  the GSI ``by-type`` (entity_type, mention_count) ranks entities of a type;
- ``ENTITY#<key>``, ``DOC#<doc_id>``: mentions in that document, its language, the first sentence;
- ``ALIAS#<name>``, ``ENTITY#<key>``: a canonical name a search may use ("putin") -> the entity;
- ``INDEXED#<doc_id>``, ``CHUNK#<n>``: a document's entities counted in its n-th transaction (their keys).

Adding a document is idempotent: the summaries' increments go in TransactWriteItems (up to 99 entities
each) whose first action puts the document's chunk marker only if absent, so a redelivered document
changes no count; the ``DOC#`` postings and new aliases are plain puts (BatchWriteItem), idempotent.
Aliases are read before they are written (a read costs a fifth of a write), and not at all once this
process has seen or written them. Writes go through the low-level client with typed attribute values
(boto3's resource layer converts every value by walking the service model: a third of a write's time).
"""
from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from docingest.adapters.aws import client as default_client
from docingest.adapters.aws import put_items, resource
from docingest.stages.entity_keys import EntityMentions, search_names

SUMMARY = "#SUMMARY"
TYPE_INDEX = "by-type"
ENTITY_TYPES = ("PER", "ORG", "LOC", "MISC")
_ENTITIES_PER_TRANSACTION = 99  # one summary update each, after the chunk's marker: a transaction takes up to 100
_MAX_KNOWN_ALIASES = 200_000  # aliases remembered per process (about 30 MB at most)
_CONFLICT_RETRIES = 5  # a transaction cancelled by a concurrent one on the same summary is tried again


@dataclass(frozen=True)
class EntityDocument:
    key: str
    doc_id: str
    name: str
    mentions: int
    language: str | None
    first_sentence: str


class EntityIndex:
    def __init__(self, table_name: str, dynamodb=None, client=None):
        """``dynamodb``: a boto3 resource, for reading; ``client``: a low-level client on the same endpoint, for
        writing (both the process's own when not given)."""
        if dynamodb is not None and client is None:
            raise ValueError("EntityIndex: give the low-level client for the resource's endpoint too")
        self.table = (dynamodb or resource("dynamodb")).Table(table_name)
        self.client = client or default_client("dynamodb")
        # aliases this process has seen in the index or written: not read again while it lives (a warm
        # Lambda environment); one removed from the table meanwhile is written again by a new environment
        self._known_aliases: set[tuple[str, str]] = set()

    # writing ------------------------------------------------------------------------------

    def add_document(self, doc_id: str, language: str | None, entities: list[EntityMentions]) -> int:
        """Index a document's entities once; returns how many entities were newly counted."""
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        added, chunk, remaining = 0, 0, list(entities)
        while remaining:
            batch = remaining[:_ENTITIES_PER_TRANSACTION]
            if self._transact(self._chunk_actions(doc_id, chunk, language, batch, now)):
                added += len(batch)
                remaining, chunk = remaining[len(batch):], chunk + 1
                continue
            # the chunk's marker exists: counted by an earlier delivery (perhaps only some of these entities)
            counted, last = self._indexed(doc_id)
            if last < chunk:
                raise RuntimeError(f"entity index: marker {chunk} of {doc_id} exists but was not read: retry later")
            remaining, chunk = [e for e in remaining if e.key not in counted], last + 1
        self._put_postings_and_aliases(doc_id, language, entities, now)
        return added

    def _chunk_actions(self, doc_id: str, chunk: int, language: str | None, entities: list[EntityMentions],
                       now: str) -> list[dict[str, Any]]:
        """The marker of a document's ``chunk`` (only if absent), then the entities' summary increments."""
        marker = {"pk": _s(f"INDEXED#{doc_id}"), "sk": _s(f"CHUNK#{chunk}"), "doc_id": _s(doc_id),
                  "entity_keys": {"L": [_s(e.key) for e in entities]}, "indexed_at": _s(now)}
        return [{"Put": {"TableName": self.table.name, "Item": marker, "ConditionExpression": "attribute_not_exists(pk)"}},
                *(self._summary_update(e, language, now) for e in entities)]

    def _summary_update(self, entity: EntityMentions, language: str | None, now: str) -> dict[str, Any]:
        update_values: dict[str, Any] = {":m": _n(entity.mentions), ":one": _n(1), ":t": _s(entity.type),
                                         ":n": _s(entity.name), ":k": _s(entity.key), ":now": _s(now)}
        update = "ADD mention_count :m, document_count :one SET entity_type = :t, entity_key = :k, updated_at = :now, " \
                 "#name = if_not_exists(#name, :n)"
        if language:
            update = update.replace("document_count :one", "document_count :one, languages :langs")
            update_values[":langs"] = {"SS": [language]}
        return {"Update": {"TableName": self.table.name, "Key": {"pk": _s(f"ENTITY#{entity.key}"), "sk": _s(SUMMARY)},
                           "UpdateExpression": update, "ExpressionAttributeNames": {"#name": "name"},
                           "ExpressionAttributeValues": update_values}}

    def _indexed(self, doc_id: str) -> tuple[set[str], int]:
        """The entity keys a document's markers count, and its last chunk number (markers are numbered from 0)."""
        keys: set[str] = set()
        last, first = -1, 0
        while True:
            found = self._items([(f"INDEXED#{doc_id}", f"CHUNK#{n}") for n in range(first, first + 100)], "sk, entity_keys",
                                consistent=True)
            for item in found:
                keys.update(key["S"] for key in item.get("entity_keys", {}).get("L", []))
                last = max(last, int(item["sk"]["S"].removeprefix("CHUNK#")))
            if last < first + 99:
                return keys, last
            first += 100

    def _transact(self, actions: list[dict[str, Any]]) -> bool:
        """False when the transaction was cancelled by a condition (the marker); a conflict is tried again."""
        for attempt in range(_CONFLICT_RETRIES + 1):
            try:
                self.client.transact_write_items(TransactItems=actions)
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = {reason.get("Code") for reason in error.response.get("CancellationReasons") or []}
                if "ConditionalCheckFailed" in codes:
                    return False
                if not codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"} \
                        or attempt == _CONFLICT_RETRIES:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        return False

    def _put_postings_and_aliases(self, doc_id: str, language: str | None, entities: list[EntityMentions], now: str) -> None:
        """The document's ``DOC#`` postings and the aliases not in the index yet, in BatchWriteItems (plain puts)."""
        aliases = {(f"ALIAS#{alias}", f"ENTITY#{e.key}"): e for e in entities for alias in e.aliases}
        unknown = [key for key in aliases if key not in self._known_aliases]
        existing = self._existing(unknown) if unknown else set()
        items = []
        for entity in entities:
            item = {"pk": _s(f"ENTITY#{entity.key}"), "sk": _s(f"DOC#{doc_id}"), "doc_id": _s(doc_id),
                    "entity_key": _s(entity.key), "name": _s(entity.name), "mentions": _n(entity.mentions),
                    "first_sentence": _s(entity.first_sentence), "indexed_at": _s(now)}
            if language:
                item["language"] = _s(language)
            items.append(item)
        for (pk, sk) in unknown:
            if (pk, sk) not in existing:
                entity = aliases[(pk, sk)]
                items.append({"pk": _s(pk), "sk": _s(sk), "entity_key": _s(entity.key), "entity_type": _s(entity.type)})
        put_items(self.client, self.table.name, items, ("pk", "sk"))
        if len(self._known_aliases) > _MAX_KNOWN_ALIASES:
            self._known_aliases.clear()
        self._known_aliases.update(aliases)

    def _existing(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (pk, sk) items exist: a read is a fifth of a write's price, and most aliases exist already."""
        return {(item["pk"]["S"], item["sk"]["S"]) for item in self._items(keys, "pk, sk")}

    def _items(self, keys: list[tuple[str, str]], projection: str, consistent: bool = False) -> list[dict[str, Any]]:
        """The items of these (pk, sk) keys that exist (typed values), 100 per BatchGetItem."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self.table.name: {"Keys": [{"pk": _s(pk), "sk": _s(sk)} for pk, sk in keys[start:start + 100]],
                                         "ProjectionExpression": projection, "ConsistentRead": consistent}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(response["Responses"].get(self.table.name, []))
                request = response.get("UnprocessedKeys") or None
        return found

    # reading ------------------------------------------------------------------------------

    def top(self, entity_type: str | None = None, language: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The most mentioned entities, optionally of one type and mentioned in one language."""
        types = [entity_type] if entity_type else list(ENTITY_TYPES)
        found: list[dict[str, Any]] = []
        for kind in types:
            found.extend(self._top_of_type(kind, language, limit))
        found.sort(key=lambda item: (-int(item["mention_count"]), item["entity_key"]))
        return [_summary(item) for item in found[:limit]]

    def _top_of_type(self, kind: str, language: str | None, limit: int) -> Iterator[dict[str, Any]]:
        query: dict[str, Any] = {"IndexName": TYPE_INDEX, "KeyConditionExpression": Key("entity_type").eq(kind),
                                 "ScanIndexForward": False}
        if language:
            query["FilterExpression"] = Attr("languages").contains(language)
        returned = 0
        while returned < limit:
            page = self.table.query(**query)
            for item in page["Items"]:
                if returned < limit:
                    returned += 1
                    yield item
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def entity(self, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"ENTITY#{key}", "sk": SUMMARY}).get("Item")
        return _summary(item) if item else None

    def documents(self, key: str) -> list[EntityDocument]:
        items = self._query_all(Key("pk").eq(f"ENTITY#{key}") & Key("sk").begins_with("DOC#"))
        documents = [EntityDocument(key, item["doc_id"], item["name"], int(item["mentions"]), item.get("language"),
                                    item.get("first_sentence", "")) for item in items]
        return sorted(documents, key=lambda d: (-d.mentions, d.doc_id))

    def search(self, name: str) -> list[str]:
        """Keys of the entities a name may stand for: exact canonical names first, then aliases."""
        keys: list[str] = []
        for canonical in search_names(name):
            for kind in ENTITY_TYPES:
                if self.entity(f"{kind}:{canonical}"):
                    keys.append(f"{kind}:{canonical}")
            keys.extend(item["entity_key"] for item in self._query_all(Key("pk").eq(f"ALIAS#{canonical}")))
        return list(dict.fromkeys(keys))

    def _query_all(self, condition) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"KeyConditionExpression": condition}
        items: list[dict[str, Any]] = []
        while True:
            page = self.table.query(**query)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _s(text: str) -> dict[str, str]:
    return {"S": text}


def _n(number: int) -> dict[str, str]:
    return {"N": str(number)}


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item["entity_key"],
        "type": item["entity_type"],
        "name": item.get("name", ""),
        "mentions": int(item.get("mention_count", 0)),
        "documents": int(item.get("document_count", 0)),
        "languages": sorted(item.get("languages", set())),
    }
